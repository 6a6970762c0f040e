"""What every sentiment analyzer shares: the protocol, the labels, and the "unknown" answer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal, Protocol

from smcc.models import Sentiment

__all__ = [
    "LABELS",
    "UNKNOWN",
    "Label",
    "SentimentAnalyzer",
    "clamp",
    "from_decisions",
    "label_for",
    "sentiment",
    "unknown",
]

Label = Literal["negative", "neutral", "positive"]
LABELS: Final[tuple[Label, Label, Label]] = ("negative", "neutral", "positive")
"""The three labels every analyzer answers, in the order the shipped models store classes."""

UNKNOWN: Final = Sentiment(score=None, label="unknown", analyzer="")
"""A language without an analyzer: no score at all, never a fake neutral 0 (compare only;
`unknown()` gives each mention its own copy)."""


def unknown() -> Sentiment:
    return Sentiment(score=None, label="unknown", analyzer="")


class SentimentAnalyzer(Protocol):
    """One language's analyzer. `analyse` never raises on odd text (empty, emoji only …)."""

    name: str
    """Stable id of the analyzer and its model version, stored with every score."""

    def analyse(self, text: str) -> Sentiment: ...


def clamp(score: float) -> float:
    return -1.0 if score < -1.0 else 1.0 if score > 1.0 else score


def label_for(score: float, negative_below: float, positive_above: float) -> Label:
    if score > positive_above:
        return "positive"
    if score < negative_below:
        return "negative"
    return "neutral"


def sentiment(score: float, label: Label, analyzer: str) -> Sentiment:
    """A Sentiment with the score clamped to [-1, 1] and rounded (validation costs < 1 µs,
    less than pydantic's `model_construct`)."""
    return Sentiment(score=round(clamp(score), 4), label=label, analyzer=analyzer)


def from_decisions(decisions: Sequence[float], analyzer: str) -> Sentiment:
    """Sentiment from a 3-class decision vector (negative, neutral, positive).

    The label is the arg-max; the score is p(positive) − p(negative) under a softmax of the
    decisions, so it lies in [-1, 1], has the label's sign, and stays near 0 for neutral texts.
    """
    neg, neu, pos = decisions
    top = max(neg, neu, pos)
    e_neg, e_neu, e_pos = math.exp(neg - top), math.exp(neu - top), math.exp(pos - top)
    score = (e_pos - e_neg) / (e_neg + e_neu + e_pos)
    label: Label
    if pos >= neu and pos > neg:
        label = "positive"
    elif neg > neu and neg >= pos:
        label = "negative"
    else:
        label = "neutral"
    return sentiment(score, label, analyzer)
