"""Tells the operator, wherever they are in the console, what happened to items they wrote: an
approver sent one back, one failed (a reply to a deleted post, say), a scheduled post was missed.

The app calls `changed()` when the store's `outbox` counter moves (from any process); the
notices are read in a worker from the audit events after the last one seen, so each is told
once. At start the operator hears how many of their drafts are back from approval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from textual.app import App
from textual.notifications import SeverityLevel
from textual.worker import Worker

from smcc.models import Event, OutboxItem
from smcc.tui.data import ConsoleData
from smcc.tui.format import local_time


def _what(item: OutboxItem) -> str:
    if item.mention_id is not None:
        return f"{item.kind} {item.id} to #{item.mention_id}"
    return f"{item.kind} {item.id} on {item.source}"


def notice(event: Event, item: OutboxItem, data: ConsoleData) -> tuple[str, SeverityLevel]:
    """(message, severity) for one event of one of the operator's items."""
    drafts_key = data.config.operator.keys.get("approvals", "A")
    if event.action == "outbox_rejected":
        why = event.detail.get("comment") or item.comment or ""
        return (
            f"{event.actor} rejected your {_what(item)}: {why} ({drafts_key}: your drafts)",
            "warning",
        )
    if event.action == "outbox_missed":
        due = local_time(item.scheduled_at, data.zone) if item.scheduled_at else "?"
        return f"your {_what(item)} was missed (due {due}); move it to send it", "warning"
    error = event.detail.get("error") or item.last_error or "no reason given"
    return f"your {_what(item)} failed: {error}", "error"


class OutboxNotices:
    def __init__(self, app: App[None], data: ConsoleData) -> None:
        self.app = app
        self.data = data
        self._after: int | None = None
        self._seen_counter: int | None = None
        self._busy = False
        self._again = False

    async def start(self) -> None:
        try:
            self._after = await asyncio.to_thread(self.data.news_start)
            drafts = await asyncio.to_thread(self.data.my_drafts)
        except Exception:  # the store is unreadable: the app says so itself, and retries
            return
        back = sum(1 for d in drafts if d.rejected_by)
        if back:
            key = self.data.config.operator.keys.get("approvals", "A")
            self.app.notify(
                f"{back} of your drafts came back from approval ({key}: your drafts)",
                severity="warning",
                markup=False,
                timeout=8,
            )

    def changed(self, counters: Mapping[str, int]) -> None:
        counter = counters.get("outbox")
        if counter == self._seen_counter or self._after is None:
            return
        self._seen_counter = counter
        if self._busy:  # a look is running: look once more after it
            self._again = True
            return
        self._busy = True
        # The coroutine function, not a coroutine: a worker the closing app never starts then
        # leaves no "coroutine was never awaited" behind (seen in CI after a crash test). The
        # annotation lets mypy infer the worker's result from an async method.
        worker: Worker[None] = self.app.run_worker(
            self._look, group="outbox-notices", exit_on_error=False
        )
        del worker

    async def _look(self) -> None:
        while True:
            self._again = False
            found: list[tuple[Event, OutboxItem]]
            try:
                found = await asyncio.to_thread(self.data.news, self._after or 0)
            except Exception:  # unreadable now: look again on the next change
                self._seen_counter = None
                found = []
            for event, item in found:
                self._after = max(self._after or 0, event.id or 0)
                message, severity = notice(event, item, self.data)
                self.app.notify(message, severity=severity, markup=False, timeout=8)
            if not self._again:
                break
        self._busy = False
