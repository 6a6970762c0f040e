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
from smcc.tui.widgets.live import LivePane

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
        line.append_text(safe_line(f" ({alert.keyword})"))
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
        body.update(Group(*(alert_line(a, self.data.zone) for a in self.alerts)))
