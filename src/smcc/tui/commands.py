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

    def _runner(self, action: str) -> Callable[[], Awaitable[None]]:
        return partial(self.screen.run_action, action)

    async def discover(self) -> Hits:
        for key in self._keys():
            yield DiscoveryHit(key.help, self._runner(key.action), help=f"key: {key.key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for key in self._keys():
            score = matcher.match(key.help)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(key.help),
                    self._runner(key.action),
                    help=f"key: {key.key}",
                )
