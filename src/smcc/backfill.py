"""`smcc backfill`: a source's history through the same pipeline as live ingest.

The source's :meth:`~smcc.sources.base.Source.backfill` pages are wrapped as a finite stream whose
batches carry **no cursor**, so the pipeline stores the mentions (normalised, deduplicated,
analysed, triaged, with their term counts) but never writes the source's live cursor: a backfill
moves it neither backwards nor forwards.

Reruns are harmless: the store keeps one row per (source, external id), so history fetched twice
is counted as duplicates. Within one run a fault (429, 5xx, a dropped connection) backs off as in
live ingest and the stream restarts, skipping the timelines it has already finished.

No ingest lease is taken. The lease makes one process the live ingester and sender, the one that
moves cursors and posts replies; a backfill does neither, and the store's unique key and SQLite's
single writer make it safe beside a running `smcc ingest`. Spike and crisis detection (the lease
holder's job) is not run: history must not raise live alerts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from smcc.config import Config
from smcc.ingest import IngestRun, prepare
from smcc.models import Mention
from smcc.sources.base import Fetched, HealthState, HistoryPage, Source, SourceError
from smcc.store import Store

MAX_ATTEMPTS = 6
"""Failed attempts in a row (with the pipeline's backoff between them) before a backfill gives
up: about half a minute, or longer when the server asks for a longer wait."""


@dataclass
class TimelineProgress:
    """How far back one timeline has been read."""

    fetched: int = 0
    kept: int = 0
    """Mentions inside the window, handed to the pipeline."""
    oldest: datetime | None = None
    done: bool = False


class BackfillSource(Source):
    """`inner`'s history between `since` and `until` as a stream the pipeline can run."""

    type: ClassVar[str] = "backfill"

    def __init__(self, inner: Source, since: datetime, until: datetime) -> None:
        super().__init__(inner.name)
        self.inner = inner
        self.since = since
        self.until = until
        self.health = inner.health
        self.timelines: dict[str, TimelineProgress] = {}
        self.failures = 0
        """Attempts in a row that failed before a page came."""

    def _finished(self) -> Collection[str]:
        return frozenset(k for k, p in self.timelines.items() if p.done)

    def _window(self, mentions: list[Mention]) -> list[Mention]:
        return [m for m in mentions if self.since <= m.created_at <= self.until]

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        # `cursor` is the live one: history neither reads nor moves it.
        self.health.set(HealthState.CONNECTED)
        try:
            async for fetched in self._pages():
                self.failures = 0
                yield fetched
        except SourceError as exc:
            # Live ingest retries forever; a backfill is a command that must end. A fault that
            # persists (a 404, a server down for minutes) ends it with what was stored so far.
            self.failures += 1
            if exc.fatal or self.failures < MAX_ATTEMPTS:
                raise
            raise SourceError(
                f"{exc} (gave up after {MAX_ATTEMPTS} attempts)", fatal=True
            ) from None
        self.health.set(HealthState.FINISHED)

    async def _pages(self) -> AsyncIterator[Fetched]:
        pages: AsyncIterator[HistoryPage] = self.inner.backfill(
            self.since, self.until, skip=self._finished()
        )
        async for page in pages:
            progress = self.timelines.setdefault(page.timeline, TimelineProgress())
            kept = self._window(page.mentions)
            progress.fetched += len(page.mentions)
            progress.kept += len(kept)
            times = [m.created_at for m in page.mentions]
            if times:
                oldest = min(times)
                progress.oldest = (
                    oldest if progress.oldest is None else min(progress.oldest, oldest)
                )
            self.health.set(HealthState.CONNECTED)
            yield Fetched(kept, None)
            # Only now is the page in the pipeline's hands: a restart may skip this timeline.
            progress.done = progress.done or page.done

    async def aclose(self) -> None:
        await self.inner.aclose()


def prepare_backfill(
    config: Config,
    store: Store,
    source: Source,
    since: datetime,
    until: datetime,
    *,
    limit: int | None = None,
) -> tuple[IngestRun, BackfillSource]:
    """The live ingest's pipeline (without hot reload) over `source`'s history."""
    history = BackfillSource(source, since, until)
    run = prepare(config, store, [history], limit=limit)
    return run, history
