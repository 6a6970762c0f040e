"""Row types and SQL for the console's store operations: queues, the feed, claims, triage changes.

Kept apart from `store.py` so the Store's console block stays short; every statement still runs
through a Store (all SQL lives in `smcc.store`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from smcc.models import Status

OPEN_STATUSES: tuple[Status, ...] = (Status.NEW, Status.CLAIMED, Status.ESCALATED)
"""Statuses that keep a mention in a queue: someone still has to act on it."""

OPEN_CONDITION = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_STATUSES))
"""The open statuses written out (constants of the code, never input): a partial index with
the same WHERE can serve the queues only when the query names the values literally — SQLite
cannot match bound parameters against an index's WHERE (see bench/console.py)."""

TEXT_PREVIEW = 280
"""Characters of text a queue or feed row carries; the detail pane reads the whole mention."""

ITEM_COLUMNS = (
    "id, source, tier, department, sla_due, created_at, status, claimed_by, author_handle, "
    f"author_name, substr(text, 1, {TEXT_PREVIEW}) AS text, brand, language, sentiment, "
    "sentiment_label"
)


@dataclass(frozen=True, slots=True)
class QueueItem:
    """What a queue or feed row shows: a few columns, not the whole mention."""

    id: int
    source: str
    tier: int | None
    department: str
    sla_due: datetime | None
    created_at: datetime
    status: Status
    claimed_by: str | None
    author_handle: str
    author_name: str
    text: str
    brand: str | None
    language: str | None
    sentiment: float | None
    sentiment_label: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> QueueItem:
        due = row["sla_due"]
        return cls(
            id=row["id"],
            source=row["source"],
            tier=row["tier"],
            department=row["department"] or "",
            sla_due=datetime.fromisoformat(due) if due else None,
            created_at=datetime.fromisoformat(row["created_at"]),
            status=Status(row["status"]),
            claimed_by=row["claimed_by"],
            author_handle=row["author_handle"],
            author_name=row["author_name"],
            text=row["text"],
            brand=row["brand"],
            language=row["language"],
            sentiment=row["sentiment"],
            sentiment_label=row["sentiment_label"],
        )


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of an operator's action on a mention.

    `ok` is False when the action was refused; `reason` then says why in words for the operator,
    and `claimed_by` names the operator who holds the mention when that was the obstacle.
    """

    ok: bool
    mention_id: int
    status: Status | None = None
    claimed_by: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RollupMinute:
    """One minute of one series (a brand or a source), summed over the rest of the rollup key."""

    key: str
    minute: datetime
    count: int
    sentiment_sum: float
    sentiment_n: int
