"""The analyse stage in a process of its own, so that it runs on a second core.

Language detection and sentiment are pure Python for the most part and hold the GIL: in the
ingest process they leave no room for the other stages, whatever the number of cores. Here a child
process runs `MentionAnalyzer.results` on plain tuples (texts and brands in, `Result` tuples out,
no pydantic objects pickled), while the ingest process goes on fetching, triaging and writing.

The child only computes: everything stored is still written by the ingest process, in the same
transaction as the cursors, so crash safety is that of the pipeline. The answers are the same
code's; if the child cannot start or dies, the stage runs in-process from then on (same results,
slower) and says so in the log. The child exits when the ingest process goes away, also after a
SIGKILL (it looks at its parent whenever it waits for work).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

from smcc.analysis.analyzer import MentionAnalyzer, Result, apply_results
from smcc.config import Brand
from smcc.models import Mention

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
"""How often the child looks whether its parent still lives, and the parent whether the child
does, while they wait for each other."""

_Job = tuple[int, list[str], list[str | None]]
_Answer = tuple[int, list[Result] | None, str | None]


def _serve(
    languages: Sequence[str],
    brands: Sequence[Brand],
    competitors: Sequence[Brand],
    jobs: Queue[_Job | None],
    answers: Queue[_Answer],
) -> None:
    """The child: answer jobs until told to stop or the parent is gone."""
    parent = multiprocessing.parent_process()
    analyzer = MentionAnalyzer(languages, brands, competitors)
    while True:
        try:
            job = jobs.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return
            continue
        if job is None:
            return
        ticket, texts, tagged = job
        try:
            answers.put((ticket, analyzer.results(texts, tagged), None))
        except Exception as exc:  # reported to the parent, which analyses the batch itself
            answers.put((ticket, None, f"{type(exc).__name__}: {exc}"))


class AnalyserProcess:
    """Implements the pipeline's SplitAnalyzer protocol with a child process doing the work.

    One caller at a time (the pipeline's worker threads, one after the other). While the child
    works, this process triages and writes the batch before; while `finish` waits it holds no
    GIL.
    """

    def __init__(
        self, languages: Sequence[str], brands: Sequence[Brand], competitors: Sequence[Brand]
    ) -> None:
        self._args = (list(languages), list(brands), list(competitors))
        self._local: MentionAnalyzer | None = None
        self._ticket = 0
        self._process: BaseProcess | None = None
        context = multiprocessing.get_context("spawn")  # fork is unsafe with threads around
        try:
            self._jobs: Queue[_Job | None] = context.Queue()
            self._answers: Queue[_Answer] = context.Queue()
            self._process = context.Process(
                target=_serve,
                args=(*self._args, self._jobs, self._answers),
                name="smcc-analyse",
                daemon=True,
            )
            self._process.start()
        except (OSError, ValueError) as exc:
            # ValueError: multiprocessing hands sys.stderr's descriptor to its helper process,
            # and a UI that replaced sys.stderr (Textual) has none.
            self._process = None
            log.warning("cannot start the analyse process (%s); analysing in-process", exc)
            return
        weakref.finalize(self, _stop, self._process, self._jobs)

    @property
    def offloaded(self) -> bool:
        """Whether the child process does the work (False once it failed)."""
        return self._process is not None

    def analyse(self, batch: list[Mention]) -> None:
        self.submit(batch)()

    def submit(self, batch: list[Mention]) -> Callable[[], None]:
        """Send `batch` to the child; the call returned waits for the answer and fills the
        mentions in. Calls must come back in the order of submission."""
        texts = [m.text for m in batch]
        tagged = [m.brand for m in batch]
        ticket: int | None = None
        if self._process is not None:
            self._ticket += 1
            ticket = self._ticket
            self._jobs.put((ticket, texts, tagged))

        def finish() -> None:
            results = self._receive(ticket) if ticket is not None else None
            if results is None:
                results = self._in_process().results(texts, tagged)
            apply_results(batch, results)

        return finish

    def close(self) -> None:
        """Stop the child (it also stops on its own when this process exits)."""
        if self._process is not None:
            _stop(self._process, self._jobs)
            self._process = None

    def _receive(self, ticket: int) -> list[Result] | None:
        """The child's answer to `ticket`, or None if it cannot give one (then it is stopped)."""
        while True:
            process = self._process
            if process is None:  # it failed on an earlier batch
                return None
            try:
                answer, results, error = self._answers.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not process.is_alive():
                    self._fall_back(f"the analyse process died (exit code {process.exitcode})")
                    return None
                continue
            if answer != ticket:  # the answer to a batch abandoned after an error
                continue
            if error is not None:
                self._fall_back(f"the analyse process failed: {error}")
                return None
            return results

    def _fall_back(self, reason: str) -> None:
        log.warning("%s; analysing in the ingest process from now on", reason)
        _stop(self._process, self._jobs)
        self._process = None

    def _in_process(self) -> MentionAnalyzer:
        if self._local is None:
            self._local = MentionAnalyzer(*self._args)
        return self._local


def _stop(process: BaseProcess | None, jobs: Queue[Any]) -> None:
    if process is None or process.pid is None:
        return
    if process.is_alive():
        try:
            jobs.put(None)
            process.join(timeout=2.0)
        except (OSError, ValueError):
            pass
        if process.is_alive():
            process.kill()
            process.join(timeout=2.0)
    jobs.cancel_join_thread()


def use_analyser_process() -> bool:
    """Whether a second core is there to run the analyse stage on."""
    return (os.cpu_count() or 1) > 1
