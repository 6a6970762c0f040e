"""The store's writes of the ingest pipeline in a process of their own, on the second core.

SQLite releases the GIL while it works, but the sqlite3 module takes it back after every step, and
with the pipeline's Python stages holding it in the ingest process the writer thread waited for it
most of the time: the two ran one after the other (bench/ingest.py measured the write at 21 µs of
CPU a mention stretched to 38 µs of wall clock). A child process (`python -m smcc.store.writer`)
gets the rows that `prepare_batch` made and runs `Store.insert_prepared` on its own connection:
the batch and every source's cursor in one transaction, exactly as in-process.

Crash safety stays that of the pipeline: a batch is committed whole or not at all, with its
cursors. If the child dies or hangs, the batch goes to the ingest process's own connection; if the
child had committed it before dying, writing it again stores nothing twice (the mentions' unique
keys; author counts, rollups and the full-text index count only new rows) and sets the same
cursors. A child that cannot be used is replaced (see `smcc.childproc.Supervised`). When the
ingest process is killed the child is killed with it (Linux) and the transaction in hand is rolled
back, as it would have been in-process; elsewhere the child finishes it and exits.

The next batch is sent while one is written, so that the child never waits for the parent; after
a failed write the child skips what is queued behind it until the parent sends it again (batches
commit in order: each moves its sources' cursors).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import marshal
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any, Final

from smcc.childproc import READY, ChildProcess, Supervised, child_main
from smcc.store.store import BatchResult, PreparedBatch, Store

log = logging.getLogger(__name__)

MAX_RESTARTS: Final = 5
RESTART_DELAY: Final = 5.0
ANSWER_SECONDS = 120.0
"""How long a batch waits for the child before it counts as hung (a write waits up to the busy
timeout, 10 s, for another process's transaction; two minutes means stopped, not slow)."""

YOUNG_COLLECTION_EVERY: Final = 50_000
"""The child's threshold for collecting the youngest generation (as the pipeline's)."""

_Job = tuple[int, bool, bytes, dict[str, str | None] | None]


def _encode(rows: PreparedBatch) -> bytes:
    """A batch's rows for the pipe: marshal, not pickle, because its rows are plain tuples of
    str, int, float and None, and marshal makes and reads them in three quarters of the time
    (≈ 1.2 instead of 1.5 µs a mention on each side, and each side is on the critical path)."""
    return marshal.dumps((rows.mentions, rows.authors, rows.terms, rows.term_sets, rows.rollups))


def _decode(data: bytes) -> PreparedBatch:
    mentions, authors, terms, term_sets, rollups = marshal.loads(data)
    return PreparedBatch(mentions, authors, terms, term_sets, rollups)


CHECKPOINT_PAGES: Final = 10_000
"""The writer connection's own `wal_autocheckpoint`, a backstop for the Checkpointer (SQLite's
default is 1,000 pages)."""


class Checkpointer:
    """Copies the write-ahead log into the database file on a thread (and connection) of its
    own, after each batch.

    By default the connection that commits past 1,000 pages of log makes that copy itself,
    between two batches: one batch in ten or so took half as long again, and the writer fell
    behind the ingest process (bench/ingest.py: 46,300 → 49,600 mentions/s for the foundation
    stages). While SQLite copies, the GIL is free and the writes go on; a checkpoint waits for
    nobody (PASSIVE). The writer's own automatic checkpoint stays as a backstop at
    CHECKPOINT_PAGES, so that the log is still copied (and can start over) if this thread falls
    behind."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._due = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="smcc-checkpoint", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """A batch was committed: copy the log (now, or after the copy running now)."""
        self._due.set()

    def close(self) -> None:
        self._closed = True
        self._due.set()
        self._thread.join()
        self._store.close()

    def _run(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            if self._closed:
                return
            # Busy now (another process checkpoints, say): the next batch asks again.
            with contextlib.suppress(sqlite3.Error):
                self._store.checkpoint()


def serve(requests: Iterator[Any], answer: Callable[[object], None]) -> None:
    """The child's loop: the first message is the database's path; then answer each job
    (ticket, again, rows, cursors) with (ticket, BatchResult, None) or (ticket, None, (kind,
    error)): kind "busy" for an sqlite3.OperationalError (locked, full: the pipeline retries),
    "error" for anything else, and "skipped" for a job that came after a failed one.

    Batches must be committed in order (each moves its sources' cursors), and the next batch is
    already queued here while one is written: after a failure every job is skipped until one
    comes marked `again` (sent again by the parent once everything before it is stored)."""
    path: str = next(requests)
    # Each batch arrives as ≈ 2,000 row tuples, freed by reference counting once written: with
    # Python's default threshold the young generation was collected every 700 of them, for
    # nothing (0.2 µs a mention); cyclic garbage is still collected.
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
    with Store.open(path, create=False) as store:
        # This connection only runs insert_prepared, whose author ids come from the authors
        # table in the same statement: the foreign key check could never fail (≈ 1.3 µs a
        # mention).
        store.conn.execute("PRAGMA foreign_keys = OFF")
        store.conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        answer((READY, None, None))
        checkpoints = Checkpointer(store.another())
        try:
            _write_jobs(store, requests, answer, checkpoints)
        finally:
            checkpoints.close()


def _write_jobs(
    store: Store,
    requests: Iterator[Any],
    answer: Callable[[object], None],
    checkpoints: Checkpointer,
) -> None:
    failed = False
    job: _Job
    for job in requests:
        ticket, again, encoded, cursors = job
        reply: tuple[int, BatchResult | None, tuple[str, str] | None]
        if failed and not again:
            answer((ticket, None, ("skipped", "a batch before it failed")))
            continue
        failed = True
        try:
            reply = (ticket, store.insert_prepared(_decode(encoded), cursors), None)
            failed = False
        except sqlite3.OperationalError as exc:
            reply = (ticket, None, ("busy", str(exc)))
        except Exception as exc:
            reply = (ticket, None, ("error", f"{type(exc).__name__}: {exc}"))
        else:
            checkpoints.nudge()
        answer(reply)


def main() -> None:
    child_main(serve)


class WriterProcess(Supervised):
    """`write(rows, cursors)` like `store.insert_prepared`, done by a child process.

    Batches are waited for in the order they were submitted; while a worker thread waits for
    the child it holds no GIL."""

    what = "the writer process"
    instead = "writing in the ingest process"

    def __init__(
        self,
        store: Store,
        *,
        restart_delay: float = RESTART_DELAY,
        max_restarts: int = MAX_RESTARTS,
    ) -> None:
        if store.path == ":memory:":
            raise ValueError("an in-memory database cannot be written from another process")
        self._store = store
        self._ticket = 0
        self._lock = threading.Lock()
        """A batch is submitted (in one worker thread) while the one before is waited for (in
        another): sending, and replacing a dead child, happen under this lock."""
        super().__init__(
            "smcc.store.writer", store.path, restart_delay=restart_delay, max_restarts=max_restarts
        )

    def submit(
        self, rows: PreparedBatch, cursors: dict[str, str | None] | None = None
    ) -> Callable[[], BatchResult]:
        """Send a batch to the child now; the call returned waits for it to be stored and
        returns what `Store.insert_prepared` would. That call raises sqlite3.OperationalError
        when the database is locked or full; calling it again sends the batch again.

        The pipeline submits the next batch while the one before is being written, so that the
        child never waits for it; it calls the returned calls in the order of submission."""
        encoded: bytes | None = None
        try:
            encoded = _encode(rows)
        except ValueError:  # a value marshal cannot carry (none should be there): write here
            log.warning("a batch could not be encoded for the writer process; writing it here")
        sent = None if encoded is None else self._send(encoded, cursors, again=False)

        def finish() -> BatchResult:
            nonlocal sent
            while encoded is not None:
                current = sent if sent is not None else self._send(encoded, cursors, again=True)
                sent = None
                if current is None:
                    break
                child, ticket = current
                answer = child.receive(ticket, ANSWER_SECONDS)
                if answer is None:
                    with self._lock:
                        self._lost(child)
                    break
                _, result, error = answer
                if error is None:
                    assert isinstance(result, BatchResult)
                    return result
                kind, message = error
                if kind == "busy":
                    raise sqlite3.OperationalError(message)
                if kind == "skipped":  # a batch before this one failed; it is stored now
                    continue  # send this one again
                # "error": not the database's state but a failure in the child; the ingest
                # process tries the batch itself (and reports what goes wrong there).
                break
            return self._store.insert_prepared(rows, cursors)

        return finish

    def write(
        self, rows: PreparedBatch, cursors: dict[str, str | None] | None = None
    ) -> BatchResult:
        """Store the rows and the cursors in one transaction, as `Store.insert_prepared`."""
        return self.submit(rows, cursors)()

    def _send(
        self, encoded: bytes, cursors: dict[str, str | None] | None, *, again: bool
    ) -> tuple[ChildProcess, int] | None:
        """Send an encoded batch to the live child (started again if it is time); the child and
        the job's ticket, or None when there is no child to send it to."""
        with self._lock:
            child = self._live_child()
            if child is None:
                return None
            self._ticket += 1
            ticket = self._ticket
            if not child.send((ticket, again, encoded, cursors)):
                self._lost(child)
                return None
            return child, ticket


if __name__ == "__main__":
    main()
