"""Every key binding of the console has an id that `[operator.keys]` knows, so every key can be
remapped (`?` and the command palette show the result)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

import smcc.tui
from console_app import console_app, until
from console_seed import console_config, seeded_store
from smcc.tui.keys import ALL_KEYS, check_keymap
from smcc.tui.screens.choice import ChoiceScreen
from smcc.tui.widgets.queue import QueuePane


def console_bindings() -> list[tuple[str, Binding]]:
    found: list[tuple[str, Binding]] = []
    for module in pkgutil.walk_packages(smcc.tui.__path__, "smcc.tui."):
        loaded = importlib.import_module(module.name)
        for name, cls in inspect.getmembers(loaded, inspect.isclass):
            if cls.__module__ != loaded.__name__ or not issubclass(cls, DOMNode):
                continue
            for binding in cls.__dict__.get("BINDINGS", []):
                assert isinstance(binding, Binding), f"{name}: {binding!r} is not a Binding"
                found.append((f"{loaded.__name__}.{name}", binding))
    return found


def test_every_binding_has_a_known_id_with_its_documented_key() -> None:
    keys = {k.id: k for k in ALL_KEYS}
    assert len(keys) == len(ALL_KEYS), "two keys share an id"
    found = console_bindings()
    assert len(found) >= 40
    for where, binding in found:
        assert binding.id in keys, f"{where}: binding {binding.key!r} has no known id"
        assert keys[binding.id].key == binding.key, where
    assert check_keymap({"cancel_choice": "x", "close_approvals": "c"})[1] == []


async def test_a_dialogs_key_is_remapped_from_config(tmp_path: Path) -> None:
    store = seeded_store(tmp_path / "k.db")
    config = console_config('\n[operator.keys]\ncancel_choice = "x"\n')
    config.operator.name = "ayu"
    app = console_app(store, config)
    async with app.run_test(size=(100, 30)) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("x")
        await until(pilot, lambda: not isinstance(app.screen, ChoiceScreen))
    assert [e.action for e in store.events()] == []  # closed without routing
    assert not app.notes or all("operator.keys" not in n for n in app.notes)


async def test_q_quit_stays_in_the_footer_at_80_columns(tmp_path: Path) -> None:
    """The footer is cut at the right: a key shown in some state must not push Quit off."""
    store = seeded_store(tmp_path / "f.db")
    app = console_app(store)

    def footer() -> str:
        return app.screen._compositor.render_strips()[-1].text

    async with app.run_test(size=(80, 24)) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        await until(pilot, lambda: "q Quit" in footer())
        await pilot.press("slash", *"nusantel", "enter")
        await until(pilot, lambda: queue.search == "nusantel")
        await pilot.pause(0.1)
        assert "q Quit" in footer()  # search results
        await pilot.press("w")
        await until(pilot, lambda: app.focused is not None and app.focused.id == "calendar")
        await pilot.pause(0.1)
        assert "q Quit" in footer()  # the calendar has the focus
