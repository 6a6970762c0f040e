"""What the queue shows, as the operator chooses it: full-text search, filters, and the jump to
the mentions behind an active alert. The base of OperatorScreen (kept apart to keep each small)."""

from __future__ import annotations

import asyncio

from textual import work
from textual.screen import Screen

from smcc.models import Alert
from smcc.tui.data import FILTER_FIELDS, ConsoleData, filter_summary, with_filter
from smcc.tui.failures import ShowsFailures
from smcc.tui.screens.choice import ChoiceScreen
from smcc.tui.screens.search import SearchScreen
from smcc.tui.widgets.queue import QueuePane

ANY = "*any*"
"""The option id for "no filter on this column" (no real value starts with '*')."""
CLEAR = "*clear*"


class FindingScreen(ShowsFailures, Screen[None]):
    data: ConsoleData

    def queue_pane(self) -> QueuePane | None:
        found = self.query(QueuePane)
        return found.first() if found else None

    def _queue_or_say(self) -> QueuePane | None:
        queue = self.queue_pane()
        if queue is None:
            self.notify("this view has no queue", severity="warning")
        return queue

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "end_search":
            queue = self.queue_pane()
            return queue is not None and queue.search is not None
        return True

    # -- search ------------------------------------------------------------------------------------

    def action_search(self) -> None:
        queue = self._queue_or_say()
        if queue is None:
            return

        def found(query: str | None) -> None:
            if query is not None:
                queue.show_search(query)
                queue.table.focus()
                self.refresh_bindings()

        self.app.push_screen(SearchScreen(queue.search), found)

    def action_end_search(self) -> None:
        queue = self.queue_pane()
        if queue is not None:
            queue.show_search(None)
            self.refresh_bindings()

    # -- filters -----------------------------------------------------------------------------------

    def action_filter_queue(self) -> None:
        queue = self._queue_or_say()
        if queue is None:
            return
        active = dict(filter_summary(queue.where))
        options = [
            (column, f"{column}: {active[column]}" if column in active else column)
            for column in FILTER_FIELDS
        ]
        options.append((CLEAR, "clear all filters"))

        def chosen(column: str | None) -> None:
            if column == CLEAR:
                queue.set_where(None)
            elif column is not None:
                self.choose_filter_value(queue, column)

        self.app.push_screen(ChoiceScreen("Filter the queue by", options), chosen)

    @work(group="filter", exclusive=True, exit_on_error=False)
    async def choose_filter_value(self, queue: QueuePane, column: str) -> None:
        try:
            values = await asyncio.to_thread(self.data.filter_values, column)
        except Exception as exc:  # a locked database: say so; the queue stays as it is
            self.notify(f"cannot read the {column} values ({exc})", severity="error", markup=False)
            return
        current = dict(filter_summary(queue.where)).get(column)
        options = [(ANY, f"any {column}"), *((v, v) for v in values)]

        def chosen(value: str | None) -> None:
            if value is not None:
                queue.set_where(with_filter(queue.where, column, None if value == ANY else value))

        self.app.push_screen(ChoiceScreen(f"Only this {column}", options, current), chosen)

    # -- alerts ------------------------------------------------------------------------------------

    @work(group="filter", exclusive=True, exit_on_error=False)
    async def action_jump_alerts(self) -> None:
        queue = self._queue_or_say()
        if queue is None:
            return
        try:
            alerts = await asyncio.to_thread(self.data.alerts)
        except Exception as exc:
            self.notify(f"cannot read the alerts ({exc})", severity="error", markup=False)
            return
        if not alerts:
            self.notify("no active alerts", timeout=3)
            return
        alerts.sort(key=lambda a: (-a.severity, a.since))
        by_id = {str(a.id): a for a in alerts}
        options = [(str(a.id), _alert_option(a)) for a in alerts]

        def chosen(alert_id: str | None) -> None:
            if alert_id is None:
                return
            alert = by_id[alert_id]
            queue.show_search(None)
            queue.set_where(with_filter(queue.where, "brand", alert.brand))
            queue.table.focus()
            self.refresh_bindings()
            self.notify(
                f"queue: mentions of {alert.brand or 'all brands'}", timeout=3, markup=False
            )

        self.app.push_screen(ChoiceScreen("Jump to the mentions of an alert", options), chosen)


def _alert_option(alert: Alert) -> str:
    subject = alert.brand or "all brands"
    if alert.keyword:
        subject += f" ({alert.keyword})"
    return f"severity {alert.severity} · {subject} · {alert.description}"
