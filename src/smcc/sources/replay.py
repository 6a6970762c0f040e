"""The `replay` source: a JSONL file written by `smcc export --format jsonl`, played back.

Played at the original pace (the gaps between `created_at` times) divided by `speed`, or as fast as
possible with speed 0. Replayed mentions are re-timed to now and carry this source's name, so the
console shows them as live; the original time and source are kept in `raw["replay_created_at"]`
and `raw["replay_source"]`. The cursor is the number of the last line
handed on, so a restart resumes after it. Bad lines are reported (file:line: problem) in the
source's health and skipped; they never stop the replay.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from smcc.config import ReplaySourceConfig
from smcc.models import Mention, utcnow
from smcc.sources.base import Check, CheckStatus, Fetched, HealthState, Source, SourceError

PAGE = 256


@dataclass(frozen=True)
class BadLine:
    line: int
    problem: str

    def format(self, path: Path | str) -> str:
        return f"{path}:{self.line}: {self.problem}"


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem of a pydantic error as `field: message`, on one line."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "line"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def read_jsonl(path: Path, start_line: int = 1) -> Iterator[tuple[int, Mention | BadLine]]:
    """(line number, Mention or BadLine) for each non-blank line from `start_line` on."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise SourceError(f"{path}: cannot open ({exc.strerror})", fatal=True) from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if number < start_line or not raw.strip():
                continue
            try:
                text = raw.rstrip(b"\r\n").decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, BadLine(number, f"not UTF-8 (byte {exc.start})")
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, BadLine(number, f"not JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(data, dict):
                yield number, BadLine(number, "not a JSON object")
                continue
            data.pop("id", None)  # store ids belong to the database the file came from
            try:
                yield number, Mention.model_validate(data)
            except ValidationError as exc:
                yield number, BadLine(number, describe_validation_error(exc))


class ReplaySource(Source):
    type = "replay"

    def __init__(self, name: str, config: ReplaySourceConfig, *, limit: int | None = None) -> None:
        super().__init__(name)
        self.path = config.path
        self.speed = config.speed
        self.limit = limit
        self.bad_lines: list[BadLine] = []

    async def check(self) -> list[Check]:
        """The file can be opened (its lines are checked as they are played)."""
        try:
            with self.path.open("rb") as handle:
                handle.read(1)
        except OSError as exc:
            return [
                Check(
                    "file",
                    CheckStatus.FAIL,
                    f"{self.path}: cannot open ({exc.strerror})",
                    "check `path`; write one with `smcc export --format jsonl`",
                )
            ]
        return [Check("file", CheckStatus.OK, f"{self.path} readable")]

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        start = int(cursor) + 1 if cursor and cursor.isdigit() else 1
        self.health.set(HealthState.CONNECTED)
        page: list[Mention] = []
        last_line = start - 1
        previous: datetime | None = None
        emitted = 0
        for number, item in read_jsonl(self.path, start):
            last_line = number
            if isinstance(item, BadLine):
                self.bad_lines.append(item)
                self.health.warn(item.format(self.path))
                continue
            if self.speed > 0 and previous is not None:
                # At a finite speed every mention is yielded as it comes, so nothing is pending.
                gap = (item.created_at - previous).total_seconds() / self.speed
                if gap > 0:
                    await asyncio.sleep(min(gap, 3600.0))
            previous = item.created_at
            now = utcnow()
            item.raw = {
                **item.raw,
                "replay_source": item.source,
                "replay_created_at": item.created_at.isoformat(),
            }
            item.source = self.name
            item.created_at = item.received_at = now
            page.append(item)
            emitted += 1
            self.health.fetched += 1
            if len(page) >= PAGE or self.speed > 0:
                yield Fetched(page, str(number))
                page = []
                await asyncio.sleep(0)
            if self.limit is not None and emitted >= self.limit:
                break
        if page or last_line >= start:
            yield Fetched(page, str(last_line))
        self.health.set(HealthState.FINISHED)
