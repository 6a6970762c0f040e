"""Pilot tests: an exception in a pane's handler, an action or a dialog's callback is shown as one
error notification and logged; the console — and the pane that failed — carry on.

These pin `smcc.tui.failures` to the installed Textual: it wraps the private
`MessagePump._dispatch_message`, so a Textual release that renames it fails here (the handler
tests), not in front of an operator."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import pytest
import textual
from textual.message_pump import MessagePump

from console_app import RecordingApp, console_app, until
from console_seed import seeded_store
from smcc.store import Store
from smcc.tui.screens.operator import OperatorScreen
from smcc.tui.widgets.queue import QueuePane

SIZE = (100, 30)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "c.db")


def showing(store: Store) -> RecordingApp:
    app = console_app(store)
    app.raise_failures = False  # as the console runs for an operator
    return app


def boom(*args: object) -> None:
    raise RuntimeError("boom")


def test_the_private_hook_is_there() -> None:
    assert inspect.iscoroutinefunction(MessagePump._dispatch_message), (
        f"textual {textual.__version__}: MessagePump._dispatch_message changed; see "
        "smcc/tui/failures.py"
    )


async def test_a_failing_pane_handler_is_shown_and_the_pane_goes_on(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(QueuePane, "on_data_table_row_highlighted", boom)
    app = showing(store)
    failure = "QueuePane.on_data_table_row_highlighted failed: RuntimeError: boom"
    with caplog.at_level(logging.ERROR, logger="smcc.tui.failures"):
        async with app.run_test(size=SIZE) as pilot:
            queue = app.screen.query_one(QueuePane)
            await until(pilot, lambda: queue.table.row_count == 4)
            await pilot.press("j")
            await until(pilot, lambda: failure in app.notes)
            failed = len(caplog.records)
            await pilot.press("j")  # the pane still handles its messages: it fails again
            await until(pilot, lambda: len(caplog.records) > failed)
            assert app.notes.count(failure) == 1  # the same failure is not repeated at once
            assert app.is_running
            assert app.return_code is None
            await pilot.press("c")  # and the next key works
            current = queue.current_id
            await until(pilot, lambda: f"#{current} claimed" in app.notes)
            assert queue.table.cursor_row == 2
    assert caplog.records[0].exc_info is not None  # logged with its traceback


async def test_a_failing_action_is_shown_and_the_next_key_works(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OperatorScreen, "action_claim", boom)
    app = showing(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("c")
        await until(
            pilot, lambda: "action claim (MainScreen) failed: RuntimeError: boom" in app.notes
        )
        assert app.is_running
        current = queue.current_id
        await pilot.press("d")
        await until(pilot, lambda: any(f"#{current} dismissed" in n for n in app.notes))


async def test_a_failing_dialog_callback_is_shown(store: Store) -> None:
    app = showing(store)
    async with app.run_test(size=SIZE) as pilot:
        app.call_next(boom)
        await until(pilot, lambda: "boom failed: RuntimeError: boom" in app.notes)

        def pane_callback(n: int) -> None:
            raise ValueError(f"bad {n}")

        app.screen.query_one(QueuePane).call_next(pane_callback, 1)  # a pane's own, too
        await until(
            pilot, lambda: any("pane_callback failed: ValueError: bad 1" in n for n in app.notes)
        )
        assert app.is_running


async def test_the_tests_app_still_fails_on_a_programming_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QueuePane, "on_data_table_row_highlighted", boom)
    app = console_app(store)

    async def move() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("j")
            await pilot.pause(0.5)

    with pytest.raises(RuntimeError, match="boom"):
        await move()


async def test_a_failing_timer_of_a_pane_is_shown(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QueuePane, "tick", boom)  # the SLA countdown, every second
    app = showing(store)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "boom failed: RuntimeError: boom" in app.notes, timeout=3)
        assert app.is_running
