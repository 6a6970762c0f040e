"""The analyse stage of the pipeline: brand, language, sentiment, question and influence.

Language detection and sentiment run once per mention, in the analyse process (`offload.py`) or
the pipeline's worker thread, never on the UI thread. A mention in a language without a sentiment
analyzer (or in no language) stays "unknown" with no score — never a fake neutral 0.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

from smcc.analysis.brands import BrandTagger
from smcc.analysis.language import LanguageDetector
from smcc.analysis.sentiment import SentimentRouter
from smcc.analysis.signals import influence, is_question
from smcc.config import Brand
from smcc.models import Mention, Sentiment

Result: TypeAlias = tuple[
    str | None,
    str | None,
    float | None,
    float | None,
    Literal["negative", "neutral", "positive", "unknown"],
    str,
    bool,
]
"""What the analyse stage finds in one text, as plain values (cheap to send to another process):
brand, language, language confidence, sentiment score, label and analyzer, is it a question."""


def language_confidence(language: str | None, confidence: float) -> float | None:
    """The confidence worth storing: only when a language was answered (else None, not 0.0)."""
    return confidence if language is not None else None


class MentionAnalyzer:
    """Implements the pipeline's Analyzer protocol; safe to call from one worker thread."""

    def __init__(
        self,
        languages: Sequence[str],
        brands: Sequence[Brand] = (),
        competitors: Sequence[Brand] = (),
        *,
        detector: LanguageDetector | None = None,
    ) -> None:
        self.detector = detector or LanguageDetector(languages)
        self.brands = BrandTagger(brands, competitors)
        self.sentiment = SentimentRouter()

    def analyse(self, batch: list[Mention]) -> None:
        apply_results(batch, self.results([m.text for m in batch], [m.brand for m in batch]))

    def results(self, texts: Sequence[str], brands: Sequence[str | None]) -> list[Result]:
        """The text-only part of the stage (all but influence), for texts whose brand is known
        or None; the same answers whichever process runs it."""
        tag = self.brands.tag
        # Every mention is identified, also when the platform sent a language: platform hints
        # are often wrong on short posts and the confidence must mean the same for every source.
        detected = self.detector.detect_many(texts)
        sentiment = self.sentiment.scored
        out: list[Result] = []
        for text, brand, (language, confidence) in zip(texts, brands, detected, strict=True):
            score, label, name = sentiment(text, language)
            out.append(
                (
                    tag(text) if brand is None else brand,
                    language,
                    language_confidence(language, confidence),
                    score,
                    label,
                    name,
                    is_question(text),
                )
            )
        return out


def apply_results(batch: Sequence[Mention], results: Sequence[Result]) -> None:
    """Store `results` (from `MentionAnalyzer.results`, in order) in the mentions, and their
    influence."""
    for mention, result in zip(batch, results, strict=True):
        brand, language, confidence, score, label, name, question = result
        mention.brand = brand
        mention.language = language
        mention.lang_confidence = confidence
        mention.sentiment = Sentiment(score=score, label=label, analyzer=name)
        mention.is_question = question
        mention.influence = influence(mention.author, mention.engagement)


def analyze_line(raw: bytes, analyzer: MentionAnalyzer) -> dict[str, Any]:
    """One line of `smcc analyze` input → its JSON result; odd lines give an `error`, never raise.

    A line is a plain text, or a JSON object with a `text` field (other fields are echoed back
    under `input` so that scripts can match results to their records).
    """
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        return {"error": f"not UTF-8 (byte {exc.start})"}
    record: dict[str, Any] | None = None
    text = line
    if line.lstrip().startswith("{"):
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError as exc:
            return {"error": f"not JSON: {exc.msg} (column {exc.colno})"}
        if not isinstance(parsed, dict) or not isinstance(parsed.get("text"), str):
            return {"error": "a JSON line needs a string field 'text'"}
        record, text = parsed, parsed["text"]
    if not text.strip():
        return {"error": "empty text"}
    language, confidence = analyzer.detector.detect(text)
    stored = language_confidence(language, confidence)
    sentiment = analyzer.sentiment.analyse(text, language)
    result: dict[str, Any] = {
        "lang": language,
        "lang_confidence": round(stored, 4) if stored is not None else None,
        "sentiment": sentiment.score,
        "label": sentiment.label,
        "analyzer": sentiment.analyzer,
        "is_question": is_question(text),
    }
    if record is not None:
        result["input"] = {k: v for k, v in record.items() if k != "text"}
    return result
