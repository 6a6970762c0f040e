"""The analyse stage in a child process gives exactly what it gives in-process, and survives the
child's death."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from console_app import console_app, until
from console_seed import console_config, seeded_store
from demo_batches import demo_batch
from smcc import ingest as ingest_mod
from smcc.analysis import offload
from smcc.analysis.analyzer import MentionAnalyzer
from smcc.analysis.offload import AnalyserProcess
from smcc.analysis.terms import TermExtractor
from smcc.config import PipelineSettings, default_config
from smcc.models import Mention
from smcc.pipeline import Pipeline, PipelineStats
from smcc.rules import RuleEngine
from smcc.sources import build_sources
from smcc.sources.base import Fetched, Source
from smcc.store import Store
from smcc.tui.ingester import BackgroundIngest
from smcc.tui.screens.main import MainScreen


@pytest.fixture(scope="module")
def offloaded() -> Iterator[AnalyserProcess]:
    config = default_config()
    process = AnalyserProcess(config.analysis.languages, config.brands, config.competitors)
    yield process
    process.close()


def test_same_results_as_in_process(offloaded: AnalyserProcess) -> None:
    config = default_config()
    local = MentionAnalyzer(config.analysis.languages, config.brands, config.competitors)
    here, there = demo_batch(0, 600), demo_batch(0, 600)
    for i in range(0, 600, 200):
        local.analyse(here[i : i + 200])
        offloaded.analyse(there[i : i + 200])
    assert offloaded.offloaded
    assert [m.model_dump() for m in there] == [m.model_dump() for m in here]
    assert {m.language for m in there} >= {"en", "id", "ru", "nl"}
    assert any(m.sentiment.score is not None for m in there)


def _analyser(**options: float) -> AnalyserProcess:
    config = default_config()
    return AnalyserProcess(
        config.analysis.languages,
        config.brands,
        config.competitors,
        **options,  # type: ignore[arg-type]
    )


def _in_process(batch: list[Mention]) -> list[Mention]:
    config = default_config()
    MentionAnalyzer(config.analysis.languages, config.brands, config.competitors).analyse(batch)
    return batch


def _kill(process: AnalyserProcess) -> int:
    pid = process.child_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return pid


def test_a_dead_child_falls_back_to_the_same_answers_and_is_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    process = _analyser(restart_delay=0.0)
    try:
        process.analyse(demo_batch(0, 50))
        assert process.offloaded
        first = _kill(process)
        # the batch sent to the dead child is analysed here, with the same answers
        batch = demo_batch(50, 50)
        finish = process.submit(batch)
        finish()
        assert [m.model_dump() for m in batch] == [
            m.model_dump() for m in _in_process(demo_batch(50, 50))
        ]
        died = [r.getMessage() for r in caplog.records if "analyse process died" in r.getMessage()]
        assert len(died) == 1
        assert "exit code -9" in died[0]
        # the next batch goes to a new child
        batch = demo_batch(100, 50)
        process.analyse(batch)
        assert process.offloaded
        assert process.child_pid not in (None, first)
        assert [m.model_dump() for m in batch] == [
            m.model_dump() for m in _in_process(demo_batch(100, 50))
        ]
    finally:
        process.close()
    assert not process.offloaded


def test_a_hung_child_is_stopped_and_its_batch_analysed_here(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child that stops answering without dying (here: SIGSTOP) must not hold up ingest."""
    monkeypatch.setattr(offload, "ANSWER_SECONDS", 0.5)
    process = _analyser(restart_delay=0.0)
    try:
        process.analyse(demo_batch(0, 20))
        hung = process.child_pid
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)
        batch = demo_batch(20, 20)
        process.analyse(batch)
        assert [m.model_dump() for m in batch] == [
            m.model_dump() for m in _in_process(demo_batch(20, 20))
        ]
        said = [r.getMessage() for r in caplog.records if "analyse process died" in r.getMessage()]
        assert len(said) == 1
        assert "no answer in 0.5 s" in said[0]
        with pytest.raises(ProcessLookupError):  # killed and reaped, not left stopped
            os.kill(hung, 0)
        process.analyse(demo_batch(40, 20))
        assert process.child_pid not in (None, hung)
    finally:
        process.close()


def test_without_restarts_left_the_stage_stays_in_process() -> None:
    process = _analyser(restart_delay=0.0, max_restarts=0)
    try:
        process.analyse(demo_batch(0, 20))
        _kill(process)
        for start in (20, 40):
            batch = demo_batch(start, 20)
            process.analyse(batch)
            assert not process.offloaded
            assert [m.model_dump() for m in batch] == [
                m.model_dump() for m in _in_process(demo_batch(start, 20))
            ]
    finally:
        process.close()


def test_a_child_that_cannot_start_means_in_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    process = _analyser()
    try:
        assert not process.offloaded
        batch = demo_batch(0, 30)
        process.analyse(batch)
        assert [m.model_dump() for m in batch] == [
            m.model_dump() for m in _in_process(demo_batch(0, 30))
        ]
        assert any("cannot start the analyse process" in r.getMessage() for r in caplog.records)
    finally:
        process.close()


