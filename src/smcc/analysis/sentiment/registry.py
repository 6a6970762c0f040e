"""Which analyzer reads which language; built lazily, once per process, on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Final

from smcc.analysis.language import clean_for_detection
from smcc.analysis.sentiment.base import (
    UNKNOWN_SCORED,
    Scored,
    SentimentAnalyzer,
    as_sentiment,
    label_for,
    scored,
)
from smcc.analysis.sentiment.emoji import emoji_score
from smcc.models import Sentiment


def _english() -> SentimentAnalyzer:
    from smcc.analysis.sentiment.english import EnglishAnalyzer

    return EnglishAnalyzer()


def _indonesian() -> SentimentAnalyzer:
    from smcc.analysis.sentiment.indonesian import IndonesianAnalyzer

    return IndonesianAnalyzer()


def _russian() -> SentimentAnalyzer:
    from smcc.analysis.sentiment.russian import RussianAnalyzer

    return RussianAnalyzer()


def _dutch() -> SentimentAnalyzer:
    from smcc.analysis.sentiment.dutch import DutchAnalyzer

    return DutchAnalyzer()


FACTORIES: Final[dict[str, Callable[[], SentimentAnalyzer]]] = {
    "en": _english,
    "id": _indonesian,
    "ru": _russian,
    "nl": _dutch,
}
"""ISO 639-1 code → how to build its analyzer. Any other language is "unknown"."""

_LOCK = threading.Lock()
_SHARED: dict[str, SentimentAnalyzer] = {}


def analyzer_for(language: str) -> SentimentAnalyzer | None:
    """The process-wide analyzer of `language` (models are read-only once loaded), or None."""
    found = _SHARED.get(language)
    if found is None and language in FACTORIES:
        with _LOCK:
            found = _SHARED.get(language)
            if found is None:
                found = _SHARED[language] = FACTORIES[language]()
    return found


EMOJI_ONLY: Final = "emoji/1"


def emoji_only(text: str) -> Sentiment:
    """`emoji_only_scored` as a Sentiment."""
    return as_sentiment(emoji_only_scored(text))


def emoji_only_scored(text: str) -> Scored:
    """A post without words (emoji, emoticons, links, handles): its emoji are all it says, and
    they mean the same in every language. A post with words in a language we cannot read, or
    with no emoji, is "unknown": its emoji alone would not be the truth about it."""
    total, hits = emoji_score(text)
    if not hits or any(c.isalpha() for c in clean_for_detection(text)):
        return UNKNOWN_SCORED
    score = total / (abs(total) + 0.5)
    return scored(score, label_for(score, -0.05, 0.05), EMOJI_ONLY)


class SentimentRouter:
    """Sends each text to the analyzer of its language; a language without one gets UNKNOWN."""

    def __init__(self) -> None:
        self._analyzers: dict[str, SentimentAnalyzer | None] = {}

    def load(self, languages: Iterable[str]) -> None:
        """Load the analyzers of `languages` now rather than on the first mention."""
        for language in languages:
            self._get(language)

    def _get(self, language: str) -> SentimentAnalyzer | None:
        try:
            return self._analyzers[language]
        except KeyError:
            found = self._analyzers[language] = analyzer_for(language)
            return found

    def analyse(self, text: str, language: str | None) -> Sentiment:
        return as_sentiment(self.scored(text, language))

    def scored(self, text: str, language: str | None) -> Scored:
        """`analyse` as plain values (what the analyse stage stores)."""
        if language is None:
            return emoji_only_scored(text)
        try:
            analyzer = self._analyzers[language]
        except KeyError:
            analyzer = self._get(language)
        return UNKNOWN_SCORED if analyzer is None else analyzer.scored(text)
