"""The approvers' queue and the author's drafts: the two sides of an approval.

The queue: outbox items waiting in `pending_approval`, oldest first. `y` approves (with an
optional comment), `n` rejects (a comment is required: it goes back to the author with the draft).
The outbox decides who may judge (`[outbox.approval] approvers`, or anyone but the author) and
writes the audit event; a refusal shows as a notification.

Your drafts: the operator's own drafts, those an approver sent back first, each with who rejected
it and why. `o` (or Enter) reopens one in the composer to edit it; Send submits it again — a new
approval round when approval applies. `x` discards one (cancelled; the audit log keeps it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from smcc.models import OutboxItem, OutboxState
from smcc.outbox import OutboxError
from smcc.tui.data import ConsoleData, Draft
from smcc.tui.format import local_time, safe_line
from smcc.tui.keys import APPROVAL_KEYS, DRAFT_KEYS, bindings
from smcc.tui.screens.composer import ComposerScreen
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


class DraftsPane(LivePane[list[Draft]]):
    TOPICS: ClassVar[frozenset[str]] = frozenset({"outbox"})
    BINDINGS: ClassVar[list[BindingType]] = bindings(DRAFT_KEYS)

    def __init__(self, data: ConsoleData, *, id: str | None = "drafts") -> None:
        super().__init__(data, id=id)
        self.border_title = f"Your drafts ({data.operator})"
        self.drafts: list[Draft] = []

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="drafts-empty")
        table: DataTable[Text] = DataTable(id="drafts-table", cursor_type="row")
        table.add_column("#", width=5, key="id")
        table.add_column("what", width=12, key="what")
        table.add_column("back from", width=9, key="by")
        table.add_column("why", width=24, key="why")  # the text still shows at 80 columns
        table.add_column("text", width=160, key="text")
        yield table

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#drafts-table", DataTable)

    def load(self) -> list[Draft]:
        return self.data.my_drafts()

    def show(self, result: list[Draft]) -> None:
        keep = self.current()
        self.drafts = result
        table = self.table
        table.clear()
        for draft in result:
            item = draft.item
            what = f"{item.kind} {item.source}"
            if item.mention_id is not None:
                what = f"{item.kind} #{item.mention_id}"
            table.add_row(
                Text(str(item.id)),
                safe_line(what),
                safe_line(draft.rejected_by or "not sent", "bold" if draft.rejected_by else "dim"),
                safe_line(item.comment or "" if draft.rejected_by else "", "italic"),
                safe_line(item.text),
                key=str(item.id),
            )
        ids = [d.item.id for d in result]
        if keep is not None and keep.item.id in ids:
            table.move_cursor(row=ids.index(keep.item.id), animate=False)
        message = "" if result else "no drafts of yours"
        self.query_one("#drafts-empty", Static).update(Text(message, style="dim"))

    def current(self) -> Draft | None:
        row = self.table.cursor_row
        return self.drafts[row] if 0 <= row < len(self.drafts) else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit_draft()

    def action_edit_draft(self) -> None:
        draft = self.current()
        if draft is None:
            self.notify("no draft selected", severity="warning")
            return
        item = draft.item

        def closed(done: OutboxItem | None) -> None:
            if done is None:
                return
            if done.state is OutboxState.PENDING_APPROVAL:
                said = "submitted again: waits for an approver"
            else:
                said = f"submitted: {done.state.value} in the outbox"
            self.notify(f"draft {done.id} {said}", markup=False, timeout=3)
            self.reload()

        self.app.push_screen(
            ComposerScreen(self.data, item.mention_id, draft=item, rejected_by=draft.rejected_by),
            closed,
        )

    def action_discard_draft(self) -> None:
        draft = self.current()
        if draft is None or draft.item.id is None:
            self.notify("no draft selected", severity="warning")
            return
        self.run_discard(draft.item.id)

    @work(group="drafts", exit_on_error=False)
    async def run_discard(self, item_id: int) -> None:
        try:
            await asyncio.to_thread(self.data.discard_draft, item_id)
        except Exception as exc:  # refused (no longer a draft) or a locked database
            self.notify(f"draft {item_id}: {exc}", severity="warning", markup=False)
            return
        self.notify(f"draft {item_id} discarded", markup=False, timeout=3)
        self.reload()


class OutboxDesk(Vertical):
    """The approvers' queue above the operator's own drafts."""

    def __init__(self, data: ConsoleData) -> None:
        super().__init__(id="outbox-desk")
        self.data = data

    def compose(self) -> ComposeResult:
        yield ApprovalsPane(self.data)
        yield DraftsPane(self.data)


class ApprovalsScreen(ModalScreen[None]):
    """The approvers' queue and the operator's drafts over the operator's screen (`A`); Tab
    moves between them, Escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="close_approvals")
    ]

    def __init__(self, data: ConsoleData) -> None:
        super().__init__()
        self.data = data

    def compose(self) -> ComposeResult:
        yield OutboxDesk(self.data)

    def on_mount(self) -> None:
        self.query_one("#approvals-table").focus()

    def action_close(self) -> None:
        self.dismiss(None)
