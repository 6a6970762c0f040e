"""The search box: one line of words to find (full-text, taken literally) — or, titled
otherwise, one line of any text (an approver's comment)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from smcc.tui.failures import ShowsFailures
from smcc.tui.keys import SEARCH_KEYS, bindings


class SearchScreen(ShowsFailures, ModalScreen[str | None]):
    """Dismisses with the words typed (Enter), or None (Escape)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(SEARCH_KEYS)

    def __init__(
        self,
        current: str | None = None,
        *,
        title: str = "Search mentions (every word must match; Enter finds)",
        placeholder: str = "words, @handle …",
    ) -> None:
        super().__init__()
        self.current = current or ""
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Label(Text(self.title_text, style="bold"))
            yield Input(self.current, placeholder=self.placeholder, id="search-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
