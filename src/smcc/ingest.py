"""Running ingest: the lease, the sources, the pipeline — shared by `smcc ingest` and `smcc`.

Exactly one process ingests and sends per database: the holder of the `ingest` lease in the store.
Another process that asks waits as a standby and takes over within a few seconds of the holder
dying (at once if the holder was a process on this host that no longer exists).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from smcc.alerting import AlertWatcher
from smcc.analysis.analyzer import MentionAnalyzer
from smcc.analysis.terms import TermExtractor
from smcc.config import Config
from smcc.pipeline import DefaultTriager, Pipeline, PipelineStats
from smcc.sources import Source
from smcc.store import LeaseInfo, Store, process_identity

LEASE = "ingest"
LEASE_TTL = timedelta(seconds=10)
RENEW_EVERY = 3.0


@dataclass
class IngestRun:
    """A prepared ingest: its pipeline can be stopped from a signal handler or a UI."""

    store: Store
    pipeline: Pipeline
    holder: str
    watcher: AlertWatcher | None = None
    """Spike and crisis detection, run beside the pipeline while we hold the lease."""

    def stop(self) -> None:
        self.pipeline.stop()


def prepare(
    config: Config, store: Store, sources: Sequence[Source], *, limit: int | None = None
) -> IngestRun:
    watcher = AlertWatcher(store, config)
    pipeline = Pipeline(
        store,
        sources,
        config.pipeline,
        analyzer=MentionAnalyzer(config.analysis.languages, config.brands, config.competitors),
        triager=DefaultTriager(config),
        terms=TermExtractor(config.brands, config.competitors),
        limit=limit,
        on_batch=watcher.notify,
    )
    return IngestRun(store, pipeline, process_identity(), watcher)


async def run(
    ingest: IngestRun, *, on_wait: Callable[[LeaseInfo | None], None] | None = None
) -> PipelineStats:
    """Take the lease (waiting while another process holds it), run until done, release it."""
    store, holder = ingest.store, ingest.holder
    while not await asyncio.to_thread(store.acquire_lease, LEASE, holder, LEASE_TTL):
        if on_wait is not None:
            on_wait(await asyncio.to_thread(store.lease, LEASE))
        stop_requested = ingest.pipeline.stop_requested
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_requested.wait(), RENEW_EVERY / 3)
        if stop_requested.is_set():
            return ingest.pipeline.stats
    renewer = asyncio.create_task(_renew(ingest), name="lease")
    watcher = ingest.watcher
    if watcher is not None:
        watcher.start()
    try:
        return await ingest.pipeline.run()
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        if watcher is not None:
            await asyncio.to_thread(watcher.stop)  # after a last look at what was stored
        await asyncio.to_thread(store.release_lease, LEASE, holder)


async def _renew(ingest: IngestRun) -> None:
    while True:
        await asyncio.sleep(RENEW_EVERY)
        if not await asyncio.to_thread(ingest.store.acquire_lease, LEASE, ingest.holder, LEASE_TTL):
            # Someone took over while we stalled: two ingesters must never run at once.
            ingest.stop()
            return
