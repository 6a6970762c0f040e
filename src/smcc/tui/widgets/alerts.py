"""The alerts banner: shown while a crisis alert is active (severity, brand, since when)."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from smcc.models import Alert
from smcc.tui.data import ConsoleData
from smcc.tui.format import local_time, safe_line
from smcc.tui.layout import SHORT_BELOW
from smcc.tui.widgets.live import LivePane

BANNER_LINES = 5
SHORT_BANNER_LINES = 2
"""Lines the banner may take over the main screen (fewer on a short one: the queue needs them);
more alerts than that end in a "+N more" line."""
CRITICAL = 7
"""Severity (1–10) from which an alert turns the banner red."""


def is_critical(alert: Alert) -> bool:
    return alert.severity >= CRITICAL


def alert_line(alert: Alert, zone: tzinfo) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f" SEVERITY {alert.severity} ", style="bold reverse")
    line.append(" ")
    line.append_text(safe_line(alert.brand or "all brands", "bold"))
    if alert.keyword:
        line.append(" ")  # apart: safe_line trims the edges of what it is given
        line.append_text(safe_line(f"({alert.keyword})"))
    line.append(f" since {local_time(alert.since, zone)} · {alert.kind.value} · ")
    line.append_text(safe_line(alert.description))
    return line


class AlertsPane(LivePane[list[Alert]]):
    """Hidden while no alert is active; one line per alert otherwise (most severe first)."""

    TOPICS: ClassVar[frozenset[str]] = frozenset({"alerts"})

    def __init__(self, data: ConsoleData, *, always: bool = False, id: str | None = "alerts"):
        super().__init__(data, id=id)
        self.always = always
        """A full-screen `alerts` view stays visible and says when all is quiet."""
        self.alerts: list[Alert] = []
        self.display = always

    def compose(self) -> ComposeResult:
        yield Static(id="alert-lines")

    def load(self) -> list[Alert]:
        return self.data.alerts()

    def show(self, result: list[Alert]) -> None:
        self.alerts = sorted(result, key=lambda a: (-a.severity, a.since))
        self.display = self.always or bool(self.alerts)
        self.set_class(any(is_critical(a) for a in self.alerts), "critical")
        body = self.query_one("#alert-lines", Static)
        if not self.alerts:
            body.update(Text("no active alerts", style="dim"))
            return
        self._draw()

    def on_resize(self) -> None:
        if self.alerts:
            self._draw()

    def _draw(self) -> None:
        body = self.query_one("#alert-lines", Static)
        limit = len(self.alerts)
        if not self.always:
            short = self.app.size.height < SHORT_BELOW
            limit = SHORT_BANNER_LINES if short else BANNER_LINES
        lines = [alert_line(a, self.data.zone) for a in self.alerts]
        if len(lines) > limit:
            more = len(lines) - limit + 1
            lines[limit - 1 :] = [
                Text(f"  +{more} more alerts · a: jump to the mentions of one", style="bold")
            ]
        body.update(Group(*lines))
