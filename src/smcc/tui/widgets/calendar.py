"""The content calendar: the week's planned and sent posts per source, from the outbox."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from smcc.models import OutboxItem, OutboxState
from smcc.textclean import one_line
from smcc.tui.data import ConsoleData, Week
from smcc.tui.format import safe_line
from smcc.tui.widgets.detail import REPLY_STYLE
from smcc.tui.widgets.live import LivePane

PLANNED = (
    OutboxState.DRAFT,
    OutboxState.PENDING_APPROVAL,
    OutboxState.QUEUED,
    OutboxState.SENDING,
)


def post_line(item: OutboxItem, zone: tzinfo) -> Text:
    when = (item.sent_at or item.scheduled_at or item.created_at).astimezone(zone)
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(when.strftime("  %a %d %H:%M "), style="dim")
    state = item.state.value.replace("_", " ")
    line.append(f"{state:<16}", style=REPLY_STYLE.get(item.state, ""))
    line.append_text(safe_line(item.text))
    return line


def render_week(week: Week, zone: tzinfo) -> RenderableType:
    planned = sum(1 for i in week.items if i.state in PLANNED)
    sent = sum(1 for i in week.items if i.state is OutboxState.SENT)
    head = Text(week.start.strftime("week of %a %d %b %Y"), style="bold")
    head.append(f" · {planned} planned · {sent} sent", style="dim")
    parts: list[RenderableType] = [head]
    if not week.items:
        parts.append(Text("no posts this week (plan one with `smcc post`)", style="dim"))
    by_source: dict[str, list[OutboxItem]] = {}
    for item in week.items:
        by_source.setdefault(item.source, []).append(item)
    for source in sorted(by_source):
        parts.append(Text(one_line(source), style="bold underline"))
        parts.extend(post_line(item, zone) for item in by_source[source])
    return Group(*parts)


class CalendarPane(LivePane[Week]):
    TOPICS: ClassVar[frozenset[str]] = frozenset({"outbox"})

    def __init__(self, data: ConsoleData, *, id: str | None = "calendar") -> None:
        super().__init__(data, id=id)
        self.border_title = "Calendar"
        self.week: Week | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="calendar-scroll"):
            yield Static(Text("…", style="dim"), id="calendar-body")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(60, self.reload)  # a new week begins without any outbox change

    def load(self) -> Week:
        return self.data.week()

    def show(self, result: Week) -> None:
        self.week = result
        self.query_one("#calendar-body", Static).update(render_week(result, self.data.zone))
