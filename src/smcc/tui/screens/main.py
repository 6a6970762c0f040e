"""The main screen: queues and live feed on the left, the detail on the right, alerts on top."""

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
from smcc.tui.widgets.queue import QueuePane
from smcc.tui.widgets.status import StatusLine


class MainScreen(OperatorScreen):
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
            yield DetailPane(self.data)
        yield StatusLine(self.data, self.ingest)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#queue-table").focus()
