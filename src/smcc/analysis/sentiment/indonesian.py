"""Indonesian: a linear SVM over word 1–3 grams, trained on IndoNLU SmSA (Apache-2.0).

Chosen by 5-fold CV on SmSA train among logistic regression, linear SVMs and naive Bayes, word and
character n-grams (research/sentiment/RESULTS.md §2); 20,000 features. Posts are normalised to look
like SmSA (`normalise_social`); whether the slang table helps is decided by CV on train when the
model is trained, and the file records the decision. Emoji (rare in SmSA, common in posts) add
the table's polarity to the positive and subtract it from the negative decision, weight fixed
a priori at 1.
"""

from __future__ import annotations

from typing import Final

from smcc.analysis.sentiment.base import Scored, as_sentiment, decision_scored
from smcc.analysis.sentiment.emoji import emoji_polarity
from smcc.analysis.sentiment.linear import MODELS_DIR, LinearTextModel, load_model
from smcc.analysis.sentiment.textnorm import SLANG_ID, normalise_social, replace_slang
from smcc.models import Sentiment

MODEL_FILE: Final = "id_smsa.json.gz"
EMOJI_WEIGHT: Final = 1.0


def tokens(text: str, slang: bool) -> list[str]:
    words = normalise_social(text).split()
    return replace_slang(words, SLANG_ID) if slang else words


class IndonesianAnalyzer:
    name = "svm-id-smsa/1"

    def __init__(self, model: LinearTextModel | None = None) -> None:
        self.model = model or load_model(MODELS_DIR / MODEL_FILE)
        self.name = self.model.name
        self.slang = bool(self.model.meta.get("slang", False))

    def decisions(self, text: str) -> list[float]:
        decisions = self.model.decision(tokens(text, self.slang))
        emoji = emoji_polarity(text)
        if emoji:
            decisions[0] -= EMOJI_WEIGHT * emoji
            decisions[2] += EMOJI_WEIGHT * emoji
        return decisions

    def scored(self, text: str) -> Scored:
        return decision_scored(self.decisions(text), self.name)

    def analyse(self, text: str) -> Sentiment:
        return as_sentiment(self.scored(text))
