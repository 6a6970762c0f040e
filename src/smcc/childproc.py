"""A helper process on the next core, spoken to over its stdin and stdout.

The ingest process hands CPU-heavy stages to children (`python -m MODULE`): the analyse stage
(smcc.analysis.offload) and the SQLite writer (smcc.store.writer). Python threads share one GIL,
so only a process runs on a second core.

Children are started with `subprocess` pipes, not `multiprocessing`: multiprocessing hands
`sys.stderr`'s file descriptor to the child, and under the console (Textual) `sys.stderr` has
none. Messages are length-prefixed pickles (4 bytes, big-endian, then the pickle); the child's
stderr goes to a temporary file whose last line explains a crash in the log. A child exits when
its stdin closes (the parent stops), and is killed the moment the parent dies (Linux; elsewhere it
exits when the kernel closes the dead parent's pipes, after the job in hand).
"""

from __future__ import annotations

import contextlib
import ctypes
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
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any, Final

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

_HEADER: Final = struct.Struct(">I")
STOP_SECONDS: Final = 3.0
"""How long `stop` waits for a child to exit after its stdin closed, before killing it."""


def use_child_processes() -> bool:
    """Whether a second core is there to run the pipeline's child processes on."""
    return (os.cpu_count() or 1) > 1


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
# The child's side


_PARENT_PID = "SMCC_PARENT_PID"
_PR_SET_PDEATHSIG: Final = 1


def _die_with_parent() -> None:
    """Be killed the moment the parent dies (Linux), not when the pipe's end is noticed.

    A writer that went on with the transaction in hand after its parent was killed would commit
    a batch (and move the cursor back) while a standby ingester had already taken over; killed
    with its parent, its transaction is rolled back, as it would have been in the parent. Where
    prctl is missing the child still exits when its stdin closes."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            return
        parent = os.environ.get(_PARENT_PID)
        if parent is not None and os.getppid() != int(parent):
            os._exit(0)  # the parent died before the line above


def child_main(serve: Callable[[Iterator[Any], Callable[[object], None]], None]) -> None:
    """Run `serve(requests, answer)` on this process's stdin and stdout until stdin closes.

    `requests` yields the parent's messages (read ahead by a thread, so the parent never blocks
    on a full pipe); `answer` sends one back."""
    _die_with_parent()
    # Ctrl-C in a terminal reaches the whole process group: the parent decides when to stop
    # (it closes the pipe), so that no job it still waits for is cut off.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The frames get stdout's descriptor to themselves: anything a library prints goes to
    # stderr instead of into the protocol.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
    end = object()

    def read_ahead() -> None:
        try:
            while True:
                inbox.put(read_frame(requests))
        except (ChannelClosed, OSError, pickle.UnpicklingError):
            inbox.put(end)

    def messages() -> Iterator[Any]:
        while (message := inbox.get()) is not end:
            yield message

    threading.Thread(target=read_ahead, name="smcc-child-reader", daemon=True).start()
    with contextlib.suppress(ChannelClosed, BrokenPipeError):  # the parent went away
        serve(messages(), lambda message: write_frame(answers, message))


# ---------------------------------------------------------------------------------------------
# The parent's side

_DEAD: Final = object()
"""Put in a child's answer queue when its stdout closed: it will answer nothing more."""


def _package_root() -> str:
    """The folder that holds the `smcc` package, for the child's import path."""
    return str(Path(__file__).resolve().parents[1])


_spawns: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
_spawner_lock = threading.Lock()
_spawner: threading.Thread | None = None


def _spawn_forever() -> None:
    while True:
        start, future = _spawns.get()
        try:
            future.set_result(start())
        except BaseException as exc:
            future.set_exception(exc)


