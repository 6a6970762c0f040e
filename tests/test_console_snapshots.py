"""SVG snapshots of the console at fixed sizes, on a seeded store with the clock frozen.

Update after a deliberate change of the look with `pytest tests/test_console_snapshots.py
--snapshot-update`, and look at the SVGs in the report before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from console_app import RecordingApp, console_app, until
from console_seed import NOW, mention_id, seeded_store
from smcc.models import Alert, AlertKind
from smcc.store import Store
from smcc.tui.screens.view import ViewScreen
from smcc.tui.widgets.detail import DetailPane
from smcc.tui.widgets.feed import FeedPane
from smcc.tui.widgets.queue import QueuePane

SnapCompare = Callable[..., bool]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "snap.db")


def _loaded(app: RecordingApp) -> bool:
    screen = app.screen
    queues = screen.query(QueuePane)
    if queues and not queues.first().items:
        return False
    feeds = screen.query(FeedPane)
    if feeds and not feeds.first().items:
        return False
    details = screen.query(DetailPane)
    return not details or details.first().border_subtitle != ""


async def _settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, RecordingApp)
    await until(pilot, lambda: _loaded(app))
    await pilot.pause(0.2)  # the last reload's repaint


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_main_screen(snap_compare: SnapCompare, store: Store, size: tuple[int, int]) -> None:
    assert snap_compare(console_app(store), terminal_size=size, run_before=_settle)


def test_main_screen_with_alert(snap_compare: SnapCompare, store: Store) -> None:
    store.open_alert(
        Alert(
            kind=AlertKind.SENTIMENT_DROP,
            brand="Nusantel",
            severity=9,
            description="sentiment fell from +0.1 to -0.6 in 10 minutes",
            since=NOW,
        )
    )
    assert snap_compare(console_app(store), terminal_size=(80, 24), run_before=_settle)


def test_queue_view(snap_compare: SnapCompare, store: Store) -> None:
    app = console_app(store, screen=lambda d: ViewScreen(d, "queue", tier=1))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)


def test_detail_view(snap_compare: SnapCompare, store: Store) -> None:
    store.set_selection("ayu", mention_id(store, "t1-ok"))
    app = console_app(store, screen=lambda d: ViewScreen(d, "detail"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)


def _meters_loaded(app: RecordingApp) -> bool:
    return len(app.screen.query(".meter-label")) >= 2


async def _settle_meters(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, RecordingApp)
    await until(pilot, lambda: _meters_loaded(app))
    await pilot.pause(0.2)


def test_meters_view(snap_compare: SnapCompare, store: Store) -> None:
    app = console_app(store, screen=lambda d: ViewScreen(d, "meters"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle_meters)


def test_queue_view_wall_theme(snap_compare: SnapCompare, store: Store) -> None:
    app = console_app(store, screen=lambda d: ViewScreen(d, "queue"), theme="wall")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)


def test_composer_over_the_limit(snap_compare: SnapCompare, store: Store) -> None:
    """The composer at 80×24 with a canned reply inserted and text past a tight limit."""
    from console_seed import console_config
    from smcc.tui.screens.composer import ComposerScreen

    config = console_config(
        "[sources.demo]\ntype = 'demo'\n[outbox]\nchar_limits = { demo = 40 }\n"
        "[canned.sorry]\nkey = 1\ntext = { en = 'Sorry {author}, we are on it. {operator}' }\n"
    )

    async def compose(pilot: Pilot[None]) -> None:
        await _settle(pilot)
        await pilot.press("o")
        screen = pilot.app.screen
        assert isinstance(screen, ComposerScreen)
        await until(pilot, lambda: screen.target is not None)
        await pilot.press("alt+1", *" Thanks for waiting!")
        await pilot.pause(0.1)

    assert snap_compare(console_app(store, config), terminal_size=(80, 24), run_before=compose)


def test_calendar_view(snap_compare: SnapCompare, store: Store) -> None:
    from console_seed import console_config
    from smcc.outbox import Outbox

    config = console_config("[sources.demo]\ntype = 'demo'\n")
    outbox = Outbox(store, config)
    for days, text in ((1, "Maintenance tonight in Jakarta"), (3, "[bold]Quiz[/bold] \x1b[31mday")):
        outbox.post("demo", text, NOW + timedelta(days=days))
    app = console_app(store, config, lambda d: ViewScreen(d, "calendar"))

    async def loaded(pilot: Pilot[None]) -> None:
        from smcc.tui.widgets.calendar import CalendarPane

        pane = pilot.app.screen.query_one(CalendarPane)
        await until(pilot, lambda: pane.week is not None)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)
