"""A small dialog to pick one of a few options (a department, a tier)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from smcc.tui.failures import ShowsFailures
from smcc.tui.keys import CHOICE_KEYS, bindings


class ChoiceScreen(ShowsFailures, ModalScreen[str | None]):
    """Dismisses with the chosen option's id, or None on Escape."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(CHOICE_KEYS)

    def __init__(self, title: str, options: list[tuple[str, str]], current: str | None = None):
        super().__init__()
        self.title_text = title
        self.options = options
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="choice"):
            yield Label(Text(self.title_text, style="bold"))
            yield OptionList(*(Option(Text(label), id=key) for key, label in self.options))

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        keys = [key for key, _ in self.options]
        # The current value, else the first: Enter always picks something, ↓ goes to the second.
        options.highlighted = keys.index(self.current) if self.current in keys else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
