"""The store's writes in a child process store exactly what the ingest process would, and
survive the child's death, hang and failures without losing or doubling anything."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo_batches import demo_batch
from smcc.store import PreparedBatch, Store, prepare_batch
from smcc.store import store as store_mod
from smcc.store import writer as writer_mod
from smcc.store.writer import WriterProcess


def _rows(start: int, count: int) -> PreparedBatch:
    return prepare_batch(demo_batch(start, count))


def _contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything ingest writes, table by table (ids included: they must match too)."""
    conn = sqlite3.connect(path)
    try:
        return {
            "mentions": conn.execute("SELECT * FROM mentions ORDER BY id").fetchall(),
            "authors": conn.execute("SELECT * FROM authors ORDER BY id").fetchall(),
            "rollups": conn.execute("SELECT * FROM rollups ORDER BY 1, 2, 3, 4, 5").fetchall(),
            "cursors": conn.execute("SELECT source, cursor FROM cursors").fetchall(),
            "search": conn.execute(
                "SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH 'sinyal OR связь' "
                "ORDER BY rowid"
            ).fetchall(),
        }
    finally:
        conn.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "w.db") as s:
        yield s


def _writer(store: Store, **options: float) -> WriterProcess:
    return WriterProcess(store, **options)  # type: ignore[arg-type]


def _kill(writer: WriterProcess) -> int:
    pid = writer.child_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return pid


def _written_here(tmp_path: Path, batches: list[tuple[int, int]]) -> dict[str, Any]:
    with Store.open(tmp_path / "here.db") as here:
        for n, (start, count) in enumerate(batches):
            here.insert_prepared(_rows(start, count), {"demo": str(n)})
    return _contents(tmp_path / "here.db")


BATCHES = [(0, 300), (300, 300), (600, 300)]


def test_the_child_stores_what_the_ingest_process_would(store: Store, tmp_path: Path) -> None:
    writer = _writer(store)
    try:
        assert writer.offloaded
        results = [
            writer.write(_rows(start, count), {"demo": str(n)})
            for n, (start, count) in enumerate(BATCHES)
        ]
    finally:
        writer.close()
    assert [r.inserted for r in results] == [300, 300, 300]
    assert results[1].first_id == 301
    assert _contents(Path(store.path)) == _written_here(tmp_path, BATCHES)
    assert _contents(Path(store.path))["search"]  # the full-text index was filled
    grouped = store.conn.execute(
        "SELECT substr(created_at, 1, 16), source, coalesce(brand, ''), coalesce(language, ''), "
        "coalesce(tier, 0), count(*), 0.0, count(sentiment) FROM mentions "
        "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
    ).fetchall()
    assert len(grouped) > 10  # brands × languages
    assert _contents(Path(store.path))["rollups"] == [tuple(r) for r in grouped]


def test_a_batch_the_child_committed_before_dying_is_not_stored_twice(
    store: Store, tmp_path: Path
) -> None:
    """The ingest process cannot know whether a dead child committed; it writes the batch
    again, which must change nothing (same mentions, author counts, rollups, cursors)."""
    writer = _writer(store)
    try:
        for n, (start, count) in enumerate(BATCHES):
            writer.write(_rows(start, count), {"demo": str(n)})
    finally:
        writer.close()
    again = store.insert_prepared(_rows(*BATCHES[-1]), {"demo": "2"})
    assert (again.inserted, again.duplicates) == (0, 300)
    assert _contents(Path(store.path)) == _written_here(tmp_path, BATCHES)


