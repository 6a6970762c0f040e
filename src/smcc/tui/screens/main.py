"""The main screen: queues and live feed on the left, the detail and the sentiment meters on the
right, alerts on top, the status line at the bottom."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer

from smcc.store import MentionFilter
from smcc.tui.data import ConsoleData
from smcc.tui.ingester import BackgroundIngest
from smcc.tui.keys import RESIZE_KEYS, bindings
from smcc.tui.layout import SHORT_BELOW, Layout, load_layout, save_layout
from smcc.tui.screens.operator import OperatorScreen
from smcc.tui.widgets.alerts import AlertsPane
from smcc.tui.widgets.calendar import CalendarPane
from smcc.tui.widgets.detail import DetailPane
from smcc.tui.widgets.feed import FeedPane
from smcc.tui.widgets.meters import MetersPane
from smcc.tui.widgets.queue import QueuePane
from smcc.tui.widgets.status import StatusLine


class MainScreen(OperatorScreen):
    outbox_notices = True
    BINDINGS: ClassVar[list[BindingType]] = bindings(RESIZE_KEYS)
    # Below this height the meters give their rows to the queue (unless the operator asks for
    # them with their key); `.-short` / `.-tall` are set on the screen by Textual.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_BELOW, "-tall")]  # noqa: RUF012 (Textual's type)

    def __init__(
        self,
        data: ConsoleData,
        ingest: BackgroundIngest | None = None,
        *,
        where: MentionFilter | None = None,
        layout_file: Path | None = None,
    ) -> None:
        super().__init__(data, name="main")
        self.ingest = ingest
        self.where = where
        self.pane_layout_file = layout_file
        """Where the layout is remembered; None: not remembered (tests, one-off runs)."""
        self.pane_layout = load_layout(layout_file) if layout_file is not None else Layout()

    def compose(self) -> ComposeResult:
        yield AlertsPane(self.data)
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield QueuePane(self.data, where=self.where)
                yield FeedPane(self.data)
            with Vertical(id="right"):
                yield DetailPane(self.data)
                yield MetersPane(self.data)
                yield CalendarPane(self.data)
        yield StatusLine(self.data, self.ingest)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#queue-table").focus()
        for pane_id, shown in self.pane_layout.shown.items():
            for pane in self.query(f"#{pane_id}"):
                pane.display = shown
        self.apply_layout()

    def on_resize(self) -> None:
        # The breakpoint classes change with the size, and with them whether the meters show.
        self.call_after_refresh(self.apply_layout)

    def apply_layout(self) -> None:
        """Size the columns; the right column goes when both its panes are hidden, and the left
        then takes the whole width."""
        right = self.query_one("#right")
        right.display = any(p.display for p in right.query_children(".pane"))
        left = self.query_one("#left")
        if not right.display:
            left.styles.width = "1fr"
        elif self.pane_layout.left is not None:
            left.styles.width = f"{self.pane_layout.left}%"
        else:
            left.styles.clear_rule("width")  # the stylesheet's default

    def action_toggle_pane(self, pane_id: str) -> None:
        super().action_toggle_pane(pane_id)
        for pane in self.query(f"#{pane_id}"):
            self.pane_layout.shown[pane_id] = pane.display
            if pane.can_focus:  # the calendar: its keys work once it is shown
                (pane if pane.display else self.query_one("#queue-table")).focus()
        self.apply_layout()
        self.remember_layout()

    def action_resize_left(self, step: int) -> None:
        self.pane_layout = self.pane_layout.resized(step)
        self.apply_layout()
        self.remember_layout()

    @work(group="layout", exclusive=True, exit_on_error=False)
    async def remember_layout(self) -> None:
        if self.pane_layout_file is None:
            return
        try:
            await asyncio.to_thread(save_layout, self.pane_layout_file, self.pane_layout)
        except OSError as exc:  # a read-only home: the layout holds for this run only
            self.notify(f"cannot remember the layout ({exc})", severity="warning", markup=False)
