"""The embedded ingester: `smcc` runs ingest in a background thread of the console's process.

It uses the same code and the same `ingest` lease as `smcc ingest`, including the analyse stage's
child process (started with subprocess pipes, which work although Textual's `sys.stderr` has no
file descriptor): when another process already
ingests into the database, this one waits as a standby (the console just views) and takes over
within a few seconds of the holder dying. The thread has its own event loop and its own database
connection, so neither the pipeline's work nor its writes hold up the UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from smcc import ingest as ingest_mod
from smcc.config import Config
from smcc.pipeline import PipelineError
from smcc.sources import Source
from smcc.sources.base import SourceHealth
from smcc.store import LeaseInfo, Store, StoreError


@dataclass(frozen=True)
class IngestStatus:
    """A snapshot for the status line; safe to take from any thread."""

    running: bool
    holder: str
    waiting_for: LeaseInfo | None
    """While standing by: the lease held by another process."""
    sources: list[tuple[str, SourceHealth]]
    stored: int
    store_error: str | None
    failure: str | None


class BackgroundIngest:
    def __init__(self, config: Config, db_path: Path | str, sources: Sequence[Source]) -> None:
        self._config = config
        self._db_path = db_path
        self._sources = list(sources)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._run: ingest_mod.IngestRun | None = None
        self._waiting_for: LeaseInfo | None = None
        self._failure: str | None = None
        self.holder = ""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="smcc-ingest", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            store = Store.open(self._db_path)
        except StoreError as exc:
            self._failure = str(exc)
            return
        try:
            self._run = ingest_mod.prepare(self._config, store, self._sources)
            self.holder = self._run.holder
            asyncio.run(self._async_main(self._run))
        except PipelineError as exc:
            self._failure = f"ingest stopped: {exc} (everything stored before is kept)"
        except Exception as exc:  # the console must outlive its ingester; the status line says why
            self._failure = f"ingest failed: {type(exc).__name__}: {exc}"
        finally:
            if self._run is not None:
                self._run.close()  # its child processes end with the ingest
            store.close()

    async def _async_main(self, run: ingest_mod.IngestRun) -> None:
        self._loop = asyncio.get_running_loop()
        await ingest_mod.run(run, on_wait=self._on_wait)
        self._waiting_for = None

    def _on_wait(self, lease: LeaseInfo | None) -> None:
        self._waiting_for = lease

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the pipeline to stop; what it fetched is still stored. Waits up to `timeout`."""
        loop, run = self._loop, self._run
        if loop is not None and run is not None and not loop.is_closed():
            # RuntimeError: the loop closed in between, so there is nothing left to stop.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(run.stop)
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> IngestStatus:
        run = self._run
        pipeline = run.pipeline if run else None
        alive = self._thread is not None and self._thread.is_alive()
        return IngestStatus(
            running=alive and self._failure is None,
            holder=self.holder,
            waiting_for=self._waiting_for if alive else None,
            sources=[(s.name, s.health) for s in self._sources],
            stored=pipeline.stats.stored if pipeline else 0,
            store_error=pipeline.store_error if pipeline else None,
            failure=self._failure,
        )