def test_a_dead_child_means_writing_here_then_a_new_child(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = _writer(store, restart_delay=0.0)
    try:
        writer.write(_rows(*BATCHES[0]), {"demo": "0"})
        first = _kill(writer)
        result = writer.write(_rows(*BATCHES[1]), {"demo": "1"})
        assert result.inserted == 300
        died = [r.getMessage() for r in caplog.records if "writer process died" in r.getMessage()]
        assert len(died) == 1
        assert "exit code -9" in died[0]
        assert "writing in the ingest process" in died[0]
        writer.write(_rows(*BATCHES[2]), {"demo": "2"})
        assert writer.child_pid not in (None, first)
    finally:
        writer.close()
    assert _contents(Path(store.path)) == _written_here(tmp_path, BATCHES)


def test_a_hung_child_is_killed_and_its_batch_written_here(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_mod, "ANSWER_SECONDS", 0.5)
    writer = _writer(store, restart_delay=60.0)
    try:
        writer.write(_rows(*BATCHES[0]), {"demo": "0"})
        hung = writer.child_pid
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)
        for n, batch in enumerate(BATCHES[1:], start=1):
            assert writer.write(_rows(*batch), {"demo": str(n)}).inserted == 300
        assert not writer.offloaded  # the next child starts only after restart_delay
        with pytest.raises(ProcessLookupError):  # killed and reaped, not left stopped
            os.kill(hung, 0)
    finally:
        writer.close()
    assert _contents(Path(store.path)) == _written_here(tmp_path, BATCHES)


def test_a_locked_database_is_reported_and_later_batches_wait_for_the_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child's OperationalError ("database is locked") reaches the pipeline as one, so it
    retries the same batch; the batch queued behind it is skipped, not committed ahead of it
    (its cursor would pass the failed batch), until a job sent again comes. Run here in-process
    (serve) to keep the busy timeout short."""
    path = tmp_path / "locked.db"
    Store.open(path).close()
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    answers: list[Any] = []

    def jobs() -> Iterator[object]:
        yield str(path)
        yield (1, False, writer_mod._encode(_rows(0, 10)), {"demo": "0"})
        yield (2, False, writer_mod._encode(_rows(10, 10)), {"demo": "1"})
        other.execute("ROLLBACK")  # the lock goes away; the parent sends both again, in order
        yield (3, True, writer_mod._encode(_rows(0, 10)), {"demo": "0"})
        yield (4, False, writer_mod._encode(_rows(10, 10)), {"demo": "1"})

    try:
        writer_mod.serve(jobs(), answers.append)
    finally:
        other.close()
    [ready, busy, skipped, first, second] = answers
    assert ready == (0, None, None)  # set up: the first answer, before any job
    assert busy[:2] == (1, None)
    assert busy[2][0] == "busy"
    assert "locked" in busy[2][1]
    assert skipped == (2, None, ("skipped", "a batch before it failed"))
    assert (first[0], first[1].inserted, first[2]) == (3, 10, None)
    assert (second[0], second[1].inserted, second[2]) == (4, 10, None)
    with Store.open(path) as s:
        assert s.cursor("demo") == "1"
        assert s.count_mentions() == 20


class _ScriptedChild:
    """Stands in for the writer's child on the parent's side: writes each job through its own
    connection, as `serve` does, except for the tickets given a forced answer."""

    def __init__(self, path: str, forced: dict[int, tuple[str, str]]) -> None:
        self.store = Store.open(path)
        self.forced = forced
        self.jobs: list[tuple[int, bool]] = []
        self.answers: dict[int, tuple[Any, ...]] = {}
        self.dead = False
        self.pid = 0

    def send(self, message: Any) -> bool:
        ticket, again, encoded, cursors = message
        rows = writer_mod._decode(encoded)
        self.jobs.append((ticket, again))
        if ticket in self.forced:
            self.answers[ticket] = (ticket, None, self.forced[ticket])
        else:
            self.answers[ticket] = (ticket, self.store.insert_prepared(rows, cursors), None)
        return True

    def receive(self, ticket: int, timeout: float) -> tuple[Any, ...]:
        return self.answers.pop(ticket)

    def stop(self) -> None:
        self.dead = True
        self.store.close()


def _scripted(writer: WriterProcess, forced: dict[int, tuple[str, str]]) -> _ScriptedChild:
    assert writer._child is not None
    writer._child.stop()
    child = _ScriptedChild(writer._store.path, forced)
    writer._child = child  # type: ignore[assignment]
    return child


def test_a_busy_batch_raises_and_is_sent_again_and_a_skipped_one_too(
    store: Store, tmp_path: Path
) -> None:
    """The parent's side of the answers above: "busy" raises OperationalError (the pipeline
    retries: the call sends the batch again, marked `again`); "skipped" sends it again at once,
    now that the batch before it is stored. Both end up stored once, in order."""
    writer = _writer(store)
    child = _scripted(writer, {1: ("busy", "database is locked"), 2: ("skipped", "before")})
    try:
        first = writer.submit(_rows(*BATCHES[0]), {"demo": "0"})
        second = writer.submit(_rows(*BATCHES[1]), {"demo": "1"})
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            first()
        assert first().inserted == 300
        assert second().inserted == 300
        writer.write(_rows(*BATCHES[2]), {"demo": "2"})
        assert child.jobs == [(1, False), (2, False), (3, True), (4, True), (5, False)]
        assert writer.offloaded  # a busy database is not the child's fault
    finally:
        writer.close()
    assert _contents(Path(store.path)) == _written_here(tmp_path, BATCHES)


def test_a_failure_in_the_child_means_writing_the_batch_here(store: Store, tmp_path: Path) -> None:
    writer = _writer(store)
    _scripted(writer, {2: ("error", "RuntimeError: boom")})
    try:
        for n, batch in enumerate(BATCHES):
            assert writer.write(_rows(*batch), {"demo": str(n)}).inserted == 300
    finally:
        writer.close()
    assert _contents(Path(store.path)) == _written_here(tmp_path, BATCHES)


def test_an_in_memory_store_cannot_have_a_writer_process() -> None:
    with Store.memory() as memory, pytest.raises(ValueError, match="in-memory"):
        WriterProcess(memory)


def test_the_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A parent that dies without closing anything (SIGKILL) leaves no writer process."""
    Store.open(tmp_path / "p.db").close()
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\n"
        "from smcc.store import Store\n"
        "from smcc.store.writer import WriterProcess\n"
        f"p = WriterProcess(Store.open({str(tmp_path / 'p.db')!r}))\n"
        "print(p.child_pid, flush=True)\n"
        "time.sleep(60)\n",
        encoding="utf-8",
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        # A zombie counts as gone: it is our grandchild, reaped by init.
        with open(f"/proc/{child}/stat", encoding="ascii") as stat:
            if stat.read().split()[2] == "Z":
                return
        time.sleep(0.05)
    pytest.fail("the writer process outlived its parent")


