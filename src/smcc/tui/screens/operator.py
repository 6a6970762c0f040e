"""OperatorScreen: the keyboard workflow shared by the main screen and the single-pane views.

Every action works on the current mention (the one highlighted in the queue, or shown in the
detail pane), runs its store write in a worker, and reports the outcome as a notification; the
store writes the audit event with the operator's name. Panes see the change through the change
counter like any other process would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.binding import BindingsMap, BindingType

from smcc.macros import MacroResult
from smcc.models import OutboxItem, OutboxState
from smcc.outbox import OutboxError
from smcc.store import ActionResult
from smcc.tui.data import ConsoleData
from smcc.tui.keys import FIND_KEYS, LAYOUT_KEYS, WORKFLOW_KEYS, bindings, usable_macro_keys
from smcc.tui.messages import MentionSelected
from smcc.tui.screens.choice import ChoiceScreen
from smcc.tui.screens.composer import ComposerScreen
from smcc.tui.screens.finding import FindingScreen
from smcc.tui.widgets.approvals import ApprovalsScreen
from smcc.tui.widgets.detail import DetailPane
from smcc.tui.widgets.queue import QueuePane

_DONE = {
    "claim": "claimed",
    "release": "released",
    "dismiss": "dismissed",
    "escalate": "escalated",
    "route": "routed",
    "change_tier": "moved",
}

_ON_A_MENTION = frozenset(
    {"claim", "release", "compose", "dismiss_mention", "escalate", "route", "change_tier"}
)


class OperatorScreen(FindingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings(WORKFLOW_KEYS),
        *bindings(FIND_KEYS),
        *bindings(LAYOUT_KEYS),
    ]

    outbox_notices = False
    """Whether the operator hears here of their items' rejections and failures (the main
    screen and the approvals view: not every pane of a wall)."""

    def __init__(self, data: ConsoleData, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.data = data
        # Each macro of the config on its own key (binding id `macro_NAME`, remappable).
        macros, _ = usable_macro_keys(data.config.macros, data.config.operator.keys)
        self._bindings = BindingsMap.merge([self._bindings, BindingsMap(bindings(macros))])

    # -- what the actions work on ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _ON_A_MENTION and not self.query("QueuePane, DetailPane"):
            return False  # a feed, meters, alerts, calendar or approvals view: keys off the footer
        return super().check_action(action, parameters)

    def detail_pane(self) -> DetailPane | None:
        found = self.query(DetailPane)
        return found.first() if found else None

    def current_mention(self) -> int | None:
        queue = self.queue_pane()
        if queue is not None:
            return queue.current_id
        detail = self.detail_pane()
        return detail.mention_id if detail is not None else None

    @on(MentionSelected)
    def follow_selection(self, message: MentionSelected) -> None:
        detail = self.detail_pane()
        if detail is not None and not detail.follow_store:
            detail.show_mention(message.mention_id)
        self.share_selection(message.mention_id)

    @work(exclusive=True, group="selection", exit_on_error=False)
    async def share_selection(self, mention_id: int | None) -> None:
        # A short pause first: scrolling through a queue shares only where the operator stops.
        await asyncio.sleep(0.15)
        try:
            await asyncio.to_thread(self.data.share_selection, mention_id)
        except Exception:  # a `detail` view elsewhere simply keeps the previous mention
            return

    # -- actions -----------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        queue = self.queue_pane()
        if queue is not None:
            table = queue.table
            table.move_cursor(row=max(0, table.cursor_row + step), animate=False)

    def action_show_tier(self, tier: int) -> None:
        queue = self.queue_pane()
        if queue is not None:
            queue.show_tier(tier)

    def action_toggle_mine(self) -> None:
        queue = self.queue_pane()
        if queue is not None:
            queue.mine = not queue.mine
            queue.reload()

    def action_toggle_pane(self, pane_id: str) -> None:
        for pane in self.query(f"#{pane_id}"):
            pane.display = not pane.display

    def action_claim(self) -> None:
        self._act("claim", self.data.claim)

    def action_release(self) -> None:
        self._act("release", self.data.release)

    def action_dismiss_mention(self) -> None:
        # Not `action_dismiss`: Screen has that (it closes a screen).
        self._act("dismiss", self.data.dismiss)

    def action_escalate(self) -> None:
        self._act("escalate", self.data.escalate)

    def action_compose(self) -> None:
        mention_id = self.current_mention()
        if mention_id is None:
            self.notify("nothing selected", severity="warning")
            return

        def closed(item: OutboxItem | None) -> None:
            if item is None:
                return
            if item.state is OutboxState.PENDING_APPROVAL:
                said = "waits for an approver"
            else:
                said = f"{item.state.value} in the outbox"
            self.notify(f"#{mention_id}: reply {item.id} {said}", markup=False, timeout=3)

        self.app.push_screen(ComposerScreen(self.data, mention_id), closed)

    def action_run_macro(self, name: str) -> None:
        """Run macro `name` on the selected mention: what `smcc macro NAME ID` does."""
        mention_id = self.current_mention()
        if mention_id is None:
            self.notify("nothing selected", severity="warning")
            return
        self.run_macro_worker(name, mention_id)

    @work(group="actions", exit_on_error=False)
    async def run_macro_worker(self, name: str, mention_id: int) -> None:
        try:
            result: MacroResult = await asyncio.to_thread(self.data.run_macro, name, mention_id)
        except OutboxError as exc:  # refused before any step, or stopped at one: it says which
            self.notify(f"#{mention_id}: {exc}", severity="warning", markup=False)
        except Exception as exc:  # a locked database: say so, keep the console
            self.notify(
                f"#{mention_id}: macro {name} failed ({exc}); try again",
                severity="error",
                markup=False,
            )
        else:
            done = "; ".join(result.done) or "nothing to do"
            self.notify(f"#{mention_id} macro {name}: {done}", markup=False, timeout=4)
        self.reload_panes()

    def reload_panes(self) -> None:
        for pane in self.query(QueuePane):
            pane.reload()
        for detail in self.query(DetailPane):
            detail.reload()

    def action_approvals(self) -> None:
        self.app.push_screen(ApprovalsScreen(self.data))

    def action_route(self) -> None:
        mention_id = self.current_mention()
        if mention_id is None:
            self.notify("nothing selected", severity="warning")
            return
        options = [
            (name, f"{name} — {dept.label}" if dept.label else name)
            for name, dept in self.data.config.departments.items()
        ]
        queue = self.queue_pane()
        item = queue.current_item() if queue is not None else None

        def chosen(department: str | None) -> None:
            if department is not None:
                self._act("route", lambda i: self.data.route(i, department), mention_id)

        self.app.push_screen(
            ChoiceScreen("Route to department", options, item.department if item else None),
            chosen,
        )

    def action_change_tier(self) -> None:
        mention_id = self.current_mention()
        if mention_id is None:
            self.notify("nothing selected", severity="warning")
            return
        options = [
            ("1", "Tier 1 — answer now"),
            ("2", "Tier 2 — answer, not urgent"),
            ("3", "Tier 3 — no reply needed"),
        ]
        queue = self.queue_pane()
        item = queue.current_item() if queue is not None else None

        def chosen(tier: str | None) -> None:
            if tier is not None:
                self._act("change_tier", lambda i: self.data.set_tier(i, int(tier)), mention_id)

        self.app.push_screen(
            ChoiceScreen("Change tier", options, str(item.tier) if item and item.tier else None),
            chosen,
        )

    def _act(
        self,
        verb: str,
        action: Callable[[int], ActionResult],
        mention_id: int | None = None,
    ) -> None:
        target = mention_id if mention_id is not None else self.current_mention()
        if target is None:
            self.notify("nothing selected", severity="warning")
            return
        self.run_action_worker(verb, action, target)

    @work(group="actions", exit_on_error=False)
    async def run_action_worker(
        self, verb: str, action: Callable[[int], ActionResult], mention_id: int
    ) -> None:
        try:
            result = await asyncio.to_thread(action, mention_id)
        except Exception as exc:  # a locked or broken database: say so, keep the console
            self.notify(
                f"#{mention_id}: {verb} failed ({exc}); try again", severity="error", markup=False
            )
            return
        if result.ok:
            self.notify(f"#{mention_id} {_DONE.get(verb, verb)}", markup=False, timeout=3)
        else:
            self.notify(
                f"#{mention_id}: cannot {verb.replace('_', ' ')}: {result.reason}",
                severity="warning",
                markup=False,
            )
        self.reload_panes()
