"""The command palette's provider: every console action, by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from smcc.tui.keys import ALL_KEYS, Key


class ConsoleCommands(Provider):
    """Offers the actions of `smcc.tui.keys` that make sense from the palette."""

    def _keys(self) -> list[Key]:
        return [k for k in ALL_KEYS if k.palette]

    def _key_help(self, key: Key) -> str:
        # As the footer shows it ("?", not "question_mark"), after the operator's remapping.
        keys = self.screen.active_bindings
        shown = next((b.binding for b in keys.values() if b.binding.id == key.id), None)
        return f"key: {self.app.get_key_display(shown) if shown else key.key}"

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
