"""Messages between the console's parts. Declared once; handled with `@on` or `on_…` methods."""

from __future__ import annotations

from collections.abc import Mapping

from textual.message import Message


class StoreChanged(Message):
    """The store's change counters moved. Carries all counters, so a newer one replaces an older
    one still waiting in a pane's queue without losing anything: a burst collapses to one reload."""

    def __init__(self, counters: Mapping[str, int]) -> None:
        super().__init__()
        self.counters = dict(counters)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreChanged)


class MentionSelected(Message):
    """The operator moved to another mention (None: the queue is empty)."""

    def __init__(self, mention_id: int | None) -> None:
        super().__init__()
        self.mention_id = mention_id

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, MentionSelected)
