"""The queue pane: one tier's open mentions, most urgent first, with SLA countdowns."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Digits, Static

from smcc.rules import SlaState, SlaTimes, deadline_times
from smcc.store import MentionFilter, QueueItem
from smcc.tui.data import ConsoleData, QueuePage, filter_summary
from smcc.tui.format import SLA_STYLE, countdown, safe_line, sla_state
from smcc.tui.messages import MentionSelected
from smcc.tui.widgets.live import LivePane

_STATUS_MARK = {"new": " ", "claimed": "●", "escalated": "▲", "replied": "✓", "dismissed": "×"}


class QueueTable(DataTable[Text]):
    """The rows of one queue; the row key is the mention id."""


class QueuePane(LivePane[QueuePage]):
    TOPICS: ClassVar[frozenset[str]] = frozenset({"mentions"})
    PAGE = 200
    """Rows read per reload: the most urgent ones. The counts above cover the whole queue."""

    def __init__(
        self,
        data: ConsoleData,
        *,
        tier: int = 1,
        tiers: tuple[int, ...] = (1, 2, 3),
        where: MentionFilter | None = None,
        mine: bool = False,
        id: str | None = "queue",
    ) -> None:
        super().__init__(data, id=id)
        self.tiers = tiers
        self.tier = tier if tier in tiers else tiers[0]
        self.where = where
        self.mine = mine
        self.search: str | None = None
        """While set, the pane shows the full-text search results instead of a tier."""
        self.items: list[QueueItem] = []
        self._sla: dict[int, SlaTimes | None] = {}
        """Due and warning time per shown item, worked out once per reload, not every tick."""
        self.counts: dict[int, int] = {}
        self._chosen = False
        self._searching = False
        """A new search's first page is being read (the header says so, not "0 found")."""
        """Whether the operator picked the tier (else the pane follows where the work is)."""
        self.border_title = "Queues"

    def compose(self) -> ComposeResult:
        # Big digits for a wall across the room; hidden unless the screen has the wall theme.
        with Horizontal(id="queue-counters"):
            for tier in self.tiers:
                with Vertical(classes=f"counter tier{tier}"):
                    yield Static(f"Tier {tier}", classes="counter-label")
                    yield Digits("0", id=f"digits-{tier}")
        yield Static(id="tier-tabs")
        table = QueueTable(id="queue-table", cursor_type="row", zebra_stripes=False)
        table.add_column("due", width=6, key="due")
        table.add_column(" ", width=1, key="status")
        table.add_column("author", width=12, key="author")
        table.add_column("text", width=160, key="text")
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        # Countdowns tick without touching the store.
        self.set_interval(1.0, self.tick)

    @property
    def table(self) -> QueueTable:
        return self.query_one(QueueTable)

    @property
    def current_id(self) -> int | None:
        table = self.table
        if not self.items or table.row_count == 0:
            return None
        row = min(table.cursor_row, len(self.items) - 1)
        return self.items[row].id

    def current_item(self) -> QueueItem | None:
        current = self.current_id
        return next((i for i in self.items if i.id == current), None)

    def show_tier(self, tier: int, *, chosen: bool = True) -> None:
        self._chosen = self._chosen or chosen
        if tier in self.tiers and (tier != self.tier or self.search is not None):
            self.tier = tier
            self.search = None
            self._restart()

    def show_search(self, query: str | None) -> None:
        """Show the results of a full-text search (None or blank: back to the tier queue)."""
        query = query.strip() if query else None
        if query != self.search:
            self.search = query or None
            self._restart()

    def set_where(self, where: MentionFilter | None) -> None:
        if where != self.where:
            self.where = where
            self._restart()

    def _restart(self) -> None:
        self._searching = self.search is not None
        self.items = []
        self.table.clear()
        self._show_tabs()
        self.reload()

    def load(self) -> QueuePage:
        if self.search is not None:
            return self.data.search(self.search, self.where, limit=self.PAGE)
        return self.data.queue(self.tier, self.where, mine=self.mine, limit=self.PAGE)

    def show(self, result: QueuePage) -> None:
        if result.search != self.search or (result.search is None and result.tier != self.tier):
            return  # the operator switched tiers or searches while this page was read
        if self.search is None and not self._chosen and not result.items:
            # Until the operator picks a tier, show the most urgent tier that has work rather
            # than an empty tier 1.
            busy = [t for t in self.tiers if result.counts.get(t)]
            if busy and busy[0] != self.tier:
                self.show_tier(busy[0], chosen=False)
                return
        table = self.table
        keep, row = self.current_id, table.cursor_row
        self._searching = False
        self.items = result.items
        config = self.data.config
        self._sla = {
            i.id: deadline_times(config, i.department, i.created_at, i.sla_due) for i in self.items
        }
        if result.search is None:
            self.counts = result.counts
        table.clear()
        now = self.data.clock()
        for item in result.items:
            table.add_row(*self._cells(item, now), key=str(item.id))
        if keep is not None and any(i.id == keep for i in result.items):
            table.move_cursor(row=table.get_row_index(str(keep)), animate=False)
        elif result.items:  # the item left the queue (dismissed, claimed elsewhere): stay put
            table.move_cursor(row=min(row, len(result.items) - 1), animate=False)
        self._show_tabs()
        self.post_message(MentionSelected(self.current_id))

    def _cells(self, item: QueueItem, now: datetime) -> tuple[Text, Text, Text, Text]:
        state = sla_state(self._sla.get(item.id), now)
        mark = _STATUS_MARK.get(item.status.value, "?")
        mark_style = "bold cyan" if item.claimed_by == self.data.operator else "magenta"
        return (
            Text(countdown(item.sla_due, now), style=SLA_STYLE[state]),
            Text(mark, style=mark_style),
            safe_line("@" + item.author_handle, "bold" if state is SlaState.BREACHED else ""),
            safe_line(item.text),
        )

    def tick(self) -> None:
        table = self.table
        now = self.data.clock()
        for item in self.items:
            state = sla_state(self._sla.get(item.id), now)
            if item.sla_due is not None:
                table.update_cell(
                    str(item.id), "due", Text(countdown(item.sla_due, now), style=SLA_STYLE[state])
                )

    def _show_tabs(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.search is not None:
            line.append(" search ", style="reverse bold")
            line.append(" ")
            line.append_text(safe_line(self.search, "bold"))
            found = len(self.items)
            more = "+" if found >= self.PAGE else ""
            said = "searching…" if self._searching else f"{found:,}{more} found"
            line.append(f" · {said} · esc: back ", style="dim")
        for tier in () if self.search is not None else self.tiers:
            label = f" T{tier} {self.counts.get(tier, 0):,} "
            style = "reverse bold" if tier == self.tier else ""
            if tier == 1 and self.counts.get(1):
                style += " red"
            line.append(label, style=style.strip())
            line.append(" ")
        if self.mine and self.search is None:
            line.append("mine ", style="italic")
        for column, values in filter_summary(self.where):
            line.append(f"{column}=", style="dim")
            line.append_text(safe_line(values, "italic"))
            line.append(" ")
        self.query_one("#tier-tabs", Static).update(line)
        for tier in self.tiers:
            self.query_one(f"#digits-{tier}", Digits).update(f"{self.counts.get(tier, 0):,}")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(MentionSelected(self.current_id))