def test_a_child_restarted_from_a_passing_thread_outlives_that_thread(store: Store) -> None:
    """Children die with their parent (Linux's parent-death signal), which follows the thread
    that started them: a restart from one of the pipeline's worker threads must not tie the new
    child to that thread."""
    writer = _writer(store, restart_delay=0.0)
    try:
        first = _kill(writer)
        deadline = time.monotonic() + 10
        while writer.offloaded and time.monotonic() < deadline:
            time.sleep(0.01)
        worker = threading.Thread(target=writer.write, args=(_rows(0, 10), {"demo": "0"}))
        worker.start()
        worker.join()
        restarted = writer.child_pid
        assert restarted not in (None, first)
        time.sleep(0.3)  # a parent-death signal would have arrived by now
        assert writer.offloaded
        assert writer.write(_rows(10, 10), {"demo": "1"}).inserted == 10
        assert writer.child_pid == restarted
    finally:
        writer.close()


def test_wait_ready_says_when_the_child_is_set_up(store: Store) -> None:
    writer = _writer(store, restart_delay=60.0)
    try:
        assert writer.wait_ready(30)
        assert writer.write(_rows(0, 10), {"demo": "0"}).inserted == 10
        _kill(writer)
        assert not writer.wait_ready(1)
    finally:
        writer.close()
