"""The content calendar: a week's planned and sent posts per source, from the outbox.

`[` and `]` browse the weeks, `.` comes back to this one; the arrows (or j/k) select a post and
Enter gives it a new time — the same move as `smcc schedule move`, with the same time syntax.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from smcc.models import OutboxItem, OutboxState
from smcc.outbox import OPEN_STATES, OutboxError
from smcc.textclean import one_line
from smcc.tui.data import ConsoleData, Week
from smcc.tui.format import local_time, safe_line
from smcc.tui.keys import CALENDAR_KEYS, bindings
from smcc.tui.screens.search import SearchScreen
from smcc.tui.widgets.detail import REPLY_STYLE
from smcc.tui.widgets.live import LivePane

PLANNED = (
    OutboxState.DRAFT,
    OutboxState.PENDING_APPROVAL,
    OutboxState.QUEUED,
    OutboxState.SENDING,
)
MOVABLE = (*OPEN_STATES, OutboxState.MISSED)
"""What `Outbox.move` accepts (sending has begun in no other state)."""


def post_time(item: OutboxItem) -> datetime:
    return item.sent_at or item.scheduled_at or item.created_at


def post_line(item: OutboxItem, zone: tzinfo, *, selected: bool = False) -> Text:
    when = post_time(item).astimezone(zone)
    line = Text(no_wrap=True, overflow="ellipsis", style="reverse" if selected else "")
    line.append(when.strftime("  %a %d %H:%M "), style="dim")
    state = item.state.value.replace("_", " ")
    line.append(f"{state:<16}", style=REPLY_STYLE.get(item.state, ""))
    line.append_text(safe_line(item.text))
    return line


def in_order(week: Week) -> list[OutboxItem]:
    """The week's posts as shown: per source (by name), each source's by time."""
    return sorted(week.items, key=lambda i: (i.source, post_time(i), i.id or 0))


def render_week(
    week: Week, zone: tzinfo, selected: int | None = None, *, this_week: bool = True
) -> tuple[RenderableType, int]:
    """The week, and the line of the selected post (0 when none is)."""
    planned = sum(1 for i in week.items if i.state in PLANNED)
    sent = sum(1 for i in week.items if i.state is OutboxState.SENT)
    head = Text(week.start.strftime("week of %a %d %b %Y"), style="bold")
    head.append(f" · {planned} planned · {sent} sent", style="dim")
    head.append(
        "   [ ] weeks · ⏎ move" if this_week else "   [ ] weeks · . this week · ⏎ move", style="dim"
    )
    parts: list[RenderableType] = [head]
    if not week.items:
        when = "this week" if this_week else "that week"
        parts.append(Text(f"no posts {when} (plan one with `smcc post`)", style="dim"))
    line_of_selected = 0
    source = None
    for item in in_order(week):
        if item.source != source:
            source = item.source
            parts.append(Text(one_line(source), style="bold underline"))
        if item.id == selected:
            line_of_selected = len(parts)
        parts.append(post_line(item, zone, selected=item.id == selected))
    return Group(*parts), line_of_selected


class CalendarPane(LivePane[Week]):
    TOPICS: ClassVar[frozenset[str]] = frozenset({"outbox"})
    BINDINGS: ClassVar[list[BindingType]] = bindings(CALENDAR_KEYS)
    can_focus = True

    def __init__(self, data: ConsoleData, *, id: str | None = "calendar") -> None:
        super().__init__(data, id=id)
        self.border_title = "Calendar"
        self.week: Week | None = None
        self.weeks_ahead = 0
        """Weeks from this one."""
        self.selected: int | None = None
        """The outbox id of the selected post."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="calendar-scroll", can_focus=False):
            yield Static(Text("…", style="dim"), id="calendar-body")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(60, self.reload)  # a new week begins without any outbox change

    def load(self) -> Week:
        return self.data.week(self.weeks_ahead)

    def show(self, result: Week) -> None:
        self.week = result
        ids = [i.id for i in in_order(result)]
        if self.selected not in ids:
            self.selected = ids[0] if ids else None
        self._draw()

    def _draw(self) -> None:
        if self.week is None:
            return
        body, line = render_week(
            self.week,
            self.data.zone,
            self.selected if self.has_focus else None,
            this_week=self.weeks_ahead == 0,
        )
        self.query_one("#calendar-body", Static).update(body)
        scroll = self.query_one("#calendar-scroll", VerticalScroll)
        if line:
            # Keep the selected post in sight (a few lines of context above it).
            top, height = scroll.scroll_y, max(1, scroll.size.height)
            if not top <= line < top + height:
                scroll.scroll_to(y=max(0, line - 2), animate=False)

    def on_focus(self) -> None:
        self._draw()

    def on_blur(self) -> None:
        self._draw()

    def current(self) -> OutboxItem | None:
        if self.week is None:
            return None
        return next((i for i in self.week.items if i.id == self.selected), None)

    def action_next_week(self, step: int) -> None:
        self.show_week(self.weeks_ahead + step)

    def action_this_week(self) -> None:
        self.show_week(0)

    def show_week(self, offset: int, selected: int | None = None) -> None:
        self.weeks_ahead = offset
        self.selected = selected
        self.query_one("#calendar-scroll", VerticalScroll).scroll_home(animate=False)
        self.reload()

    def action_select_post(self, step: int) -> None:
        if self.week is None or not self.week.items:
            return
        ids = [i.id for i in in_order(self.week)]
        row = ids.index(self.selected) if self.selected in ids else 0
        self.selected = ids[max(0, min(len(ids) - 1, row + step))]
        self._draw()

    def action_move_post(self) -> None:
        item = self.current()
        if item is None or item.id is None:
            self.notify("no post selected", severity="warning")
            return
        if item.state not in MOVABLE:
            self.notify(
                f"post {item.id} is {item.state.value}; only planned or missed posts move",
                severity="warning",
                markup=False,
            )
            return
        item_id = item.id
        when = post_time(item).astimezone(self.data.zone).strftime("%Y-%m-%dT%H:%M")

        def chosen(value: str | None) -> None:
            if value is not None:
                self.move(item_id, value)

        self.app.push_screen(
            SearchScreen(
                when,
                title=f"Move post {item_id} to (your time zone, or +2h; Enter moves)",
                placeholder="2026-11-24T09:00",
            ),
            chosen,
        )

    @work(group="calendar-move", exit_on_error=False)
    async def move(self, item_id: int, when: str) -> None:
        try:
            moved = await asyncio.to_thread(self.data.move_post, item_id, when)
        except OutboxError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        except Exception as exc:  # a locked database: say so, the post keeps its time
            self.notify(
                f"post {item_id}: move failed ({exc}); try again", severity="error", markup=False
            )
            return
        at = moved.scheduled_at or post_time(moved)
        zone = self.data.zone
        self.notify(
            f"post {item_id} moved to {at.astimezone(zone):%a %d %b} {local_time(at, zone)}",
            markup=False,
            timeout=3,
        )
        # Follow the post to its new week, still selected.
        self.show_week(self.data.week_offset(at), item_id)
