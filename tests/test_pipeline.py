"""The pipeline: batching, cursors with the batch, dedupe, backpressure, failing sources."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from smcc.analysis.brands import BrandTagger
from smcc.config import Config, PipelineSettings, parse_config
from smcc.models import Author, Mention
from smcc.pipeline import GC_THRESHOLD, Pipeline, RecentKeys, normalise
from smcc.rules import RuleEngine
from smcc.sources.base import Fetched, HealthState, Source, SourceError
from smcc.store import BatchResult, PreparedBatch, Store

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def mention(source: str, n: int, text: str = "hello") -> Mention:
    return Mention(
        source=source,
        external_id=str(n),
        author=Author(handle=f"user{n % 7}"),
        text=f"{text} {n}",
        created_at=T0 + timedelta(seconds=n),
    )


class ListSource(Source):
    """Yields `count` mentions in pages of `page`, cursor = last number; optional pause."""

    type = "test"

    def __init__(self, name: str, count: int, page: int = 10, pause: float = 0.0) -> None:
        super().__init__(name)
        self.count, self.page, self.pause = count, page, pause
        self.started_from: list[str | None] = []

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        self.started_from.append(cursor)
        start = int(cursor) + 1 if cursor is not None else 0
        for first in range(start, self.count, self.page):
            last = min(first + self.page, self.count) - 1
            yield Fetched([mention(self.name, n) for n in range(first, last + 1)], str(last))
            await asyncio.sleep(self.pause)


class FlakySource(ListSource):
    """Fails after its first page, once."""

    def __init__(self, name: str, count: int) -> None:
        super().__init__(name, count, page=5)
        self.failed = False

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        async for fetched in super().stream(cursor):
            yield fetched
            if not self.failed:
                self.failed = True
                raise SourceError("HTTP 503", retry_after=0.05)


class BrokenSource(Source):
    type = "test"

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        raise SourceError("bad credentials", fatal=True)
        yield  # pragma: no cover - makes this an async generator


def settings(**kw: object) -> PipelineSettings:
    base: dict[str, object] = {"batch_size": 50, "batch_interval": "50ms", "queue_size": 200}
    base.update(kw)
    return PipelineSettings.model_validate(base)


@pytest.fixture
def store() -> Store:
    return Store.memory()


async def test_all_mentions_and_cursor_stored(store: Store) -> None:
    source = ListSource("a", 123)
    stats = await Pipeline(store, [source], settings()).run()
    assert stats.stored == 123
    assert store.keys("a") == [("a", str(n)) for n in range(123)]
    assert store.cursor("a") == "122"
    assert source.health.state is HealthState.FINISHED


async def test_batches_by_count(store: Store) -> None:
    sizes: list[int] = []
    pipeline = Pipeline(
        store,
        [ListSource("a", 200, page=10)],
        settings(batch_size=40, batch_interval="10s"),
        on_batch=lambda r: sizes.append(r.inserted),
    )
    await pipeline.run()
    assert sum(sizes) == 200
    assert max(sizes) <= 40
    assert len(sizes) >= 5


async def test_batches_by_time(store: Store) -> None:
    """A trickle is written after batch_interval, not held back until batch_size is reached."""
    results: list[tuple[float, BatchResult]] = []
    source = ListSource("a", 3, page=1, pause=0.3)
    pipeline = Pipeline(
        store,
        [source],
        settings(batch_size=1000, batch_interval="50ms"),
        on_batch=lambda r: results.append((time.monotonic(), r)),
    )
    await pipeline.run()
    assert [r.inserted for _, r in results] == [1, 1, 1]


async def test_resume_from_stored_cursor(store: Store) -> None:
    await Pipeline(store, [ListSource("a", 30)], settings(), limit=10).run()
    first = store.count_mentions()
    assert 10 <= first < 30
    again = ListSource("a", 30)
    await Pipeline(store, [again], settings()).run()
    assert again.started_from == [store.keys("a")[first - 1][1]]
    assert store.keys("a") == [("a", str(n)) for n in range(30)]


async def test_duplicates_dropped(store: Store) -> None:
    class Repeating(ListSource):
        async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
            for _ in range(3):
                yield Fetched([mention(self.name, n) for n in range(5)], "4")

    stats = await Pipeline(store, [Repeating("a", 5)], settings()).run()
    assert stats.stored == 5
    assert stats.duplicates == 10
    assert store.count_mentions() == 5


async def test_failing_source_backs_off_and_resumes_without_gaps(store: Store) -> None:
    flaky = FlakySource("flaky", 20)
    steady = ListSource("steady", 50)
    await Pipeline(store, [flaky, steady], settings()).run()
    assert store.keys("flaky") == [("flaky", str(n)) for n in range(20)]
    assert store.keys("steady") == [("steady", str(n)) for n in range(50)]
    # restarted after the last buffered page, not from the beginning
    assert flaky.started_from == [None, "4"]
    assert flaky.health.errors == 1


async def test_fatal_source_does_not_stop_the_others(store: Store) -> None:
    broken = BrokenSource("broken")
    steady = ListSource("steady", 40)
    await Pipeline(store, [broken, steady], settings()).run()
    assert store.count_mentions() == 40
    assert broken.health.state is HealthState.FAILING
    assert "bad credentials" in broken.health.reason


async def test_backpressure_bounds_the_buffer(store: Store) -> None:
    """With a slow store, sources wait: never more than queue_size mentions are buffered."""
    seen: list[int] = []

    class SlowStore(Store):
        def insert_prepared(
            self, batch: PreparedBatch, cursors: dict[str, str | None] | None = None
        ) -> BatchResult:
            time.sleep(0.02)
            return super().insert_prepared(batch, cursors)

    slow = SlowStore(store.conn, ":memory:")
    pipeline = Pipeline(
        slow,
        [ListSource("a", 2000, page=20)],
        settings(batch_size=100, queue_size=200, batch_interval="1ms"),
    )

    async def watch() -> None:
        while True:
            seen.append(pipeline.queued)
            await asyncio.sleep(0.001)

    watcher = asyncio.create_task(watch())
    await pipeline.run()
    watcher.cancel()
    assert slow.count_mentions() == 2000
    assert max(seen) <= 200


async def test_stop_keeps_what_was_fetched(store: Store) -> None:
    source = ListSource("a", 10_000, page=10, pause=0.001)
    pipeline = Pipeline(store, [source], settings())
    task = asyncio.create_task(pipeline.run())
    await asyncio.sleep(0.2)
    pipeline.stop()
    stats = await task
    stored = store.count_mentions()
    assert 0 < stored < 10_000
    assert stats.stored == stored
    # the cursor matches exactly what is stored: a restart neither skips nor repeats
    assert store.cursor("a") == str(stored - 1)


def test_recent_keys_forget_oldest() -> None:
    keys = RecentKeys(size=3)
    assert len(keys.fresh([mention("a", n) for n in range(5)])) == 5
    assert keys.fresh([mention("a", 4)]) == []
    assert len(keys.fresh([mention("a", 0)])) == 1


def test_recent_keys_tell_sources_apart() -> None:
    # "ab" + "1" and "a" + "b1" must not make the same key
    keys = RecentKeys()
    first = mention("ab", 1)
    other = mention("a", 1)
    other.external_id = "b1"
    assert len(keys.fresh([first, other])) == 2
    assert keys.fresh([mention("ab", 1)]) == []


async def test_run_spaces_young_collections_and_restores(store: Store) -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []
    pipeline = Pipeline(
        store,
        [ListSource("a", 30)],
        PipelineSettings(batch_size=10),
        on_batch=lambda _: seen.append(gc.get_threshold()),
    )
    await pipeline.run()
    assert seen
    assert all(t[0] == GC_THRESHOLD for t in seen)
    assert gc.get_threshold() == before


def test_normalise_strips_terminal_controls() -> None:
    m = mention("a", 1)
    m.text = "ok\x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c e\u0301"
    m.author.display_name = "name\x00\x1b[31m"
    normalise([m])
    assert m.text == "ok evil é"
    assert m.author.display_name == "name"


def demo_config() -> Config:
    return parse_config(
        """
