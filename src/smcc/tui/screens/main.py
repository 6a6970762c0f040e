"""The main screen: queues and live feed on the left, the detail and the sentiment meters on the
right, alerts on top, the status line at the bottom."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer

from smcc.store import MentionFilter
from smcc.tui.data import ConsoleData
from smcc.tui.ingester import BackgroundIngest
from smcc.tui.screens.operator import OperatorScreen
from smcc.tui.widgets.alerts import AlertsPane
from smcc.tui.widgets.detail import DetailPane
from smcc.tui.widgets.feed import FeedPane
from smcc.tui.widgets.meters import MetersPane
from smcc.tui.widgets.queue import QueuePane
from smcc.tui.widgets.status import StatusLine


class MainScreen(OperatorScreen):
    # Below this height the meters give their rows to the queue (unless the operator asks for
    # them with their key); `.-short` / `.-tall` are set on the screen by Textual.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]  # noqa: RUF012 (typed so by Textual)

    def __init__(
        self,
        data: ConsoleData,
        ingest: BackgroundIngest | None = None,
        *,
        where: MentionFilter | None = None,
    ) -> None:
        super().__init__(data, name="main")
        self.ingest = ingest
        self.where = where

    def compose(self) -> ComposeResult:
        yield AlertsPane(self.data)
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield QueuePane(self.data, where=self.where)
                yield FeedPane(self.data)
            with Vertical(id="right"):
                yield DetailPane(self.data)
                yield MetersPane(self.data)
        yield StatusLine(self.data, self.ingest)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#queue-table").focus()
