"""The analyse stage in a process of its own, so that it runs on a second core.

Language detection and sentiment are pure Python for the most part and hold the GIL: in the
ingest process they leave no room for the other stages, whatever the number of cores. Here a child
process (`python -m smcc.analysis.offload`) runs `MentionAnalyzer.results` on plain tuples (texts
and brands in, `Result` tuples out, no pydantic objects), while the ingest process goes on
fetching, triaging and writing.

The child is started with `subprocess` pipes, not `multiprocessing`: multiprocessing hands
`sys.stderr`'s file descriptor to the child, and under the console (Textual) `sys.stderr` has
none, so the console could not use it. Messages are length-prefixed pickles (4 bytes, big-endian,
then the pickle) on the child's stdin and stdout; the child's stderr goes to a temporary file
whose last line explains a crash in the log.

The child only computes: everything stored is still written by the ingest process, in the same
transaction as the cursors, so crash safety is that of the pipeline. If the child cannot start or
dies, the batches it had not answered are analysed in-process (same code, same answers) — none is
lost or analysed twice — the reason is logged in one line, and a new child is started for the
batches after (at most MAX_RESTARTS times, RESTART_DELAY apart). The child exits when its stdin
closes: when the ingest process stops, and also when it is killed (the kernel closes its pipes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Final

from smcc.analysis.analyzer import MentionAnalyzer, Result, apply_results
from smcc.config import Brand
from smcc.models import Mention

log = logging.getLogger(__name__)

MAX_RESTARTS: Final = 5
"""How many times a dead child is replaced before the stage stays in-process for good."""
RESTART_DELAY: Final = 5.0
"""Seconds between starts of the child: a child that dies at once is not restarted in a loop."""
ANSWER_SECONDS = 60.0
"""How long a batch waits for the child's answer before the child counts as hung: it is killed
and the batch analysed in-process (a batch takes milliseconds; a minute means stopped, not slow)."""
STOP_SECONDS: Final = 3.0
"""How long `close` waits for the child to exit after its stdin closed, before killing it."""

_HEADER: Final = struct.Struct(">I")
_Job = tuple[int, list[str], list[str | None]]
_Answer = tuple[int, list[Result] | None, str | None]


class ChannelClosed(EOFError):
    """The other side closed the pipe (or died)."""


def write_frame(stream: IO[bytes], message: object) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise ChannelClosed("end of stream")
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise ChannelClosed("end of stream inside a message")
    # Only ever our own child's or parent's pipe: the data is ours, pickle is safe here.
    return pickle.loads(payload)


# ---------------------------------------------------------------------------------------------
# The child


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The child's loop: the first message is (languages, brands, competitors); then answer each
    job (ticket, texts, brands) with (ticket, results, None) or (ticket, None, error) until the
    parent closes the pipe. A thread reads ahead, so the parent never blocks on a full pipe."""
    languages, brands, competitors = read_frame(requests)
    analyzer = MentionAnalyzer(languages, brands, competitors)
    jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()

    def read_jobs() -> None:
        try:
            while True:
                jobs.put(read_frame(requests))
        except (ChannelClosed, OSError, pickle.UnpicklingError):
            jobs.put(None)

    threading.Thread(target=read_jobs, name="smcc-analyse-reader", daemon=True).start()
    while (job := jobs.get()) is not None:
        ticket, texts, tagged = job
        answer: _Answer
        try:
            answer = (ticket, analyzer.results(texts, tagged), None)
        except Exception as exc:  # reported to the parent, which analyses the batch itself
            answer = (ticket, None, f"{type(exc).__name__}: {exc}")
        write_frame(answers, answer)


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent decides when to stop
    # (it closes the pipe), so that no batch it still waits for is cut off.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The frames get stdout's descriptor to themselves: anything a library prints goes to
    # stderr instead of into the protocol.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with contextlib.suppress(ChannelClosed, BrokenPipeError):  # the parent went away
        serve(sys.stdin.buffer, answers)


# ---------------------------------------------------------------------------------------------
# The parent

_DEAD: Final = object()
"""Put in a child's answer queue when its stdout closed: it will answer nothing more."""


def _package_root() -> str:
    """The folder that holds the `smcc` package, for the child's import path."""
    return str(Path(__file__).resolve().parents[2])


