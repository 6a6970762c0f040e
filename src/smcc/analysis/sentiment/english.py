"""English: VADER stacked with a small word 1–2 gram ridge trained on human-rated tweets.

VADER 3.3.2 alone reaches Pearson r 0.872 against the human mean on `en_vader_tweets.tsv`; a ridge
over TF-IDF word 1–2 grams plus VADER's own parts (compound, its unsquashed valence sum, pos, neg)
and the emoji table lifts that to ≈ 0.89 on tweets it never saw (research/sentiment/RESULTS.md
§1; `smcc eval sentiment` measures the shipped model on its held-out rows). The model is trained
on about 80 % of that set (MIT, Hutto & Gilbert 2014); see models/NOTICE.
"""

from __future__ import annotations

import html
import math
import re
import threading
from typing import TYPE_CHECKING, Final

from smcc.analysis.sentiment.base import Scored, as_sentiment, label_for, scored
from smcc.analysis.sentiment.emoji import emoji_score
from smcc.analysis.sentiment.linear import MODELS_DIR, LinearTextModel, load_model
from smcc.models import Sentiment

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from smcc.analysis.sentiment.vader_fast import FastVader

MODEL_FILE: Final = "en_vader_ridge.json.gz"
NEUTRAL_BAND: Final = 0.05
"""|score| ≤ 0.05 is neutral: the VADER paper's convention, also used for the gold labels."""

# scikit-learn's default token pattern, which the ridge was trained with.
_TOKEN: Final = re.compile(r"\b\w\w+\b")
_VADER_LOCK = threading.Lock()
_VADER: SentimentIntensityAnalyzer | None = None
_FAST: FastVader | None = None


def vader() -> SentimentIntensityAnalyzer:
    """VADER's analyzer, built once per process (it reads its lexicon files)."""
    global _VADER
    if _VADER is None:
        with _VADER_LOCK:
            if _VADER is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                _VADER = SentimentIntensityAnalyzer()
    return _VADER


def fast_vader() -> FastVader:
    """VADER's scores by `vader_fast` (the same numbers, faster), built once per process."""
    global _FAST
    if _FAST is None:
        from smcc.analysis.sentiment.vader_fast import FastVader

        built = FastVader.from_package()
        with _VADER_LOCK:
            if _FAST is None:
                _FAST = built
    return _FAST


def _unsquash(compound: float, alpha: float = 15.0) -> float:
    """VADER's raw valence sum, undoing its normalisation compound = s / sqrt(s² + alpha)."""
    c = max(-0.9999, min(0.9999, compound))
    return c * math.sqrt(alpha / (1.0 - c * c))


def prepare(text: str) -> tuple[list[str], list[float]]:
    """The ridge's inputs: word tokens, and the dense features in DENSE_FEATURES order."""
    text = html.unescape(text) if "&" in text else text  # tweets keep &amp; and &lt;3
    compound, pos, neg = fast_vader().polarity(text)
    dense = [
        compound,
        math.tanh(_unsquash(compound) / 4.0),
        pos,
        neg,
        math.tanh(emoji_score(text)[0]),
    ]
    return _TOKEN.findall(text.lower()), dense


DENSE_FEATURES: Final = ("vader_compound", "vader_sum", "vader_pos", "vader_neg", "emoji")


class EnglishAnalyzer:
    name = "vader+ridge-en/1"

    def __init__(self, model: LinearTextModel | None = None) -> None:
        self.model = model or load_model(MODELS_DIR / MODEL_FILE)
        self.name = self.model.name

    def score(self, text: str) -> float:
        tokens, dense = prepare(text)
        return self.model.decision(tokens, dense=dense)[0]

    def scored(self, text: str) -> Scored:
        score = self.score(text)
        return scored(score, label_for(score, -NEUTRAL_BAND, NEUTRAL_BAND), self.name)

    def analyse(self, text: str) -> Sentiment:
        return as_sentiment(self.scored(text))


class VaderAnalyzer:
    """Plain VADER compound with the same neutral band: the reference in `smcc eval`."""

    name = "vader-3.3.2"

    def scored(self, text: str) -> Scored:
        score = vader().polarity_scores(text)["compound"]
        return scored(score, label_for(score, -NEUTRAL_BAND, NEUTRAL_BAND), self.name)

    def analyse(self, text: str) -> Sentiment:
        return as_sentiment(self.scored(text))
