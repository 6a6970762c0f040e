"""What every sentiment analyzer shares: the protocol, the labels, and the "unknown" answer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal, Protocol, TypeAlias

from smcc.models import Sentiment

__all__ = [
    "LABELS",
    "UNKNOWN",
    "UNKNOWN_SCORED",
    "Label",
    "Scored",
    "SentimentAnalyzer",
    "as_sentiment",
    "clamp",
    "decision_scored",
    "from_decisions",
    "label_for",
    "scored",
    "sentiment",
    "unknown",
]

Label = Literal["negative", "neutral", "positive"]
LABELS: Final[tuple[Label, Label, Label]] = ("negative", "neutral", "positive")
"""The three labels every analyzer answers, in the order the shipped models store classes."""

UNKNOWN: Final = Sentiment(score=None, label="unknown", analyzer="")
"""A language without an analyzer: no score at all, never a fake neutral 0 (compare only;
`unknown()` gives each mention its own copy)."""


Scored: TypeAlias = tuple[float | None, Literal["negative", "neutral", "positive", "unknown"], str]
"""A sentiment as plain values: score, label, analyzer. The analyse stage runs on these (a
pydantic Sentiment per mention costs ≈ 1.5 µs, and the stage sends tuples between processes)."""

UNKNOWN_SCORED: Final[Scored] = (None, "unknown", "")


def unknown() -> Sentiment:
    return Sentiment(score=None, label="unknown", analyzer="")


def as_sentiment(values: Scored) -> Sentiment:
    score, label, analyzer = values
    return Sentiment(score=score, label=label, analyzer=analyzer)


class SentimentAnalyzer(Protocol):
    """One language's analyzer. `scored` and `analyse` never raise on odd text (empty, emoji
    only …); `analyse(text)` is `as_sentiment(scored(text))`."""

    name: str
    """Stable id of the analyzer and its model version, stored with every score."""

    def scored(self, text: str) -> Scored: ...

    def analyse(self, text: str) -> Sentiment: ...


def clamp(score: float) -> float:
    return -1.0 if score < -1.0 else 1.0 if score > 1.0 else score


def label_for(score: float, negative_below: float, positive_above: float) -> Label:
    if score > positive_above:
        return "positive"
    if score < negative_below:
        return "negative"
    return "neutral"


def scored(score: float, label: Label, analyzer: str) -> Scored:
    """The score clamped to [-1, 1] and rounded, with its label and analyzer."""
    return round(clamp(score), 4), label, analyzer


def sentiment(score: float, label: Label, analyzer: str) -> Sentiment:
    """A Sentiment with the score clamped to [-1, 1] and rounded (validation costs < 1 µs,
    less than pydantic's `model_construct`)."""
    return as_sentiment(scored(score, label, analyzer))


def from_decisions(decisions: Sequence[float], analyzer: str) -> Sentiment:
    """`decision_scored` as a Sentiment."""
    return as_sentiment(decision_scored(decisions, analyzer))


def decision_scored(decisions: Sequence[float], analyzer: str) -> Scored:
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
    return scored(score, label, analyzer)
