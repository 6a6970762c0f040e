"""A single pane full-screen, for `smcc view NAME` (one pane of a tmux wall)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

from smcc.store import MentionFilter
from smcc.tui.data import ConsoleData
from smcc.tui.screens.operator import OperatorScreen
from smcc.tui.widgets.alerts import AlertsPane
from smcc.tui.widgets.approvals import OutboxDesk
from smcc.tui.widgets.calendar import CalendarPane
from smcc.tui.widgets.detail import DetailPane
from smcc.tui.widgets.feed import FeedPane
from smcc.tui.widgets.meters import MetersPane
from smcc.tui.widgets.queue import QueuePane

VIEWS = ("queue", "feed", "detail", "meters", "alerts", "calendar", "approvals")


class ViewScreen(OperatorScreen):
    def __init__(
        self,
        data: ConsoleData,
        view: str,
        *,
        tier: int | None = None,
        where: MentionFilter | None = None,
    ) -> None:
        if view not in VIEWS:
            raise ValueError(f"no view named {view!r}; choose one of {', '.join(VIEWS)}")
        super().__init__(data, name=f"view-{view}")
        self.view = view
        self.outbox_notices = view == "approvals"
        self.tier = tier
        self.where = where

    def pane(self) -> Widget:
        if self.view == "queue":
            tiers = (self.tier,) if self.tier else (1, 2, 3)
            return QueuePane(self.data, tier=tiers[0], tiers=tiers, where=self.where)
        if self.view == "feed":
            return FeedPane(self.data)
        if self.view == "detail":
            # Follows what this operator selects in a `queue` view in another process.
            return DetailPane(self.data, follow_store=True)
        if self.view == "meters":
            return MetersPane(self.data)
        if self.view == "calendar":
            return CalendarPane(self.data)
        if self.view == "approvals":
            return OutboxDesk(self.data)  # the approvers' queue and the operator's drafts
        return AlertsPane(self.data, always=True)

    def compose(self) -> ComposeResult:
        yield self.pane()
        yield Footer()

    def on_mount(self) -> None:
        tables = self.query("#queue-table, #approvals-table, #calendar")
        if tables:
            tables.first().focus()
