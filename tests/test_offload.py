"""The analyse stage in a child process gives exactly what it gives in-process, and survives the
child's death."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from smcc.analysis.analyzer import MentionAnalyzer
from smcc.analysis.offload import AnalyserProcess
from smcc.config import default_config
from smcc.models import Mention
from smcc.pipeline import normalise
from smcc.sources.demo import DemoCatalog, demo_mentions

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SEED = 7


def _demo(start: int, count: int) -> list[Mention]:
    config = default_config()
    catalog = DemoCatalog.build(
        "demo", config.brands, config.competitors, list(config.analysis.languages)
    )
    mentions = demo_mentions(SEED, start, count, catalog, T0)
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
