"""Russian: logistic regression on OpenSentimentCorpus plus a hand lexicon and the emoji table.

The only labelled Russian set with a licence that allows shipping a model is OpenSentimentCorpus
(news prose, CC BY-SA 3.0 — the model file carries that licence, see models/LICENSE-ru_osc);
RuSentiTweet is evaluation only. Trained on news, a classifier reads tweets poorly, so the
lexicon's score is added to the positive (and taken from the negative) decision with a weight
fixed a priori at 1, never tuned on tweets. Features: word 1–2 grams, character n-grams inside
words, and the lexicon's pseudo-tokens (research/sentiment/RESULTS.md §3).
"""

from __future__ import annotations

from typing import Final

from smcc.analysis.sentiment.base import Scored, as_sentiment, decision_scored
from smcc.analysis.sentiment.linear import MODELS_DIR, LinearTextModel, load_model
from smcc.analysis.sentiment.ru_lexicon import lexicon_evidence
from smcc.analysis.sentiment.textnorm import normalise_social
from smcc.models import Sentiment

MODEL_FILE: Final = "ru_osc.json.gz"
LEXICON_WEIGHT: Final = 1.0


def features(text: str) -> tuple[list[str], list[str], float]:
    """Tokens, lexicon pseudo-tokens and lexicon score of a post (as at training time)."""
    normalised = normalise_social(text)
    score, pseudo = lexicon_evidence(normalised)
    return normalised.split(), pseudo, score


class RussianAnalyzer:
    name = "logreg-ru-osc+lex/1"

    def __init__(self, model: LinearTextModel | None = None) -> None:
        self.model = model or load_model(MODELS_DIR / MODEL_FILE)
        self.name = self.model.name

    def decisions(self, text: str) -> list[float]:
        tokens, pseudo, lexicon = features(text)
        decisions = self.model.decision(tokens, pseudo)
        decisions[0] -= LEXICON_WEIGHT * lexicon
        decisions[2] += LEXICON_WEIGHT * lexicon
        return decisions

    def scored(self, text: str) -> Scored:
        return decision_scored(self.decisions(text), self.name)

    def analyse(self, text: str) -> Sentiment:
        return as_sentiment(self.scored(text))
