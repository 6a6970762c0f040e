"""The analyse stage in a child process gives exactly what it gives in-process, and survives the
child's death."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from smcc.analysis.analyzer import MentionAnalyzer
from smcc.analysis.offload import AnalyserProcess
from smcc.analysis.terms import TermExtractor
from smcc.config import PipelineSettings, default_config
from smcc.models import Mention
from smcc.pipeline import Pipeline, normalise
from smcc.rules import RuleEngine
from smcc.sources.base import Fetched, Source
from smcc.sources.demo import DemoCatalog, demo_mentions
from smcc.store import Store

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SEED = 7


@functools.cache
def _catalog() -> DemoCatalog:
    config = default_config()
    return DemoCatalog.build(
        "demo", config.brands, config.competitors, list(config.analysis.languages)
    )


def _demo(start: int, count: int) -> list[Mention]:
    mentions = demo_mentions(SEED, start, count, _catalog(), T0)
    normalise(mentions)
    return mentions


@pytest.fixture(scope="module")
def offloaded() -> Iterator[AnalyserProcess]:
    config = default_config()
    process = AnalyserProcess(config.analysis.languages, config.brands, config.competitors)
    yield process
    process.close()


def test_same_results_as_in_process(offloaded: AnalyserProcess) -> None:
    config = default_config()
    local = MentionAnalyzer(config.analysis.languages, config.brands, config.competitors)
    here, there = _demo(0, 600), _demo(0, 600)
    for i in range(0, 600, 200):
        local.analyse(here[i : i + 200])
        offloaded.analyse(there[i : i + 200])
    assert offloaded.offloaded
    assert [m.model_dump() for m in there] == [m.model_dump() for m in here]
    assert {m.language for m in there} >= {"en", "id", "ru", "nl"}
    assert any(m.sentiment.score is not None for m in there)


def test_a_dead_child_falls_back_to_the_same_answers() -> None:
    config = default_config()
    process = AnalyserProcess(config.analysis.languages, config.brands, config.competitors)
    try:
        first = _demo(0, 50)
        process.analyse(first)
        assert process.offloaded
        child = process._process
        assert child is not None
        child.kill()
        child.join()
        batch, expected = _demo(50, 50), _demo(50, 50)
        process.analyse(batch)
        assert not process.offloaded
        MentionAnalyzer(config.analysis.languages, config.brands, config.competitors).analyse(
            expected
        )
        assert [m.model_dump() for m in batch] == [m.model_dump() for m in expected]
    finally:
        process.close()


def _stored(store: Store) -> list[dict[str, object]]:
    return [m.model_dump(exclude={"id", "received_at"}) for m in store.iter_mentions()]


class _SlowDemo(Source):
    """Demo mentions in small pages with pauses, cursor = last index (a live-looking source)."""

    type = "test"

    def __init__(self, count: int, page: int, pause: float) -> None:
        super().__init__("demo")
        self.count, self.page, self.pause = count, page, pause

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        start = int(cursor) + 1 if cursor is not None else 0
        for first in range(start, self.count, self.page):
            size = min(self.page, self.count - first)
            yield Fetched(_demo(first, size), str(first + size - 1))
            await asyncio.sleep(self.pause)


@pytest.mark.parametrize(("page", "pause"), [(100, 0.0), (7, 0.02)])
def test_pipeline_stores_the_same_with_the_analyse_process(page: int, pause: float) -> None:
    """The whole pipeline (rules, terms, store) gives the same rows either way; with a slow
    source every batch is stored although no next batch follows it at once."""
    config = default_config()
    results = []
    for analyzer in (
        MentionAnalyzer(config.analysis.languages, config.brands, config.competitors),
        AnalyserProcess(config.analysis.languages, config.brands, config.competitors),
    ):
        store = Store.memory()
        settings = PipelineSettings.model_validate(
            {"batch_size": 50, "batch_interval": "50ms", "queue_size": 200}
        )
        pipeline = Pipeline(
            store,
            [_SlowDemo(300, page, pause)],
            settings,
            analyzer=analyzer,
            triager=RuleEngine(config),
            terms=TermExtractor(config.brands, config.competitors),
        )
        stats = asyncio.run(pipeline.run())
        if isinstance(analyzer, AnalyserProcess):
            assert analyzer.offloaded
            analyzer.close()
        assert stats.stored == 300
        assert store.cursor("demo") == "299"
        results.append(_stored(store))
    assert results[0] == results[1]