class _Child:
    """One child process, its pipes, and a thread that reads its answers as they come."""

    def __init__(self, init: tuple[list[str], list[Brand], list[Brand]]) -> None:
        # closed in stop(): it outlives this call
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_package_root(), env.get("PYTHONPATH")]))
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "smcc.analysis.offload"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                env=env,
                close_fds=True,
            )
        except BaseException:
            self.stderr.close()
            raise
        assert self.popen.stdin is not None
        assert self.popen.stdout is not None
        self.requests: IO[bytes] = self.popen.stdin
        self.answers: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.dead = False
        self.hung = False
        self.reported = False
        self.stopped = False
        threading.Thread(
            target=self._read_answers,
            args=(self.popen.stdout,),
            name=f"smcc-analyse-{self.popen.pid}",
            daemon=True,
        ).start()
        self.send(init)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def _read_answers(self, stream: IO[bytes]) -> None:
        try:
            while True:
                self.answers.put(read_frame(stream))
        except (ChannelClosed, OSError, pickle.UnpicklingError, ValueError):
            self.dead = True
            self.answers.put(_DEAD)

    def send(self, message: object) -> bool:
        """Send a message; False if the child is gone."""
        if self.dead:
            return False
        try:
            write_frame(self.requests, message)
        except (OSError, ValueError):  # BrokenPipeError, or the pipe was closed
            self.dead = True
            return False
        return True

    def receive(self, ticket: int) -> _Answer | None:
        """The answer to `ticket` (answers come in the order of the jobs), or None if the child
        died before it answered."""
        while True:
            try:
                item = self.answers.get(timeout=ANSWER_SECONDS)
            except queue.Empty:
                self.hung = True
                self.dead = True
                return None
            if item is _DEAD:
                self.answers.put(_DEAD)  # for every later waiter too
                return None
            assert isinstance(item, tuple)
            answer: _Answer = item
            if answer[0] == ticket:
                return answer
            # an earlier ticket's answer that nobody waited for (its batch was abandoned)

    def why_dead(self) -> str:
        """A one-line reason for the log: exit code and the last line the child wrote."""
        if self.hung:
            return f"it gave no answer in {ANSWER_SECONDS:g} s and was stopped"
        try:
            code = self.popen.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        last = ""
        try:
            self.stderr.seek(0)
            lines = self.stderr.read().decode("utf-8", "replace").strip().splitlines()
            last = lines[-1].strip() if lines else ""
        except (OSError, ValueError):
            pass
        return f"exit code {code}" + (f": {last}" if last else "")

    def stop(self) -> None:
        """Close its stdin (it exits on its own), then wait; kill it if it does not exit."""
        if self.stopped:
            return
        self.stopped = self.dead = True
        with contextlib.suppress(OSError):
            self.requests.close()
        try:
            self.popen.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self.stderr.close()


class AnalyserProcess:
    """Implements the pipeline's SplitAnalyzer protocol with a child process doing the work.

    One caller at a time (the pipeline's worker threads, one after the other). While the child
    works, this process triages and writes the batch before; while `finish` waits it holds no
    GIL.
    """

    def __init__(
        self,
        languages: Sequence[str],
        brands: Sequence[Brand],
        competitors: Sequence[Brand],
        *,
        restart_delay: float = RESTART_DELAY,
        max_restarts: int = MAX_RESTARTS,
    ) -> None:
        self._args = (list(languages), list(brands), list(competitors))
        self._local: MentionAnalyzer | None = None
        self._ticket = 0
        self._child: _Child | None = None
        self._restart_delay = restart_delay
        self._starts_left = max_restarts + 1
        self._last_start = -float("inf")
        self._closed = False
        self._start()

    @property
    def offloaded(self) -> bool:
        """Whether a live child process does the work now."""
        return self._child is not None and not self._child.dead

    @property
    def child_pid(self) -> int | None:
        """The process id of the current child, or None while the stage runs in-process."""
        return self._child.pid if self.offloaded and self._child is not None else None

    def analyse(self, batch: list[Mention]) -> None:
        self.submit(batch)()

    def submit(self, batch: list[Mention]) -> Callable[[], None]:
        """Send `batch` to the child; the call returned waits for the answer and fills the
        mentions in (in-process if the child cannot answer). Calls must come back in the order
        of submission."""
        texts = [m.text for m in batch]
        tagged = [m.brand for m in batch]
        child = self._live_child()
        ticket = 0
        if child is not None:
            self._ticket += 1
            ticket = self._ticket
            if not child.send((ticket, texts, tagged)):
                self._lost(child)
                child = None

        def finish() -> None:
            results = self._receive(child, ticket) if child is not None else None
            if results is None:
                results = self._in_process().results(texts, tagged)
            apply_results(batch, results)

        return finish

    def close(self) -> None:
        """Stop the child (it also stops on its own when this process exits)."""
        self._closed = True
        child, self._child = self._child, None
        if child is not None:
            child.stop()

    def _start(self) -> None:
        if self._closed or self._starts_left <= 0:
            return
        self._starts_left -= 1
        self._last_start = time.monotonic()
        try:
            child = _Child(self._args)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            log.warning("cannot start the analyse process (%s); analysing in-process", exc)
            return
        weakref.finalize(self, child.stop)
        self._child = child

    def _live_child(self) -> _Child | None:
        """The child to send the next batch to; a dead one is replaced when it is time."""
        child = self._child
        if child is not None and child.dead:
            self._lost(child)
            child = None
        if child is None and time.monotonic() - self._last_start >= self._restart_delay:
            self._start()
            child = self._child
        return child

    def _receive(self, child: _Child, ticket: int) -> list[Result] | None:
        answer = child.receive(ticket)
        if answer is None:
            self._lost(child)
            return None
        _, results, error = answer
        if error is not None:
            # The child is alive but this batch failed there: analyse it here (the same code
            # will most likely fail the same way and the pipeline reports it).
            log.warning(
                "the analyse process failed on a batch (%s); analysing it in-process", error
            )
            return None
        return results

    def _lost(self, child: _Child) -> None:
        """Log once why `child` is gone and forget it (a new one starts on a later batch)."""
        if child.reported:
            return
        child.reported = True
        reason = child.why_dead()
        child.stop()
        if self._child is child:
            self._child = None
        then = (
            f"restarting it in {self._restart_delay:.0f}s"
            if self._starts_left > 0 and not self._closed
            else "no more restarts"
        )
        log.warning(
            "the analyse process died (%s); analysing in the ingest process (%s)", reason, then
        )

    def _in_process(self) -> MentionAnalyzer:
        if self._local is None:
            self._local = MentionAnalyzer(*self._args)
        return self._local


def use_analyser_process() -> bool:
    """Whether a second core is there to run the analyse stage on."""
    return (os.cpu_count() or 1) > 1


if __name__ == "__main__":
    main()
