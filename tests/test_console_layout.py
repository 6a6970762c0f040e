"""The main screen's layout: panes hidden and shown, the left column resized, remembered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console_app import console_app, until
from console_seed import seeded_store
from smcc.store import Store
from smcc.tui.layout import LEFT_MAX, Layout, layout_path, load_layout, save_layout
from smcc.tui.screens.main import MainScreen
from smcc.tui.widgets.queue import QueuePane


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "layout.db")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '{"shown": {"feed": "no", "queue": false, "nope": true}, "left": 200}',
        '{"shown": [], "left": true}',
    ],
)
def test_a_broken_or_foreign_layout_file_gives_the_default(text: str) -> None:
    assert Layout.from_json(text) == Layout()


def test_layout_round_trip_and_bounds(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "layout.json"
    assert load_layout(path) == Layout()  # no file yet
    layout = Layout({"feed": False}, 40)
    save_layout(path, layout)
    assert load_layout(path) == layout
    assert Layout().resized(+100).left == LEFT_MAX
    assert list(path.parent.iterdir()) == [path]  # no temporary files left behind


def test_layout_lives_in_the_user_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert layout_path() == tmp_path / "smcc" / "layout.json"


async def test_layout_is_changed_with_keys_and_remembered(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "state" / "layout.json"
    app = console_app(store, screen=lambda d: MainScreen(d, layout_file=path))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.screen.query_one(QueuePane).table.row_count == 4)
        left = app.screen.query_one("#left")
        start = left.size.width
        await pilot.press("f", "greater_than_sign", "greater_than_sign")
        await until(pilot, lambda: path.exists() and json.loads(path.read_text())["left"] == 70)
        await pilot.pause(0.05)
        assert left.size.width > start
        assert not app.screen.query_one("#feed").display
    assert json.loads(path.read_text()) == {"left": 70, "shown": {"feed": False}}

    # A new console opens as the last one was left.
    app = console_app(store, screen=lambda d: MainScreen(d, layout_file=path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        assert not app.screen.query_one("#feed").display
        assert app.screen.query_one("#left").size.width == 84  # 70% of 120
        await pilot.press("f", "less_than_sign")
        await until(pilot, lambda: json.loads(path.read_text())["left"] == 65)
        assert app.screen.query_one("#feed").display


async def test_hiding_the_whole_right_column_gives_the_queue_the_width(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        right = app.screen.query_one("#right")
        assert right.display
        await pilot.press("v")  # detail hidden: the meters still use the column
        assert right.display
        await pilot.press("g")  # meters hidden too: the column goes
        await pilot.pause(0.05)
        assert not right.display
        assert app.screen.query_one("#left").size.width == 120
        await pilot.press("v")
        await pilot.pause(0.05)
        assert right.display
