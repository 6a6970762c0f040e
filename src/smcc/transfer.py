"""Export and import of mentions (the library under `smcc export` and `smcc import`).

JSONL is the lossless format: one `Mention` per line as the model dumps it; `smcc import` and the
`replay` source read it back. CSV is for spreadsheets: flat columns, no raw payload.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from smcc.models import Mention
from smcc.pipeline import normalise
from smcc.sources.replay import BadLine, read_jsonl
from smcc.store import MentionFilter, Store, ts

CSV_COLUMNS = (
    "id",
    "source",
    "external_id",
    "created_at",
    "received_at",
    "author_handle",
    "author_name",
    "followers",
    "verified",
    "text",
    "language",
    "sentiment",
    "sentiment_label",
    "analyzer",
    "brand",
    "tier",
    "department",
    "sla_due",
    "tags",
    "rule",
    "status",
    "reply_to_id",
    "conversation_id",
    "likes",
    "reposts",
    "replies",
    "url",
)


def _csv_row(m: Mention) -> list[object]:
    t = m.triage
    return [
        m.id,
        m.source,
        m.external_id,
        ts(m.created_at),
        ts(m.received_at),
        m.author.handle,
        m.author.display_name,
        m.author.followers,
        int(m.author.verified),
        m.text,
        m.language or "",
        "" if m.sentiment.score is None else m.sentiment.score,
        m.sentiment.label,
        m.sentiment.analyzer,
        m.brand or "",
        t.tier if t else "",
        t.department if t else "",
        ts(t.sla_due) if t and t.sla_due else "",
        " ".join(t.tags) if t else "",
        t.rule if t else "",
        m.status.value,
        m.reply_to_id or "",
        m.conversation_id or "",
        m.engagement.likes,
        m.engagement.reposts,
        m.engagement.replies,
        m.url,
    ]


def export_mentions(store: Store, where: MentionFilter, fmt: str, out: IO[str]) -> int:
    """Write the mentions matching `where` to `out` as 'jsonl' or 'csv'; return how many."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for mention in store.iter_mentions(where):
            writer.writerow(_csv_row(mention))
            count += 1
    elif fmt == "jsonl":
        for mention in store.iter_mentions(where):
            out.write(mention.model_dump_json())
            out.write("\n")
            count += 1
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return count


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    bad: list[BadLine] = field(default_factory=list)


def import_jsonl(
    store: Store,
    path: Path,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Store every valid line of `path`; bad lines are collected, never fatal.

    Each batch is its own transaction, so an interrupted import keeps what it stored, and running
    it again skips what is already there (same source + external id).
    """
    result = ImportResult()
    batch: list[Mention] = []

    def flush() -> None:
        normalise(batch)
        stored = store.insert_batch(batch)
        result.imported += stored.inserted
        result.duplicates += stored.duplicates
        batch.clear()

    for number, item in read_jsonl(path):
        if isinstance(item, BadLine):
            result.bad.append(item)
        else:
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
        if progress is not None:
            progress(number)
    if batch:
        flush()
    return result


def dumps_stats(stats: dict[str, object]) -> str:
    return json.dumps(stats, ensure_ascii=False, indent=2)
