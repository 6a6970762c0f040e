"""The detail pane: one mention in full — text, author, thread, why it was triaged so, history."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from smcc.models import OutboxItem, OutboxState
from smcc.rules import Explanation, SlaTimes, deadline_times
from smcc.textclean import one_line
from smcc.tui.data import ConsoleData, Detail
from smcc.tui.format import (
    SLA_STYLE,
    countdown,
    local_time,
    safe_block,
    safe_line,
    sentiment_text,
    sla_state,
)
from smcc.tui.widgets.live import LivePane

LINK = re.compile(r"https?://[^\s<>\"'{}|\\^`\[\]]+")
"""A link in a post: up to a space or a character that cannot be part of one (RFC 3986)."""
TRAILING = ".,;:!?)]}'\"…"
"""Punctuation that ends a sentence after a link rather than belonging to it."""


def _heading(title: str) -> Text:
    return Text(title, style="bold underline")


def _field(label: str, value: Text | str) -> Text:
    line = Text(f"{label}: ", style="dim")
    line.append_text(value if isinstance(value, Text) else Text(value))
    return line


REPLY_STYLE = {
    OutboxState.DRAFT: "dim",
    OutboxState.PENDING_APPROVAL: "magenta",
    OutboxState.QUEUED: "yellow",
    OutboxState.SENDING: "bold cyan",
    OutboxState.SENT: "bold green",
    OutboxState.FAILED: "bold red",
    OutboxState.CANCELLED: "dim",
    OutboxState.MISSED: "red",
}


def reply_line(item: OutboxItem, zone: tzinfo) -> Text:
    """One outbox reply: its state, who wrote it, when it went (or was written), the text."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(item.state.value.replace("_", " "), style=REPLY_STYLE.get(item.state, ""))
    line.append(f" {local_time(item.sent_at or item.created_at, zone)} ", style="dim")
    line.append_text(safe_line(item.operator, "bold"))
    line.append(": ")
    line.append_text(safe_line(item.text))
    return line


def render_detail(
    detail: Detail, zone: tzinfo, now: datetime, operator: str, sla: SlaTimes | None = None
) -> RenderableType:
    """`sla`: the mention's due and warning time under the config (`smcc.rules.deadline_times`)."""
    m = detail.mention
    t = m.triage
    parts: list[RenderableType] = []

    head = Text(no_wrap=False)
    if t is not None:
        state = sla_state(sla, now)
        head.append(f"T{t.tier} ", style="bold")
        head.append(one_line(t.department or "—"))
        head.append("  SLA ", style="dim")
        head.append(countdown(t.sla_due, now), style=SLA_STYLE[state])
    else:
        head.append("not triaged", style="dim")
    parts.append(head)
    status = Text(m.status.value, style="bold cyan" if m.status.value == "claimed" else "")
    if detail.claimed_by:
        mine = detail.claimed_by == operator
        status.append(" by ")
        status.append(one_line(detail.claimed_by), style="bold cyan" if mine else "magenta")
    parts.append(status)
    when = m.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
    meta = Text(f"#{m.id} · {one_line(m.source)} · {m.language or '??'} · {when}", style="dim")
    if m.brand:
        meta.append(f" · {one_line(m.brand)}")
    parts.append(meta)
    parts.append(Text())
    parts.append(safe_block(m.text))
    if m.url:
        parts.append(_field("link", safe_line(m.url, "underline")))
    for url in dict.fromkeys(found.rstrip(TRAILING) for found in LINK.findall(m.text)):
        # Links in the post, in full (a queue row or a wrapped line can hide where one goes);
        # never clickable: the operator copies one on purpose.
        parts.append(_field("in the post", safe_line(url)))
    parts.append(Text())

    parts.append(_heading("Author"))
    a = m.author
    name = safe_line(a.display_name or a.handle, "bold")
    name.append(" ")
    name.append_text(safe_line("@" + a.handle))
    if a.verified:
        name.append(" ✓ verified", style="green")
    parts.append(name)
    parts.append(
        Text(
            f"{a.followers:,} followers · influence {m.influence:.2f} · "
            f"{detail.author_mentions:,} mention{'' if detail.author_mentions == 1 else 's'} seen"
        )
    )
    parts.append(Text())

    parts.append(_heading("Why"))
    if t is not None:
        parts.append(_field("rule", safe_line(t.rule or "—")))
        if t.explanation:
            parts.extend(_explanation(t.explanation))
        if t.tags:
            parts.append(_field("tags", safe_line(", ".join(t.tags))))
    parts.append(
        _field(
            "sentiment", sentiment_text(m.sentiment.score, m.sentiment.label, m.sentiment.analyzer)
        )
    )
    if m.is_question:
        parts.append(Text("asks a question", style="italic"))

    if len(detail.thread) > 1:
        parts.append(Text())
        parts.append(_heading(f"Thread ({len(detail.thread)})"))
        for item in detail.thread:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append("▸ " if item.id == m.id else "  ", style="bold")
            line.append(local_time(item.created_at, zone) + " ", style="dim")
            line.append_text(safe_line("@" + item.author_handle, "bold"))
            line.append(": ")
            line.append_text(safe_line(item.text))
            parts.append(line)

    if detail.replies:
        parts.append(Text())
        parts.append(_heading(f"Replies ({len(detail.replies)})"))
        for reply in detail.replies:
            parts.append(reply_line(reply, zone))
            if reply.state is OutboxState.FAILED and reply.last_error:
                # Wrapped, not cut: the platform's reason comes at the end of the error.
                parts.append(safe_block(f"  {reply.last_error}", "red", limit=1000))
            elif reply.comment:
                parts.append(safe_line(f"  comment: {reply.comment}", "dim"))

    parts.append(Text())
    parts.append(_heading("History"))
    if not detail.events:
        parts.append(Text("no actions yet", style="dim"))
    for event in detail.events:
        line = Text(f"{local_time(event.at, zone, seconds=True)} ", style="dim")
        line.append_text(safe_line(event.actor, "bold"))
        line.append(f" {event.action}")
        for key, value in event.detail.items():
            if value is None:  # e.g. an outbox event's unset `template`: nothing to say
                continue
            line.append(" ")  # apart: safe_line trims the edges of what it is given
            line.append_text(safe_line(f"{key}: {value}", "dim"))
        parts.append(line)
    return Group(*parts)


