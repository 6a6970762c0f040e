"""Run a real source inside the real pipeline against a loopback server, with time compressed.

The pipeline's own backoff decides every wait; `ScaledBackoff` records the wait it decided (so a
test can check that a 429's reset header was honoured) and sleeps a thousandth of it, so that a
fault test of a dozen failures takes well under a second. The source's health records every
state it is set to, so a test can check that every fault showed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import smcc.pipeline
from smcc.config import PipelineSettings
from smcc.pipeline import Pipeline
from smcc.sources.base import Backoff, HealthState, Source, SourceHealth
from smcc.store import Store

SCALE = 1000.0


@dataclass
class Observed:
    waits: list[float] = field(default_factory=list)
    """Every backoff delay the pipeline chose, in seconds of real (unscaled) time."""
    health: list[tuple[HealthState, str]] = field(default_factory=list)
    """Each distinct (state, reason) the source's health went through."""

    def backing_off(self) -> list[str]:
        return [reason for state, reason in self.health if state is HealthState.BACKING_OFF]


class RecordingHealth(SourceHealth):
    """A SourceHealth that remembers every state it was set to (sampling would miss some)."""

    def __init__(self, observed: Observed) -> None:
        super().__init__()
        self.observed = observed

    def set(self, state: HealthState, reason: str = "", until: datetime | None = None) -> None:
        super().set(state, reason, until)
        sample = (state, reason)
        if not self.observed.health or self.observed.health[-1] != sample:
            self.observed.health.append(sample)


def scaled_backoff(monkeypatch: pytest.MonkeyPatch, observed: Observed) -> None:
    class Scaled(Backoff):
        def next_delay(self, retry_after: float | None = None) -> float:
            delay = super().next_delay(retry_after)
            observed.waits.append(delay)
            return delay / SCALE

    monkeypatch.setattr(smcc.pipeline, "Backoff", Scaled)


async def run_until(
    store: Store,
    source: Source,
    done: Callable[[], bool],
    observed: Observed,
    *,
    timeout: float = 15.0,
) -> None:
    """Run `source` through a pipeline into `store` until `done()` holds (or fail at timeout)."""
    pipeline = Pipeline(
        store, [source], PipelineSettings(batch_size=500, batch_interval=timedelta(milliseconds=10))
    )
    source.health = RecordingHealth(observed)
    task = asyncio.create_task(pipeline.run())
    deadline = time.monotonic() + timeout
    try:
        while not done():
            if task.done():
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"not done within {timeout}s; health: {observed.health}")
            await asyncio.sleep(0.002)
        # Let the writer store what was fetched last.
        await asyncio.sleep(0.05)
    finally:
        pipeline.stop()
        await asyncio.wait_for(task, 10)


def stored_ids(store: Store, source: str) -> list[str]:
    return [key for src, key in store.keys(source) if src == source]


def temp_store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "smcc.db")
