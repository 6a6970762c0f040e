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
from console_seed import NOW, console_config, mention_id, seeded_store
from smcc.models import Alert, AlertKind
from smcc.store import Store
from smcc.tui.screens.view import VIEWS, ViewScreen
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


def open_crisis(store: Store) -> None:
    store.open_alert(
        Alert(
            kind=AlertKind.SENTIMENT_DROP,
            brand="Nusantel",
            severity=9,
            description="sentiment fell from +0.1 to -0.6 in 10 minutes",
            since=NOW,
        )
    )


def test_main_screen_with_alert(snap_compare: SnapCompare, store: Store) -> None:
    open_crisis(store)
    assert snap_compare(console_app(store), terminal_size=(80, 24), run_before=_settle)


def test_queue_view_wall_theme(snap_compare: SnapCompare, store: Store) -> None:
    app = console_app(store, screen=lambda d: ViewScreen(d, "queue"), theme="wall")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)


def test_composer_over_the_limit(snap_compare: SnapCompare, store: Store) -> None:
    """The composer at 80×24 with a canned reply inserted and text past a tight limit."""
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


SIZES = [(80, 24), (200, 60)]
APPROVAL = "[sources.demo]\ntype = 'demo'\n[outbox.approval]\ntiers = [1]\napprovers = ['ayu']\n"


@pytest.fixture
def views_store(store: Store) -> Store:
    """The seeded mentions plus what the other views show: an alert, the week's posts (one with
    hostile text), replies waiting for approval, and the operator's selection."""
    from smcc.models import OutboxItem, OutboxState
    from smcc.outbox import Outbox

    open_crisis(store)
    outbox = Outbox(store, console_config(APPROVAL))
    for days, text in ((1, "Maintenance tonight in Jakarta"), (3, "[bold]Quiz[/bold] \x1b[31mday")):
        outbox.post("demo", text, NOW + timedelta(days=days))
    for external_id, text in (("t1-late", "we are on it"), ("t1-warn", "sorry, looking")):
        # Written directly: Outbox.reply would stamp them with the real clock.
        reply = OutboxItem(
            kind="reply",
            source="demo",
            text=text,
            mention_id=mention_id(store, external_id),
            state=OutboxState.PENDING_APPROVAL,
            idempotency_key=f"snap-{external_id}",
            operator="budi",
            created_at=NOW,
        )
        store.outbox_add(reply, "budi")
    store.set_selection("ayu", mention_id(store, "t1-ok"))
    return store


def _view_loaded(app: RecordingApp, view: str) -> bool:
    from smcc.tui.widgets.alerts import AlertsPane
    from smcc.tui.widgets.approvals import ApprovalsPane
    from smcc.tui.widgets.calendar import CalendarPane

    screen = app.screen
    if view == "meters":
        return len(screen.query(".meter-label")) >= 2
    if view == "alerts":
        return bool(screen.query_one(AlertsPane).alerts)
    if view == "calendar":
        return screen.query_one(CalendarPane).week is not None
    if view == "approvals":
        panes = screen.query(ApprovalsPane)  # inside the outbox desk, mounted after the screen
        return bool(panes) and len(panes.first().items) == 2
    return _loaded(app)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "200x60"])
@pytest.mark.parametrize("view", VIEWS)
def test_view(
    snap_compare: SnapCompare, views_store: Store, view: str, size: tuple[int, int]
) -> None:
    """Each `smcc view NAME` at both sizes."""
    app = console_app(views_store, console_config(APPROVAL), screen=lambda d: ViewScreen(d, view))

    async def loaded(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: _view_loaded(app, view))
        await pilot.pause(0.2)  # the last reload's repaint

    assert snap_compare(app, terminal_size=size, run_before=loaded)
