"""Routing accuracy of a rule set on labelled customer queries (BANKING77 and its departments).

The data folder holds `banking77_train.csv` (`text,category`) and `banking77_departments.json`
(`intent_to_department`). Every query is triaged as an English mention by the rules of the config,
and the department it gets is compared with the department of its intent.

Hold-out: a query belongs to the *held-out* part when the first byte of the SHA-256 of its text
(UTF-8) is below 52 (≈ 20 %); the rest is the *development* part. The split depends on nothing but
the text, so it is the same on every machine and in every run; rules are written by reading the
development part only, and the held-out accuracy is the honest figure.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from smcc.models import Author, Mention
from smcc.rules.engine import RuleEngine

Split = Literal["heldout", "dev", "all"]
HELD_OUT_BELOW = 52
"""First SHA-256 byte below this → held out (52/256 ≈ 20.3 %)."""
_WHEN = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


class EvalDataError(Exception):
    """The data folder is missing or unreadable; the message says which file and what to do."""


@dataclass(frozen=True)
class Query:
    text: str
    intent: str
    department: str


def held_out(text: str) -> bool:
    return hashlib.sha256(text.encode("utf-8")).digest()[0] < HELD_OUT_BELOW


def load_queries(folder: Path, split: Split = "heldout") -> list[Query]:
    csv_path = folder / "banking77_train.csv"
    map_path = folder / "banking77_departments.json"
    try:
        mapping = json.loads(map_path.read_text(encoding="utf-8"))["intent_to_department"]
        with csv_path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise EvalDataError(
            f"{exc.filename}: not found; pass --data with the folder of banking77_train.csv"
        ) from None
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{folder}: cannot read the routing data ({exc})") from None
    queries = []
    for row in rows:
        text, intent = row.get("text"), row.get("category")
        if not text or not intent or intent not in mapping:
            raise EvalDataError(f"{csv_path}: a row without a known text and category: {row!r}")
        if split == "all" or (split == "heldout") == held_out(text):
            queries.append(Query(text, intent, mapping[intent]))
    return queries


@dataclass
class EvalResult:
    total: int = 0
    correct: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(expected, predicted) → count."""
    fraud_total: int = 0
    """Queries whose intent belongs to the fraud department."""
    fraud_tier1: int = 0
    """... of which the rules routed to fraud at tier 1 (fraud recall: the figure that matters)."""
    errors: list[tuple[Query, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def fraud_recall(self) -> float | None:
        return self.fraud_tier1 / self.fraud_total if self.fraud_total else None

    def departments(self) -> list[str]:
        names = {e for e, _ in self.confusion} | {p for _, p in self.confusion}
        return sorted(names)

    def per_department(self) -> dict[str, tuple[int, int]]:
        """Department → (correct, total) among queries that belong there."""
        out: dict[str, tuple[int, int]] = {}
        for (expected, predicted), count in self.confusion.items():
            right, total = out.get(expected, (0, 0))
            out[expected] = (right + (count if expected == predicted else 0), total + count)
        return dict(sorted(out.items()))


def query_mention(text: str, number: int = 0) -> Mention:
    return Mention(
        source="eval",
        external_id=str(number),
        author=Author(handle="customer"),
        text=text,
        language="en",
        created_at=_WHEN,
        is_question=text.rstrip().endswith("?"),
    )


def evaluate(engine: RuleEngine, queries: Iterable[Query]) -> EvalResult:
    result = EvalResult()
    for number, query in enumerate(queries):
        triage, _ = engine.decide(query_mention(query.text, number))
        result.total += 1
        result.confusion[(query.department, triage.department)] += 1
        if triage.department == query.department:
            result.correct += 1
        else:
            result.errors.append((query, triage.department))
        if query.department == "fraud":
            result.fraud_total += 1
            result.fraud_tier1 += triage.tier == 1 and triage.department == "fraud"
    return result
