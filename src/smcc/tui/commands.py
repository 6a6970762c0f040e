"""The command palette's provider: every console action, by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import replace
from functools import partial

from textual.actions import parse as parse_action
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widget import Widget

from smcc.textclean import one_line
from smcc.tui.keys import (
    ALL_KEYS,
    APPROVAL_KEYS,
    APPROVALS_SCREEN_KEYS,
    CALENDAR_KEYS,
    COMPOSER_KEYS,
    DRAFT_KEYS,
    Key,
    keys_of,
    usable_macro_keys,
)
from smcc.tui.screens.composer import ComposerScreen
from smcc.tui.widgets.approvals import ApprovalsPane, ApprovalsScreen, DraftsPane
from smcc.tui.widgets.calendar import CalendarPane

_CALENDAR_COMMANDS = frozenset({"next_week", "previous_week", "this_week", "move_post"})
"""Calendar keys offered by name while a calendar is shown (moving the selection is not)."""


class ConsoleCommands(Provider):
    """Offers the actions of `smcc.tui.keys` that apply where the palette was opened: the
    operator's screen's, every macro of the config (with its key, or none), and those of the
    composer, the approvers' queue, the drafts and the calendar while one is shown — each run on
    the screen or pane its key works on."""

    def _commands(self) -> Iterator[tuple[Key, Widget]]:
        screen = self.screen
        keys = [k for k in ALL_KEYS if k.palette]
        data = getattr(screen, "data", None)
        if data is not None and hasattr(screen, "action_run_macro"):
            keys += usable_macro_keys(data.config.macros, data.config.operator.keys)[0]
        yield from ((k, screen) for k in keys)
        if isinstance(screen, ComposerScreen):
            yield from ((k, screen) for k in self._composer_keys(screen))
        if isinstance(screen, ApprovalsScreen):
            yield from ((k, screen) for k in APPROVALS_SCREEN_KEYS)
        for pane in self._shown(ApprovalsPane):
            yield from ((k, pane) for k in APPROVAL_KEYS)
        for pane in self._shown(DraftsPane):
            yield from ((k, pane) for k in DRAFT_KEYS)
        for pane in self._shown(CalendarPane)[:1]:
            yield from ((k, pane) for k in CALENDAR_KEYS if k.id in _CALENDAR_COMMANDS)

    def _composer_keys(self, composer: ComposerScreen) -> Iterator[Key]:
        """The composer's keys; a canned reply's only when one is on that key (named)."""
        for key in COMPOSER_KEYS:
            if not key.id.startswith("canned") or key.id == "canned":
                yield key
                continue
            canned = composer.target.canned_on_key(int(key.id[-1])) if composer.target else None
            if canned is not None:
                yield replace(key, help=f"{key.help}: {one_line(canned.name, 30)}")

    def _shown(self, kind: type[Widget]) -> list[Widget]:
        return [p for p in self.screen.query(kind) if p.display]

    def _available(self) -> list[tuple[Key, Widget]]:
        """The commands whose action its target has and allows now (as the footer would show
        it: a view without a queue has no claim, `end_search` only during a search)."""
        found = []
        for key, target in self._commands():
            namespace, name, params = parse_action(key.action)
            node = self.app if namespace == "app" else target
            action = getattr(node, f"action_{name}", None)
            if callable(action) and node.check_action(name, params):
                found.append((key, target))
        return found

    def _key_help(self, key: Key) -> str:
        # As the footer shows it ("?", not "question_mark"), after the operator's remapping; a
        # macro without a key runs from here only.
        active = self.screen.active_bindings
        shown = next((b.binding for b in active.values() if b.binding.id == key.id), None)
        if shown is None:  # a pane's key while another pane has the focus: the keymap's
            data = getattr(self.screen, "data", None)
            keymap: Mapping[str, str] = data.config.operator.keys if data is not None else {}
            keys = keys_of(key, keymap)
            shown = Binding(keys[0], key.action) if keys else None
        return f"key: {self.app.get_key_display(shown)}" if shown is not None else "no key"

    def _runner(self, key: Key, target: Widget) -> Callable[[], Awaitable[None]]:
        return partial(target.run_action, key.action)

    async def discover(self) -> Hits:
        for key, target in self._available():
            yield DiscoveryHit(key.help, self._runner(key, target), help=self._key_help(key))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for key, target in self._available():
            score = matcher.match(key.help)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(key.help),
                    self._runner(key, target),
                    help=self._key_help(key),
                )
