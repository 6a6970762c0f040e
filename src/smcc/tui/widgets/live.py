"""LivePane: the base of every pane that shows data from the store."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from textual import work
from textual.containers import Vertical

from smcc.tui.failures import ShowsFailures
from smcc.tui.messages import StoreChanged

if TYPE_CHECKING:
    from smcc.tui.data import ConsoleData


T = TypeVar("T")


class LivePane(ShowsFailures, Vertical, Generic[T]):
    """A pane that reloads when one of its store topics changes.

    Subclasses name their `TOPICS` and implement `load()` (runs in a worker thread, returns what to
    show) and `show()` (runs on the UI thread). A reload that is still running when the next change
    arrives is cancelled: only the latest data is shown.
    """

    TOPICS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, data: ConsoleData, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=f"pane {classes}".strip())
        self.data = data
        self._seen: dict[str, int] = {}

    def on_mount(self) -> None:
        self.reload()

    def on_store_changed(self, message: StoreChanged) -> None:
        topics = self.topics()
        moved = any(self._seen.get(t) != message.counters.get(t) for t in topics)
        self._seen = {t: message.counters.get(t, 0) for t in topics}
        if moved:
            self.reload()

    def topics(self) -> frozenset[str]:
        return self.TOPICS

    @work(exclusive=True, group="reload", exit_on_error=False)
    async def reload(self) -> None:
        try:
            result = await asyncio.to_thread(self.load)
        except Exception as exc:  # a pane that cannot load says so and keeps its last data
            self.show_error(exc)
            return
        try:
            self.show(result)
        except Exception as exc:  # a pane that cannot draw what it read: said, never fatal
            self.notify(
                f"{self.border_title or self.id}: cannot show the latest data ({exc!r})",
                severity="error",
                markup=False,
            )

    def load(self) -> T:
        raise NotImplementedError

    def show(self, result: T) -> None:
        raise NotImplementedError

    def show_error(self, exc: Exception) -> None:
        self.notify(
            f"{self.border_title or self.id}: cannot read the store ({exc}); retrying on the "
            "next change",
            severity="error",
            markup=False,
        )