def _started_by_spawner(start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """`start()` run on the one thread that starts every child, which lives as long as this
    process: the kernel's parent-death signal (`_die_with_parent`) follows the *thread* that
    started a child, and a child restarted from one of the pipeline's worker threads was killed
    when the event loop's executor shut that thread down."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner.is_alive():
            _spawner = threading.Thread(target=_spawn_forever, name="smcc-spawner", daemon=True)
            _spawner.start()
    future: Future[subprocess.Popen[bytes]] = Future()
    _spawns.put((start, future))
    return future.result()


PIPE_BYTES: Final = 1 << 20
"""The size asked for the pipe to a child (Linux's default limit for unprivileged processes)."""


def _widen(stream: IO[bytes]) -> None:
    """Let a whole batch into the pipe at once (Linux; elsewhere the default stays).

    With the default 64 KiB a batch's rows (≈ 600 KiB) went in ten writes; between them the
    sending thread gave up the GIL and waited up to a switch interval (5 ms) to get it back
    from the busy event loop: that doubled the time of a write (bench/ingest.py)."""
    size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(stream.fileno(), size, PIPE_BYTES)


class ChildProcess:
    """One child process (`python -m module`), its pipes, and a thread that reads its answers.

    Answers are tuples whose first item is the ticket of the job they answer, in job order."""

    def __init__(self, module: str, init: object) -> None:
        # closed in stop(): it outlives this call
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_package_root(), env.get("PYTHONPATH")]))
        env[_PARENT_PID] = str(os.getpid())

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", module],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                env=env,
                close_fds=True,
            )

        try:
            self.popen = _started_by_spawner(start)
        except BaseException:
            self.stderr.close()
            raise
        assert self.popen.stdin is not None
        assert self.popen.stdout is not None
        self.requests: IO[bytes] = self.popen.stdin
        _widen(self.requests)
        self.answers: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.dead = False
        self.hung: float | None = None
        """Seconds it was given to answer, when it did not (it counts as dead then)."""
        self.reported = False
        self.stopped = False
        threading.Thread(
            target=self._read_answers,
            args=(self.popen.stdout,),
            name=f"{module}-{self.popen.pid}",
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

    def receive(self, ticket: int, timeout: float) -> tuple[Any, ...] | None:
        """The answer to `ticket`, or None if the child died before it answered or gave no
        answer for `timeout` seconds (then it counts as hung and dead)."""
        while True:
            try:
                item = self.answers.get(timeout=timeout)
            except queue.Empty:
                self.hung = timeout
                self.dead = True
                return None
            if item is _DEAD:
                self.answers.put(_DEAD)  # for every later waiter too
                return None
            assert isinstance(item, tuple)
            if item[0] == ticket:
                return item
            # an earlier ticket's answer that nobody waited for (its job was abandoned)

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the child has set itself up (imports, models, database): its `serve`
        answers ticket READY first. False if it died or took longer than `timeout`."""
        return self.receive(READY, timeout) is not None

    def why_dead(self) -> str:
        """A one-line reason for the log: exit code and the last line the child wrote."""
        if self.hung is not None:
            return f"it gave no answer in {self.hung:g} s and was stopped"
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

    def kill(self) -> None:
        """Stop it now, without waiting for the job in hand (a hung child)."""
        with contextlib.suppress(OSError):
            self.popen.kill()
        self.stop()


READY: Final = 0
"""The ticket of the answer a child gives once it is set up (jobs' tickets start at 1)."""


class Supervised:
    """A ChildProcess that is replaced when it dies, at most `max_restarts` times and
    `restart_delay` seconds apart (a child that dies at once is not restarted in a loop).

    While there is no live child, the owner does the work in its own process; `what` names the
    child in the log ("the analyse process"), `instead` says what happens meanwhile."""

    what = "the child process"
    instead = "working in this process"

    def __init__(
        self, module: str, init: object, *, restart_delay: float, max_restarts: int
    ) -> None:
        self._module = module
        self._init = init
        self._child: ChildProcess | None = None
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
        """The process id of the current child, or None while the work is done in-process."""
        return self._child.pid if self.offloaded and self._child is not None else None

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait until the child is set up, so that a measurement leaves its start-up out."""
        child = self._child
        return child is not None and not child.dead and child.wait_ready(timeout)

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
            child = ChildProcess(self._module, self._init)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            log.warning("cannot start %s (%s); %s", self.what, exc, self.instead)
            return
        weakref.finalize(self, child.stop)
        self._child = child

    def _live_child(self) -> ChildProcess | None:
        """The child to send the next job to; a dead one is replaced when it is time."""
        child = self._child
        if child is not None and child.dead:
            self._lost(child)
            child = None
        if child is None and time.monotonic() - self._last_start >= self._restart_delay:
            self._start()
            child = self._child
        return child

    def _lost(self, child: ChildProcess) -> None:
        """Log once why `child` is gone and forget it (a new one starts on a later job)."""
        if child.reported:
            return
        child.reported = True
        reason = child.why_dead()
        if child.hung is not None:
            child.kill()
        else:
            child.stop()
        if self._child is child:
            self._child = None
        then = (
            f"restarting it in {self._restart_delay:.0f}s"
            if self._starts_left > 0 and not self._closed
            else "no more restarts"
        )
        log.warning("%s died (%s); %s (%s)", self.what, reason, self.instead, then)
