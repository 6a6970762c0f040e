"""Building the console for tests: a seeded store, a frozen clock, notifications recorded."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from console_seed import clock, console_config
from smcc.config import Config
from smcc.store import Store
from smcc.tui.app import ConsoleApp
from smcc.tui.data import ConsoleData
from smcc.tui.screens.main import MainScreen


class RecordingApp(ConsoleApp):
    """The console, remembering what it told the operator. A failing action or handler fails
    the test (the console would show it and carry on; tests/test_console_failures.py turns this
    off to check that)."""

    raise_failures = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []

    def notify(self, message: str, **kwargs: Any) -> None:
        self.notes.append(message)
        super().notify(message, **kwargs)


def console_app(
    store: Store,
    config: Config | None = None,
    screen: Callable[[ConsoleData], Screen[None]] = MainScreen,
    *,
    theme: str | None = None,
) -> RecordingApp:
    config = config or console_config()
    data = ConsoleData(store, config, clock=clock)
    return RecordingApp(data, screen, keymap=config.operator.keys, poll_interval=0.05, theme=theme)


async def until(pilot: Pilot[None], check: Callable[[], object], timeout: float = 5.0) -> None:
    """Let the app run until `check()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await pilot.pause(0.02)