class DetailPane(LivePane[Detail | None]):
    """Shows the mention chosen in a queue — or, with `follow_store`, the one the operator chose
    in another process (a `queue` view elsewhere on the wall)."""

    TOPICS: ClassVar[frozenset[str]] = frozenset({"mentions", "events", "outbox"})

    def __init__(
        self, data: ConsoleData, *, follow_store: bool = False, id: str | None = "detail"
    ) -> None:
        super().__init__(data, id=id)
        self.mention_id: int | None = None
        self.follow_store = follow_store
        self.border_title = "Detail"

    def topics(self) -> frozenset[str]:
        return self.TOPICS | {"selection"} if self.follow_store else self.TOPICS

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-scroll"):
            yield Static(Text("nothing selected", style="dim"), id="detail-body")

    def show_mention(self, mention_id: int | None) -> None:
        if mention_id != self.mention_id:
            self.mention_id = mention_id
            self.query_one("#detail-scroll", VerticalScroll).scroll_home(animate=False)
            self.reload()

    def load(self) -> Detail | None:
        if self.follow_store:
            self.mention_id = self.data.selection()
        if self.mention_id is None:
            return None
        return self.data.detail(self.mention_id)

    def show(self, result: Detail | None) -> None:
        body = self.query_one("#detail-body", Static)
        if result is None:
            body.update(Text("nothing selected", style="dim"))
            return
        self.border_subtitle = f"#{result.mention.id}"
        m = result.mention
        sla = None
        if m.triage is not None:  # the same rule as the queue row, so both show one colour
            sla = deadline_times(
                self.data.config, m.triage.department, m.created_at, m.triage.sla_due
            )
        body.update(
            render_detail(result, self.data.zone, self.data.clock(), self.data.operator, sla)
        )


def _explanation(stored: str) -> list[RenderableType]:
    """The stored explanation JSON as lines for people: each rule that matched, the conditions
    that held (with their values) and the words that matched; text that is not our JSON as is."""
    if not stored.lstrip().startswith("{"):
        return [safe_block(stored)]
    why = Explanation.from_json(stored)
    if not why.matched:
        return [Text(why.summary(), style="dim")]
    lines: list[RenderableType] = []
    for match in why.matched:
        line = Text("• ")
        line.append_text(safe_line(match.rule, "bold"))
        line.append(": ")
        line.append_text(safe_line("; ".join(match.held)))
        if match.terms:
            line.append(" — words: ", style="dim")
            line.append_text(safe_line(", ".join(match.terms)))
        lines.append(line)
    if why.defaults:
        lines.append(Text(f"default {' and '.join(why.defaults)}", style="dim"))
    return lines