def test_the_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A parent that dies without closing anything (SIGKILL) leaves no analyse process."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\n"
        "from smcc.analysis.offload import AnalyserProcess\n"
        "p = AnalyserProcess(['en'], [], [])\n"
        "print(p.child_pid, flush=True)\n"
        "time.sleep(60)\n",
        encoding="utf-8",
    )
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        parent.kill()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (not reaped by its dead parent yet) counts as gone
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
        return state != "Z"
    return True


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
            yield Fetched(demo_batch(first, size), str(first + size - 1))
            await asyncio.sleep(self.pause)


def _run_pipeline(
    analyzer: MentionAnalyzer | AnalyserProcess, source: Source, batch_size: int
) -> tuple[Store, PipelineStats]:
    """The whole pipeline (rules, terms, store) over `source` into a fresh in-memory store."""
    config = default_config()
    store = Store.memory()
    settings = PipelineSettings.model_validate(
        {"batch_size": batch_size, "batch_interval": "50ms", "queue_size": 200}
    )
    pipeline = Pipeline(
        store,
        [source],
        settings,
        analyzer=analyzer,
        triager=RuleEngine(config),
        terms=TermExtractor(config.brands, config.competitors),
    )
    return store, asyncio.run(pipeline.run())


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
        store, stats = _run_pipeline(analyzer, _SlowDemo(300, page, pause), batch_size=50)
        if isinstance(analyzer, AnalyserProcess):
            assert analyzer.offloaded
            analyzer.close()
        assert stats.stored == 300
        assert store.cursor("demo") == "299"
        results.append(_stored(store))
    assert results[0] == results[1]


class _KillingAnalyser(AnalyserProcess):
    """Kills its child right after sending it the `kill_at`-th batch (so that batch, and maybe
    the one before it, are waited for from a dead child)."""

    def __init__(self, kill_at: int) -> None:
        config = default_config()
        super().__init__(
            config.analysis.languages, config.brands, config.competitors, restart_delay=0.0
        )
        self.kill_at, self.sent, self.killed = kill_at, 0, 0

    def submit(self, batch: list[Mention]) -> Callable[[], None]:
        finish = super().submit(batch)
        self.sent += 1
        if self.sent == self.kill_at and self.child_pid is not None:
            _kill(self)
            self.killed += 1
        return finish


@pytest.mark.parametrize("kill_at", [2])
def test_killing_the_child_mid_run_stores_every_mention_once(kill_at: int) -> None:
    config = default_config()
    results = []
    for analyzer in (
        MentionAnalyzer(config.analysis.languages, config.brands, config.competitors),
        _KillingAnalyser(kill_at),
    ):
        store, stats = _run_pipeline(analyzer, _SlowDemo(300, 40, 0.0), batch_size=40)
        if isinstance(analyzer, _KillingAnalyser):
            assert analyzer.killed == 1
            assert analyzer.offloaded  # restarted for the batches after
            analyzer.close()
        assert stats.stored == 300
        assert store.count_mentions() == 300
        results.append(_stored(store))
    assert results[0] == results[1]


class _TextualStderr(io.StringIO):
    """What `sys.stderr` is while a Textual app runs: text goes to the app, and fileno() is -1
    (textual.app._PrintCapture)."""

    def fileno(self) -> int:
        return -1


def test_the_console_ingester_uses_the_analyse_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the console sys.stderr has no file descriptor (Textual captures it; its stand-in's
    fileno() is -1, which made multiprocessing fail); the embedded ingester must still run the
    analyse stage in its child process."""
    monkeypatch.setattr(sys, "stderr", _TextualStderr())
    monkeypatch.setattr(ingest_mod, "use_child_processes", lambda: True)
    config = default_config()
    ingest = BackgroundIngest(config, tmp_path / "console.db", build_sources(config))
    ingest.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and ingest.status().stored == 0:
            assert ingest.status().failure is None
            time.sleep(0.05)
        assert ingest.status().stored > 0
        run = ingest._run
        assert run is not None
        analyzer = run.pipeline.analyzer
        assert isinstance(analyzer, AnalyserProcess)
        assert analyzer.offloaded
        pid = analyzer.child_pid
        assert pid is not None
        assert _alive(pid)
    finally:
        ingest.stop()
    assert not analyzer.offloaded  # stopped with the ingester
    assert not _alive(pid)
    with Store.open(tmp_path / "console.db") as store:
        stored = list(store.iter_mentions())
    assert stored
    assert all(m.sentiment is not None and m.sentiment.label for m in stored)


async def test_the_console_app_runs_the_analyse_stage_in_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, end to end: the ingester starts while the console runs (Textual's own capture
    of sys.stderr in place), and its analyse stage works in a child process."""
    monkeypatch.setattr(ingest_mod, "use_child_processes", lambda: True)
    config = console_config('[sources.demo]\ntype = "demo"\nrate = 50\nbursts = false\n')
    store = seeded_store(tmp_path / "console.db")
    ingest = BackgroundIngest(config, store.path, build_sources(config))
    app = console_app(store, config, lambda data: MainScreen(data, ingest))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            assert sys.stderr.fileno() == -1  # Textual's capture, no descriptor
            ingest.start()
            await until(pilot, lambda: ingest.status().stored > 0, timeout=20)
            run = ingest._run
            assert run is not None
            analyzer = run.pipeline.analyzer
            assert isinstance(analyzer, AnalyserProcess)
            assert analyzer.offloaded
            assert ingest.status().failure is None
    finally:
        ingest.stop()
        store.close()
    assert not analyzer.offloaded
