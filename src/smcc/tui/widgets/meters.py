"""The sentiment meters: per brand the current sentiment as a gauge and the last hour as a
sparkline, then the volume per source. Read from the per-minute rollups, never from mentions."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from smcc.tui.data import ConsoleData
from smcc.tui.format import safe_line, sentiment_style
from smcc.tui.series import Meters, Series
from smcc.tui.widgets.live import LivePane

NAME_WIDTH = 12
GAUGE_WIDTH = 9
LABEL_WIDTH = NAME_WIDTH + 1 + 5 + 1 + GAUGE_WIDTH + 1
MIN_LINE = 12
"""Fewer sparkline cells than this say too little: the row goes on two lines instead."""
REFRESH_SECONDS = 30.0
"""Reload this often even when nothing arrives, so the hour slides and quiet minutes show."""


def _name(name: str) -> Text:
    text = safe_line(name, "bold")
    text.truncate(NAME_WIDTH, overflow="ellipsis", pad=True)
    return text


def gauge(value: float, width: int = GAUGE_WIDTH) -> Text:
    """A needle on a −1…+1 scale: `──●──┼────` with the centre marked."""
    clamped = max(-1.0, min(1.0, value))
    needle = round((clamped + 1) / 2 * (width - 1))
    centre = (width - 1) // 2
    cells = ["┼" if i == centre else "─" for i in range(width)]
    cells[needle] = "●"
    return Text("".join(cells), style=sentiment_style(value) or "white")


def brand_label(series: Series) -> Text:
    line = _name(series.name)
    line.append(" ")
    if series.current is None:
        line.append("no data".ljust(5 + 1 + GAUGE_WIDTH), style="dim")
    else:
        line.append(f"{series.current:+.2f}", style=sentiment_style(series.current) or "bold")
        line.append(" ")
        line.append_text(gauge(series.current))
    line.append(" ")
    return line


def source_label(series: Series) -> Text:
    line = _name(series.name)
    line.append(" ")
    line.append(f"{series.volume:,}/h".rjust(5 + 1 + GAUGE_WIDTH))
    line.append(" ")
    return line


class MeterRow(Horizontal):
    """One series: its label (gauge or volume) and a sparkline of the last hour."""

    def __init__(self, kind: str, series: Series) -> None:
        super().__init__(classes=f"meter-row {kind}")
        self.kind = kind
        self.series = series

    def _label(self) -> Text:
        return brand_label(self.series) if self.kind == "brand" else source_label(self.series)

    def _line(self) -> list[float]:
        if self.kind == "brand":
            return self.series.sentiment_line()
        return [float(c) for c in self.series.counts]

    def compose(self) -> ComposeResult:
        yield Static(self._label(), classes="meter-label")
        line = self._line()
        # No scores in the hour: no line at all (an empty Sparkline draws a flat one).
        yield Sparkline(line, classes="meter-line").set_styles(
            "display: block;" if line else "display: none;"
        )

    def update(self, series: Series) -> None:
        self.series = series
        self.query_one(".meter-label", Static).update(self._label())
        sparkline = self.query_one(Sparkline)
        sparkline.data = line = self._line()
        sparkline.display = bool(line)


class MetersPane(LivePane[Meters]):
    TOPICS: ClassVar[frozenset[str]] = frozenset({"mentions"})

    def __init__(self, data: ConsoleData, *, id: str | None = "meters") -> None:
        super().__init__(data, id=id)
        self.meters: Meters | None = None
        self.border_title = "Sentiment"

    def compose(self) -> ComposeResult:
        yield Static(id="meters-brands-head", classes="meter-head")
        yield Vertical(id="meters-brands", classes="meter-group")
        yield Static(id="meters-sources-head", classes="meter-head")
        yield Vertical(id="meters-sources", classes="meter-group")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(REFRESH_SECONDS, self.reload)

    def on_resize(self) -> None:
        # Too narrow for label and sparkline side by side (the right column at 80 columns): each
        # series takes two lines, so the last hour still shows (see console.tcss).
        self.set_class(self.content_size.width < LABEL_WIDTH + MIN_LINE, "-narrow")

    def load(self) -> Meters:
        return self.data.meters()

    def show(self, result: Meters) -> None:
        self.meters = result
        head = Text(f"now = mean of the last {result.window} min · line: last hour", style="dim")
        self.query_one("#meters-brands-head", Static).update(head)
        self.query_one("#meters-sources-head", Static).update(
            Text("volume per source · line: per minute", style="dim")
        )
        self._fill("#meters-brands", "brand", result.brands, "no brands seen yet")
        self._fill("#meters-sources", "source", result.sources, "no mentions in the last hour")

    def _fill(self, group_id: str, kind: str, series: list[Series], empty: str) -> None:
        group = self.query_one(group_id, Vertical)
        rows = list(group.query_children(MeterRow))
        if not series:
            group.remove_children()
            group.mount(Static(Text(empty, style="dim")))
            return
        if [r.series.name for r in rows] != [s.name for s in series]:
            group.remove_children()
            group.mount_all(MeterRow(kind, one) for one in series)
            return
        for row, one in zip(rows, series, strict=True):
            row.update(one)
