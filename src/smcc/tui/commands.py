"""The command palette's provider: every console action, by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from smcc.tui.keys import ALL_KEYS, Key, usable_macro_keys


class ConsoleCommands(Provider):
    """Offers the actions of `smcc.tui.keys` that make sense from the palette, and every macro
    of the config on the operator's screens (with its key, or none)."""

    def _keys(self) -> list[Key]:
        keys = [k for k in ALL_KEYS if k.palette]
        data = getattr(self.screen, "data", None)
        if data is not None and hasattr(self.screen, "action_run_macro"):
            keys += usable_macro_keys(data.config.macros, data.config.operator.keys)[0]
        return keys

    def _key_help(self, key: Key) -> str:
        """The key as the operator set it ([operator.keys]), else the default."""
        data = getattr(self.screen, "data", None)
        keymap = data.config.operator.keys if data is not None else {}
        given = keymap.get(key.id, key.key)
        return f"key: {given}" if given else "no key"

    def _runner(self, action: str) -> Callable[[], Awaitable[None]]:
        return partial(self.screen.run_action, action)

    async def discover(self) -> Hits:
        for key in self._keys():
            yield DiscoveryHit(key.help, self._runner(key.action), help=self._key_help(key))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for key in self._keys():
            score = matcher.match(key.help)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(key.help),
                    self._runner(key.action),
                    help=self._key_help(key),
                )
