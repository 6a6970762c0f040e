"""The status line: who ingests, each source's health, and who is at the keyboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from smcc.sources.base import HealthState, SourceHealth
from smcc.store import LeaseInfo
from smcc.tui.data import ConsoleData
from smcc.tui.format import local_time, safe_line
from smcc.tui.ingester import BackgroundIngest
from smcc.tui.widgets.live import LivePane

_HEALTH_STYLE = {
    HealthState.CONNECTED: "green",
    HealthState.STARTING: "yellow",
    HealthState.BACKING_OFF: "yellow",
    HealthState.FAILING: "bold red",
    HealthState.STOPPED: "dim",
    HealthState.FINISHED: "dim",
}


@dataclass(frozen=True)
class Ingest:
    """Who holds the ingest lease, and the sources' health that holder last published."""

    lease: LeaseInfo | None
    health: list[tuple[str, SourceHealth]]


class StatusLine(LivePane[Ingest]):
    """Reads the ingest lease when it changes; the in-process ingester's health is in memory and
    is redrawn every second without touching the store."""

    TOPICS: ClassVar[frozenset[str]] = frozenset({"leases"})

    def __init__(
        self, data: ConsoleData, ingest: BackgroundIngest | None, *, id: str | None = "status"
    ) -> None:
        super().__init__(data, id=id)
        self.ingest = ingest
        self.lease: LeaseInfo | None = None
        self.published: list[tuple[str, SourceHealth]] = []
        """The sources' health as another process, holding the lease, published it."""
        self._loaded = False

    def compose(self) -> ComposeResult:
        yield Static(id="status-text")

    def on_mount(self) -> None:
        super().on_mount()
        if self.ingest is not None:
            self.set_interval(1.0, self.redraw)

    def load(self) -> Ingest:
        lease = self.data.ingest_lease()
        published = self.data.ingest_health() if lease is not None else None
        mine = published is not None and lease is not None and published[0] == lease.holder
        return Ingest(lease, published[1] if mine and published else [])

    def show(self, result: Ingest) -> None:
        self.lease = result.lease
        self.published = result.health
        self._loaded = True
        self.redraw()

    def redraw(self) -> None:
        if self._loaded:
            self.query_one("#status-text", Static).update(self.render_status())

    def render_status(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        ingest = self.ingest
        lease = self.lease
        status = ingest.status() if ingest is not None else None
        if status is not None and status.failure:
            line.append("ingest stopped ", style="bold red")
            line.append_text(safe_line(status.failure))
        elif status is not None and lease is not None and lease.holder == status.holder:
            line.append("ingesting ", style="bold green")
            self._sources(line, status.sources)
            line.append(f"{status.stored:,} stored")
            if status.store_error:
                line.append(" · ")
                line.append_text(safe_line(status.store_error, "bold red"))
        elif status is not None and status.holder and not status.running:
            # Our ingest ended by itself: every source finished or failed (a refused token).
            line.append("ingest stopped: ", style="bold red")
            self._sources(line, status.sources)
            line.append(f"{status.stored:,} stored")
        elif lease is not None:
            line.append("viewing ", style="bold")
            line.append_text(safe_line(f"ingest by {lease.holder}"))
            if self.published:
                line.append(": ")
                self._sources(line, self.published)
                line.right_crop(3)  # the last " · "
            if status is not None and status.running:
                line.append(" · standby: takes over if it stops", style="dim")
        elif status is not None and status.running:
            line.append("starting ingest…", style="yellow")
        else:
            line.append("viewing ", style="bold")
            line.append("no ingester running (start one with `smcc ingest`)", style="dim")
        line.append("  ·  operator ", style="dim")
        line.append_text(safe_line(self.data.operator, "bold"))
        return line

    def _sources(self, line: Text, sources: list[tuple[str, SourceHealth]]) -> None:
        """`name state[ until HH:MM:SS][: reason] · ` for each source."""
        for name, health in sources:
            line.append_text(safe_line(name))
            state = health.state.value.replace("_", " ")  # "backing off", as people write
            line.append(f" {state}", style=_HEALTH_STYLE.get(health.state, ""))
            if health.state is HealthState.BACKING_OFF and health.until is not None:
                line.append(f" until {local_time(health.until, self.data.zone, seconds=True)}")
            if health.reason and health.state is not HealthState.CONNECTED:
                line.append_text(safe_line(f": {health.reason}"))
            line.append(" · ")