[[brands]]
name = "Nusantel"
keywords = ["sinyal nusantel"]
handles = ["@nusantel"]
[[competitors]]
name = "Tarawa"
[departments.social]
sla = { tier1 = "15m", tier2 = "4h", tier3 = "1d" }
[default]
tier = 3
department = "social"
"""
    )


def test_brand_tagger_and_default_triage() -> None:
    config = demo_config()
    ours, theirs, none = (
        mention("a", 1, "Sinyal NUSANTEL"),
        mention("a", 2, "tarawa"),
        mention("a", 3),
    )
    batch = [ours, theirs, none]
    BrandTagger(config.brands, config.competitors).analyse(batch)
    assert [m.brand for m in batch] == ["Nusantel", "Tarawa", None]
    RuleEngine(config).triage(batch)
    assert ours.triage is not None
    assert ours.triage.tier == 3
    assert ours.triage.department == "social"
    assert ours.triage.sla_due == ours.created_at + timedelta(days=1)
    assert ours.sentiment.score is None  # brand tagging alone sets no sentiment


async def test_cursor_only_page_moves_the_cursor(store: Store) -> None:
    """A page with no mentions (all filtered by the platform) still advances the cursor."""

    class Skipping(ListSource):
        async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
            yield Fetched([mention(self.name, 0)], "0")
            yield Fetched([], "5")

    await Pipeline(store, [Skipping("a", 1)], settings()).run()
    assert store.count_mentions() == 1
    assert store.cursor("a") == "5"


async def test_store_failures_are_retried_without_losing_mentions(store: Store) -> None:
    """A locked or full database delays the batch; it is written once the database recovers."""
    failures = 2

    class FlakyStore(Store):
        def insert_prepared(
            self, batch: PreparedBatch, cursors: dict[str, str | None] | None = None
        ) -> BatchResult:
            nonlocal failures
            if failures:
                failures -= 1
                raise sqlite3.OperationalError("database is locked")
            return super().insert_prepared(batch, cursors)

    flaky = FlakyStore(store.conn, ":memory:")
    pipeline = Pipeline(
        flaky, [ListSource("a", 30)], settings(batch_size=1000, batch_interval="1s")
    )
    await pipeline.run()
    assert failures == 0
    assert flaky.keys("a") == [("a", str(n)) for n in range(30)]
    assert flaky.cursor("a") == "29"
    assert pipeline.store_error is None
