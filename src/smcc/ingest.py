"""Running ingest: the lease, the sources, the pipeline — shared by `smcc ingest` and `smcc`.

Exactly one process ingests and sends per database: the holder of the `ingest` lease in the store.
Another process that asks waits as a standby and takes over within a few seconds of the holder
dying (at once if the holder was a process on this host that no longer exists).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from smcc.alerting import AlertWatcher
from smcc.analysis.analyzer import MentionAnalyzer
from smcc.analysis.offload import AnalyserProcess
from smcc.analysis.terms import TermExtractor
from smcc.childproc import Supervised, use_child_processes
from smcc.config import Config
from smcc.outbox import Sender
from smcc.pipeline import Pipeline, PipelineStats
from smcc.rules.engine import AlertBoard, RuleEngine
from smcc.rules.live import LiveRules
from smcc.sources import Source
from smcc.sources.base import HealthState, SourceHealth
from smcc.store import LeaseInfo, Store, process_identity
from smcc.store.writer import WriterProcess

LEASE = "ingest"
LEASE_TTL = timedelta(seconds=10)
RENEW_EVERY = 3.0
RULES_EVERY = 1.0
"""Seconds between looks at config.toml (hot reload) and at the active alerts."""

log = logging.getLogger(__name__)


@dataclass
class IngestRun:
    """A prepared ingest: its pipeline can be stopped from a signal handler or a UI."""

    store: Store
    pipeline: Pipeline
    holder: str
    rules: LiveRules
    watcher: AlertWatcher | None = None
    """Spike and crisis detection, run beside the pipeline while we hold the lease."""
    sender: Sender | None = None
    """The outbox sender, run beside the pipeline while we hold the lease."""

    def stop(self) -> None:
        self.pipeline.stop()

    def close(self) -> None:
        """End the pipeline's child processes (they also end when this process does)."""
        for child in (self.pipeline.analyzer, self.pipeline.writer):
            if isinstance(child, Supervised):
                child.close()


def prepare(
    config: Config,
    store: Store,
    sources: Sequence[Source],
    *,
    limit: int | None = None,
    config_path: Path | None = None,
) -> IngestRun:
    """Set up an ingest; with `config_path` the rules follow edits of that file (hot reload)."""
    watcher = AlertWatcher(store, config)
    alerts = AlertBoard(store.active_alerts())
    rules = LiveRules(RuleEngine(config, alerts), config_path, on_event=store.add_event)
    # The analyse stage and the SQLite writer each hold the GIL much of their time: in processes
    # of their own, on a second core, they overlap the rest.
    children = use_child_processes()
    analyser_type = AnalyserProcess if children else MentionAnalyzer
    pipeline = Pipeline(
        store,
        sources,
        config.pipeline,
        analyzer=analyser_type(config.analysis.languages, config.brands, config.competitors),
        triager=rules,
        terms=TermExtractor(config.brands, config.competitors),
        limit=limit,
        on_batch=watcher.notify,
        writer=WriterProcess(store) if children and store.path != ":memory:" else None,
    )
    holder = process_identity()
    # Its own connection: the sender's reads must not see the pipeline's open transactions.
    sender_store = store if store.path == ":memory:" else store.another()
    sender = Sender(sender_store, config, sources, holder=holder)
    return IngestRun(store, pipeline, holder, rules, watcher, sender)


async def run(
    ingest: IngestRun, *, on_wait: Callable[[LeaseInfo | None], None] | None = None
) -> PipelineStats:
    """Take the lease (waiting while another process holds it), run until done, release it;
    then end the pipeline's child processes."""
    try:
        return await _run(ingest, on_wait)
    finally:
        ingest.close()


async def _run(
    ingest: IngestRun, on_wait: Callable[[LeaseInfo | None], None] | None
) -> PipelineStats:
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
    upkeep = asyncio.create_task(_rules_upkeep(ingest), name="rules")
    tasks = [renewer, upkeep]
    if ingest.sender is not None:
        tasks.append(asyncio.create_task(_send(ingest.sender), name="outbox"))
    watcher = ingest.watcher
    if watcher is not None:
        watcher.start()
    try:
        return await ingest.pipeline.run()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if watcher is not None:
            await asyncio.to_thread(watcher.stop)  # after a last look at what was stored
        await asyncio.to_thread(store.release_lease, LEASE, holder)
        if ingest.sender is not None and ingest.sender.store is not store:
            ingest.sender.store.close()


async def _renew(ingest: IngestRun) -> None:
    while True:
        # Consoles that only view show the sources' health from here (`smcc` status line).
        with contextlib.suppress(Exception):  # a busy database: the next renewal says it
            await asyncio.to_thread(
                ingest.store.publish_health, ingest.holder, health_rows(ingest.pipeline.sources)
            )
        await asyncio.sleep(RENEW_EVERY)
        if not await asyncio.to_thread(ingest.store.acquire_lease, LEASE, ingest.holder, LEASE_TTL):
            # Someone took over while we stalled: two ingesters must never run at once.
            ingest.stop()
            return


def health_rows(sources: Sequence[Source]) -> list[dict[str, Any]]:
    """Each source's health as JSON-ready rows (see `source_health`)."""
    return [
        {
            "name": s.name,
            "state": s.health.state.value,
            "until": s.health.until.isoformat() if s.health.until else None,
            "reason": s.health.reason,
        }
        for s in sources
    ]


def source_health(rows: list[dict[str, Any]]) -> list[tuple[str, SourceHealth]]:
    """The rows of `health_rows` back as (name, health); rows it cannot read are left out."""
    out: list[tuple[str, SourceHealth]] = []
    for row in rows:
        try:
            until = datetime.fromisoformat(row["until"]) if row.get("until") else None
            health = SourceHealth(HealthState(row["state"]), until=until, reason=row["reason"])
        except (KeyError, TypeError, ValueError):  # written by another version of smcc
            continue
        out.append((str(row["name"]), health))
    return out


async def _send(sender: Sender) -> None:
    """The outbox sender; a failure of the database is logged and the loop starts again."""
    while True:
        try:
            await sender.run()
        except Exception:
            log.exception("outbox sender failed; restarting it")
            await asyncio.sleep(RENEW_EVERY)


async def _rules_upkeep(ingest: IngestRun) -> None:
    """Keep the rules current: reload config.toml when it changes, refresh the alert state."""
    rules, store = ingest.rules, ingest.store
    while True:
        await asyncio.sleep(RULES_EVERY)
        try:
            await asyncio.to_thread(rules.check)
            rules.alerts.update(await asyncio.to_thread(store.active_alerts))
        except Exception:  # never let upkeep end the ingest; the old state stays in effect
            log.exception("rules upkeep failed")
