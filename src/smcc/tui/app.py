"""ConsoleApp: the shell. Screens and panes do the work; the app polls the store's change counter
and tells the panes, applies the operator's key map, and offers the command palette."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.screen import Screen
from textual.worker import Worker

from smcc.tui.commands import ConsoleCommands
from smcc.tui.data import ConsoleData
from smcc.tui.failures import FailureShowingApp
from smcc.tui.keys import APP_KEYS, bindings, check_keymap
from smcc.tui.messages import StoreChanged
from smcc.tui.notices import OutboxNotices
from smcc.tui.themes import WALL, WALL_THEME
from smcc.tui.widgets.live import LivePane

POLL_INTERVAL = 0.25
"""Seconds between looks at the change counter: new data shows within this (plus one query)."""


class ConsoleApp(FailureShowingApp[None]):
    # Absolute: a relative CSS_PATH resolves next to the module of the (sub)class being run.
    CSS_PATH = Path(__file__).with_name("console.tcss")
    TITLE = "smcc"
    BINDINGS = bindings(APP_KEYS)
    COMMANDS: ClassVar = FailureShowingApp.COMMANDS | {ConsoleCommands}

    def __init__(
        self,
        data: ConsoleData,
        first_screen: Callable[[ConsoleData], Screen[None]],
        *,
        keymap: Mapping[str, str] | None = None,
        poll_interval: float = POLL_INTERVAL,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        self.register_theme(WALL_THEME)
        if theme is not None:
            self.theme = theme  # checked by the caller (smcc.tui.themes.theme_problem)
        self.data = data
        self._first_screen = first_screen
        self._keymap = dict(keymap or {})
        self._poll_interval = poll_interval
        self._counters: dict[str, int] = {}
        self._polling = False
        self._store_failing = False
        self.notices = OutboxNotices(self, data)

    def get_default_screen(self) -> Screen[None]:
        screen = self._first_screen(self.data)
        # The wall's big counters are styled by this class (see console.tcss).
        screen.set_class(self.theme == WALL, "-wall")
        return screen

    def on_mount(self) -> None:
        keymap, problems = check_keymap(self._keymap, self.data.config.macros)
        self.set_keymap(keymap)
        for problem in problems:
            self.notify(problem, severity="warning", markup=False, timeout=10)
        self.set_interval(self._poll_interval, self.poll)
        if getattr(self.screen, "outbox_notices", False):
            # A coroutine function, not a coroutine (see OutboxNotices.changed).
            worker: Worker[None] = self.run_worker(
                self.notices.start, group="outbox-notices", exit_on_error=False
            )
            del worker

    def poll(self) -> None:
        if not self._polling:  # a slow look (database busy) is not stacked up behind
            self._polling = True
            self._poll_store()

    @work(group="poll", exit_on_error=False)
    async def _poll_store(self) -> None:
        try:
            counters = await asyncio.to_thread(self.data.changes)
        except Exception as exc:  # a locked or vanished database: say so once, keep polling
            if not self._store_failing:
                self.notify(
                    f"cannot read the store ({exc}); retrying", severity="error", markup=False
                )
            self._store_failing = True
            return
        finally:
            self._polling = False
        if self._store_failing:
            self._store_failing = False
            self.notify("store readable again", timeout=3)
        if counters != self._counters:
            self._counters = counters
            self.broadcast(counters)
            self.notices.changed(counters)

    def broadcast(self, counters: Mapping[str, int]) -> None:
        """Tell every live pane on every screen; each reloads only if its topics moved."""
        for screen in self.screen_stack:
            for pane in screen.query(LivePane):
                pane.post_message(StoreChanged(counters))

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()
