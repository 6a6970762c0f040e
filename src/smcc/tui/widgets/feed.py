"""The live feed: everything arriving, newest first, coloured by sentiment."""

from __future__ import annotations

from collections import deque
from datetime import tzinfo
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from smcc.store import QueueItem
from smcc.tui.data import ConsoleData
from smcc.tui.format import local_time, safe_line, sentiment_style
from smcc.tui.widgets.live import LivePane


def feed_line(item: QueueItem, zone: tzinfo) -> Text:
    style = sentiment_style(item.sentiment, item.sentiment_label)
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(local_time(item.created_at, zone, seconds=True), style="dim")
    line.append(" ")
    line.append("●", style=style or "white")
    line.append(f" {(item.language or '??')[:2]} ", style="dim")
    line.append_text(safe_line("@" + item.author_handle, "bold"))
    line.append(" ")
    line.append_text(safe_line(item.text, style))
    return line


class FeedPane(LivePane[list[QueueItem]]):
    TOPICS: ClassVar[frozenset[str]] = frozenset({"mentions"})
    KEEP = 200
    """Lines kept in memory; the pane shows as many as fit."""

    def __init__(self, data: ConsoleData, *, id: str | None = "feed") -> None:
        super().__init__(data, id=id)
        self.items: deque[QueueItem] = deque(maxlen=self.KEEP)
        self.border_title = "Live feed"

    def compose(self) -> ComposeResult:
        yield Static(id="feed-lines")

    def load(self) -> list[QueueItem]:
        after = self.items[-1].id if self.items else 0
        return self.data.latest(after, limit=self.KEEP)

    def show(self, result: list[QueueItem]) -> None:
        if not result and self.items:
            return
        self.items.extend(result)
        zone = self.data.zone
        lines = [feed_line(item, zone) for item in reversed(self.items)]
        body = Group(*lines) if lines else Text("waiting for mentions…", style="dim")
        self.query_one("#feed-lines", Static).update(body)
