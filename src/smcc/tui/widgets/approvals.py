"""The approvers' queue: outbox items waiting in `pending_approval`, oldest first.

`y` approves (with an optional comment), `n` rejects (a comment is required: it goes back to the
author with the draft). The outbox decides who may judge (`[outbox.approval] approvers`, or anyone
but the author) and writes the audit event; a refusal shows as a notification.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from smcc.models import OutboxItem
from smcc.outbox import OutboxError
from smcc.tui.data import ConsoleData
from smcc.tui.format import local_time, safe_line
from smcc.tui.keys import APPROVAL_KEYS, bindings
from smcc.tui.screens.search import SearchScreen
from smcc.tui.widgets.live import LivePane


class ApprovalsPane(LivePane[list[OutboxItem]]):
    TOPICS: ClassVar[frozenset[str]] = frozenset({"outbox"})
    BINDINGS: ClassVar[list[BindingType]] = bindings(APPROVAL_KEYS)

    def __init__(self, data: ConsoleData, *, id: str | None = "approvals") -> None:
        super().__init__(data, id=id)
        self.border_title = "Waiting for approval"
        self.items: list[OutboxItem] = []

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="approvals-empty")
        table: DataTable[Text] = DataTable(id="approvals-table", cursor_type="row")
        table.add_column("#", width=5, key="id")
        table.add_column("what", width=14, key="what")
        table.add_column("by", width=10, key="by")
        table.add_column("when", width=5, key="when")
        table.add_column("text", width=160, key="text")
        yield table

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#approvals-table", DataTable)

    def load(self) -> list[OutboxItem]:
        return self.data.pending_approval()

    def show(self, result: list[OutboxItem]) -> None:
        keep = self.current()
        self.items = result
        table = self.table
        table.clear()
        zone = self.data.zone
        for item in result:
            what = f"{item.kind} {item.source}"
            if item.mention_id is not None:
                what = f"{item.kind} #{item.mention_id}"
            table.add_row(
                Text(str(item.id)),
                safe_line(what),
                safe_line(item.operator, "bold"),
                Text(local_time(item.scheduled_at or item.created_at, zone), style="dim"),
                safe_line(item.text),
                key=str(item.id),
            )
        ids = [i.id for i in result]
        if keep is not None and keep.id in ids:
            table.move_cursor(row=ids.index(keep.id), animate=False)
        message = "" if result else "nothing waits for approval"
        self.query_one("#approvals-empty", Static).update(Text(message, style="dim"))

    def current(self) -> OutboxItem | None:
        row = self.table.cursor_row
        return self.items[row] if 0 <= row < len(self.items) else None

    def action_approve(self) -> None:
        self._judge("approve", "Approve — comment (optional; Enter approves)", self.data.approve)

    def action_reject(self) -> None:
        self._judge("reject", "Reject — why? (goes back to the author)", self.data.reject)

    def _judge(self, verb: str, title: str, act: Callable[[int, str], OutboxItem]) -> None:
        item = self.current()
        if item is None or item.id is None:
            self.notify("nothing selected", severity="warning")
            return
        item_id = item.id

        def commented(comment: str | None) -> None:
            if comment is not None:
                self.run_judgement(verb, act, item_id, comment)

        self.app.push_screen(SearchScreen(title=title, placeholder="comment"), commented)

    @work(group="approvals", exit_on_error=False)
    async def run_judgement(
        self, verb: str, act: Callable[[int, str], OutboxItem], item_id: int, comment: str
    ) -> None:
        try:
            done = await asyncio.to_thread(act, item_id, comment)
        except OutboxError as exc:
            self.notify(f"item {item_id}: {exc}", severity="warning", markup=False)
            return
        except Exception as exc:  # a locked database: nothing changed; say so
            self.notify(
                f"item {item_id}: {verb} failed ({exc}); try again", severity="error", markup=False
            )
            return
        said = "approved, queued" if verb == "approve" else f"rejected, back to {done.operator}"
        self.notify(f"item {item_id} {said}", markup=False, timeout=3)
        self.reload()


class ApprovalsScreen(ModalScreen[None]):
    """The approvers' queue over the operator's screen (`A`); Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="close_approvals")
    ]

    def __init__(self, data: ConsoleData) -> None:
        super().__init__()
        self.data = data

    def compose(self) -> ComposeResult:
        yield ApprovalsPane(self.data)

    def on_mount(self) -> None:
        self.query_one("#approvals-table").focus()

    def action_close(self) -> None:
        self.dismiss(None)
