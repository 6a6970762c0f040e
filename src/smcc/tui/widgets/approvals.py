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
from collections.abc import Callable, Sequence
from typing import ClassVar, TypeVar

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
from smcc.tui.failures import ShowsFailures
from smcc.tui.format import local_time, safe_line
from smcc.tui.keys import APPROVAL_KEYS, DRAFT_KEYS, bindings
from smcc.tui.screens.composer import ComposerScreen
from smcc.tui.screens.search import SearchScreen
from smcc.tui.widgets.live import LivePane

T = TypeVar("T")


def _what(item: OutboxItem) -> str:
    """'reply #12' for a reply to mention 12, 'post NAME' for a post on source NAME."""
    if item.mention_id is not None:
        return f"{item.kind} #{item.mention_id}"
    return f"{item.kind} {item.source}"


class _ItemList(LivePane[list[T]]):
    """A table of outbox items, `#NAME-table`, with a line `#NAME-empty` saying when there are
    none."""

    NAME: ClassVar[str]
    COLUMNS: ClassVar[tuple[tuple[str, int, str], ...]]
    """(label, width, key) of each column."""
    EMPTY: ClassVar[str]

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id=f"{self.NAME}-empty")
        table: DataTable[Text] = DataTable(id=f"{self.NAME}-table", cursor_type="row")
        for label, width, key in self.COLUMNS:
            table.add_column(label, width=width, key=key)
        yield table

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(f"#{self.NAME}-table", DataTable)

    def fill(self, rows: Sequence[tuple[OutboxItem, list[Text]]], keep: int | None) -> None:
        """Show `rows` (an item and its cells), the cursor kept on item `keep` if still there."""
        table = self.table
        table.clear()
        for item, cells in rows:
            table.add_row(*cells, key=str(item.id))
        ids = [item.id for item, _ in rows]
        if keep is not None and keep in ids:
            table.move_cursor(row=ids.index(keep), animate=False)
        message = "" if rows else self.EMPTY
        self.query_one(f"#{self.NAME}-empty", Static).update(Text(message, style="dim"))


class ApprovalsPane(_ItemList[OutboxItem]):
    TOPICS: ClassVar[frozenset[str]] = frozenset({"outbox"})
    BINDINGS: ClassVar[list[BindingType]] = bindings(APPROVAL_KEYS)
    NAME = "approvals"
    COLUMNS = (
        ("#", 5, "id"),
        ("what", 14, "what"),
        ("by", 10, "by"),
        ("when", 5, "when"),
        ("text", 160, "text"),
    )
    EMPTY = "nothing waits for approval"

    def __init__(self, data: ConsoleData, *, id: str | None = "approvals") -> None:
        super().__init__(data, id=id)
        self.border_title = "Waiting for approval"
        self.items: list[OutboxItem] = []

    def load(self) -> list[OutboxItem]:
        return self.data.pending_approval()

    def show(self, result: list[OutboxItem]) -> None:
        keep = self.current()
        self.items = result
        zone = self.data.zone
        rows = [
            (
                item,
                [
                    Text(str(item.id)),
                    safe_line(_what(item)),
                    safe_line(item.operator, "bold"),
                    Text(local_time(item.scheduled_at or item.created_at, zone), style="dim"),
                    safe_line(item.text),
                ],
            )
            for item in result
        ]
        self.fill(rows, keep.id if keep is not None else None)

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


class DraftsPane(_ItemList[Draft]):
    TOPICS: ClassVar[frozenset[str]] = frozenset({"outbox"})
    BINDINGS: ClassVar[list[BindingType]] = bindings(DRAFT_KEYS)
    NAME = "drafts"
    # "why" narrow enough that the text still shows at 80 columns
    COLUMNS = (
        ("#", 5, "id"),
        ("what", 12, "what"),
        ("back from", 9, "by"),
        ("why", 24, "why"),
        ("text", 160, "text"),
    )
    EMPTY = "no drafts of yours"

    def __init__(self, data: ConsoleData, *, id: str | None = "drafts") -> None:
        super().__init__(data, id=id)
        self.border_title = f"Your drafts ({data.operator})"
        self.drafts: list[Draft] = []

    def load(self) -> list[Draft]:
        return self.data.my_drafts()

    def show(self, result: list[Draft]) -> None:
        keep = self.current()
        self.drafts = result
        rows = []
        for draft in result:
            item, rejected = draft.item, draft.rejected_by
            cells = [
                Text(str(item.id)),
                safe_line(_what(item)),
                safe_line(rejected or "not sent", "bold" if rejected else "dim"),
                safe_line(item.comment or "" if rejected else "", "italic"),
                safe_line(item.text),
            ]
            rows.append((item, cells))
        self.fill(rows, keep.item.id if keep is not None else None)

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


class ApprovalsScreen(ShowsFailures, ModalScreen[None]):
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
