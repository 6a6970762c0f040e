"""The analyse stage in a process of its own, so that it runs on a second core.

Language detection and sentiment are pure Python for the most part and hold the GIL: in the
ingest process they leave no room for the other stages, whatever the number of cores. Here a child
process (`python -m smcc.analysis.offload`) runs `MentionAnalyzer.results` on plain tuples (texts
and brands in, `Result` tuples out, no pydantic objects), while the ingest process goes on
fetching, triaging and writing.

How the child is started, spoken to and replaced is `smcc.childproc` (shared with the SQLite
writer's child, `smcc.store.writer`).

The child only computes: what it found is stored with the batch, in the same transaction as the
cursors, so crash safety is that of the pipeline. If the child cannot start, dies or hangs, the
batches it had not answered are analysed in-process (same code, same answers) — none is lost or
analysed twice — the reason is logged in one line, and a new child is started for the batches
after (at most MAX_RESTARTS times, RESTART_DELAY apart).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from smcc.analysis.analyzer import MentionAnalyzer, Result, apply_results
from smcc.childproc import READY, Supervised, child_main
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
_Job = tuple[int, list[str], list[str | None]]
_Answer = tuple[int, list[Result] | None, str | None]


# ---------------------------------------------------------------------------------------------
# The child


def serve(requests: Iterator[Any], answer: Callable[[object], None]) -> None:
    """The child's loop: the first message is (languages, brands, competitors); then answer each
    job (ticket, texts, brands) with (ticket, results, None) or (ticket, None, error) until the
    parent closes the pipe."""
    languages, brands, competitors = next(requests)
    analyzer = MentionAnalyzer(languages, brands, competitors)
    answer((READY, None, None))
    job: _Job
    for job in requests:
        ticket, texts, tagged = job
        reply: _Answer
        try:
            reply = (ticket, analyzer.results(texts, tagged), None)
        except Exception as exc:  # reported to the parent, which analyses the batch itself
            reply = (ticket, None, f"{type(exc).__name__}: {exc}")
        answer(reply)


def main() -> None:
    child_main(serve)


# ---------------------------------------------------------------------------------------------
# The parent


class AnalyserProcess(Supervised):
    """Implements the pipeline's SplitAnalyzer protocol with a child process doing the work.

    One caller at a time (the pipeline's worker threads, one after the other). While the child
    works, this process triages and writes the batch before; while `finish` waits it holds no
    GIL.
    """

    what = "the analyse process"
    instead = "analysing in the ingest process"

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
        super().__init__(
            "smcc.analysis.offload",
            self._args,
            restart_delay=restart_delay,
            max_restarts=max_restarts,
        )

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
            results = None
            if child is not None:
                answer = child.receive(ticket, ANSWER_SECONDS)
                if answer is None:
                    self._lost(child)
                elif answer[2] is not None:
                    # The child is alive but this batch failed there: analyse it here (the same
                    # code will most likely fail the same way and the pipeline reports it).
                    log.warning(
                        "the analyse process failed on a batch (%s); analysing it in-process",
                        answer[2],
                    )
                else:
                    results = answer[1]
            if results is None:
                results = self._in_process().results(texts, tagged)
            apply_results(batch, results)

        return finish

    def _in_process(self) -> MentionAnalyzer:
        if self._local is None:
            self._local = MentionAnalyzer(*self._args)
        return self._local


if __name__ == "__main__":
    main()
