"""The command palette's provider: every console action, by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from smcc.tui.keys import ALL_KEYS, CALENDAR_KEYS, Key, usable_macro_keys
from smcc.tui.widgets.calendar import CalendarPane

_CALENDAR_COMMANDS = frozenset({"next_week", "previous_week", "this_week", "move_post"})
"""Calendar keys offered by name while a calendar is shown (moving the selection is not)."""


class ConsoleCommands(Provider):
    """Offers the actions of `smcc.tui.keys` that make sense from the palette, and every macro
    of the config on the operator's screens (with its key, or none)."""

    def _keys(self) -> list[Key]:
        keys = [k for k in ALL_KEYS if k.palette]
        data = getattr(self.screen, "data", None)
        if data is not None and hasattr(self.screen, "action_run_macro"):
            keys += usable_macro_keys(data.config.macros, data.config.operator.keys)[0]
        if self._calendar() is not None:
            keys.extend(k for k in CALENDAR_KEYS if k.id in _CALENDAR_COMMANDS)
        return keys

    def _calendar(self) -> CalendarPane | None:
        """The calendar on the screen, when it is shown: its commands act on it."""
        panes = [p for p in self.screen.query(CalendarPane) if p.display]
        return panes[0] if panes else None

    def _key_help(self, key: Key) -> str:
        # As the footer shows it ("?", not "question_mark"), after the operator's remapping; a
        # macro without a key runs from here only.
        keys = self.screen.active_bindings
        shown = next((b.binding for b in keys.values() if b.binding.id == key.id), None)
        if shown is not None:
            return f"key: {self.app.get_key_display(shown)}"
        return f"key: {key.key}" if key.key else "no key"

    def _runner(self, key: Key) -> Callable[[], Awaitable[None]]:
        calendar = self._calendar() if key in CALENDAR_KEYS else None
        return partial((calendar or self.screen).run_action, key.action)

    async def discover(self) -> Hits:
        for key in self._keys():
            yield DiscoveryHit(key.help, self._runner(key), help=self._key_help(key))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for key in self._keys():
            score = matcher.match(key.help)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(key.help),
                    self._runner(key),
                    help=self._key_help(key),
                )
