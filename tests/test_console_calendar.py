"""The content calendar with the keyboard: browse the weeks, move a planned post to a new time
(the same move as `smcc schedule move`, audit event included), and the refusals."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Static

from console_app import RecordingApp, console_app, until
from console_seed import NOW, console_config, seeded_store
from smcc.config import Config
from smcc.models import OutboxState
from smcc.outbox import Outbox
from smcc.store import Store
from smcc.tui.screens.search import SearchScreen
from smcc.tui.screens.view import ViewScreen
from smcc.tui.widgets.calendar import CalendarPane

SIZE = (100, 30)
DAY = timedelta(days=1)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "cal.db")


@pytest.fixture
def config() -> Config:
    return console_config("[sources.demo]\ntype = 'demo'\n")


def plan(store: Store, config: Config) -> dict[str, int]:
    """This week (NOW is Monday 23 Nov 2026, 08:00 UTC): one sent, one planned; one the week
    after and one the week before."""
    outbox = Outbox(store, config)
    sent = outbox.post("demo", "Our new plan is out", NOW - timedelta(hours=2))
    assert store.outbox_claim(sent.id or 0, "t:1", NOW) is not None
    assert store.outbox_sent(sent.id or 0, "t:1", "p-1", NOW) is not None
    ids = {
        "tuesday": outbox.post("demo", "Maintenance tonight in Jakarta", NOW + DAY).id,
        "next": outbox.post("demo", "Next week's post", NOW + 8 * DAY).id,
        "last": outbox.post("demo", "Last week's post", NOW - 2 * DAY).id,
        "sent": sent.id,
    }
    return {k: v or 0 for k, v in ids.items()}


def shown(app: RecordingApp) -> str:
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(app.screen.query_one("#calendar-body", Static).content)
    return console.export_text()


def calendar_app(store: Store, config: Config) -> RecordingApp:
    return console_app(store, config, lambda d: ViewScreen(d, "calendar"))


async def test_brackets_browse_the_weeks_and_full_stop_comes_back(
    store: Store, config: Config
) -> None:
    plan(store, config)
    app = calendar_app(store, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(CalendarPane)
        await until(pilot, lambda: "week of Mon 23 Nov 2026 · 1 planned · 1 sent" in shown(app))
        assert pane.has_focus
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: "week of Mon 30 Nov 2026 · 1 planned" in shown(app))
        assert "Next week's post" in shown(app)
        assert "Maintenance" not in shown(app)
        assert ". this week" in shown(app)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await until(pilot, lambda: "week of Mon 16 Nov 2026" in shown(app))
        assert "Last week's post" in shown(app)
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: "week of Mon 09 Nov 2026" in shown(app))
        assert "no posts that week" in shown(app)
        await pilot.press("full_stop")
        await until(pilot, lambda: "week of Mon 23 Nov 2026" in shown(app))
        assert "Maintenance tonight in Jakarta" in shown(app)


async def move_selected(pilot: Pilot[None], app: RecordingApp, when: str) -> None:
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, SearchScreen))
    app.screen.query_one(Input).value = when
    await pilot.press("enter")


async def test_a_planned_post_moves_to_the_time_typed_and_the_calendar_follows_it(
    store: Store, config: Config
) -> None:
    ids = plan(store, config)
    app = calendar_app(store, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(CalendarPane)
        await until(pilot, lambda: pane.week is not None and pane.selected == ids["sent"])
        await pilot.press("down")  # the sent one first (Mon 06:00), then Tuesday's
        assert pane.selected == ids["tuesday"]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        field = app.screen.query_one(Input)
        assert field.value == "2026-11-24T08:00"  # its time now, in the operator's zone
        field.value = "2026-12-01T09:30"
        await pilot.press("enter")
        await until(pilot, lambda: any("moved to Tue 01 Dec 09:30" in n for n in app.notes))
        # The calendar went with it, to the week of 30 Nov, the post still selected.
        await until(pilot, lambda: "week of Mon 30 Nov 2026 · 2 planned" in shown(app))
        assert pane.selected == ids["tuesday"]
        assert "Tue 01 09:30 queued" in " ".join(shown(app).split())
    item = store.outbox_item(ids["tuesday"])
    assert item is not None
    assert item.scheduled_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert item.state is OutboxState.QUEUED
    # The audit trail of `smcc schedule move`: who, from when, to when.
    (moved,) = [e for e in store.outbox_events(ids["tuesday"]) if e.action == "outbox_moved"]
    assert moved.actor == "ayu"
    assert str(moved.detail["to"]).startswith("2026-12-01")


async def test_relative_times_count_from_the_consoles_clock(store: Store, config: Config) -> None:
    ids = plan(store, config)
    app = calendar_app(store, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(CalendarPane)
        await until(pilot, lambda: pane.week is not None)
        await pilot.press("down")
        await move_selected(pilot, app, "+3h")
        await until(pilot, lambda: any("moved to Mon 23 Nov 11:00" in n for n in app.notes))
    item = store.outbox_item(ids["tuesday"])
    assert item is not None
    assert item.scheduled_at == NOW + timedelta(hours=3)


async def test_a_sent_post_or_a_bad_time_is_refused_and_nothing_moves(
    store: Store, config: Config
) -> None:
    ids = plan(store, config)
    app = calendar_app(store, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(CalendarPane)
        await until(pilot, lambda: pane.selected == ids["sent"])
        await pilot.press("enter")  # the sent post
        await until(pilot, lambda: any("only planned or missed posts move" in n for n in app.notes))
        assert not isinstance(app.screen, SearchScreen)
        await pilot.press("j")
        await move_selected(pilot, app, "tomorrow morning")
        await until(pilot, lambda: any("not a time; write e.g." in n for n in app.notes))
        await pilot.press("k", "k", "j")  # stays within the list at both ends
        assert pane.selected == ids["tuesday"]
    item = store.outbox_item(ids["tuesday"])
    assert item is not None
    assert item.scheduled_at == NOW + DAY
    assert not [e for e in store.outbox_events(ids["tuesday"]) if e.action == "outbox_moved"]


async def test_on_the_main_screen_w_shows_the_calendar_with_its_keys(
    store: Store, config: Config
) -> None:
    plan(store, config)
    app = console_app(store, config)
    async with app.run_test(size=(120, 50)) as pilot:
        pane = app.screen.query_one(CalendarPane)
        await until(pilot, lambda: pane.week is not None)
        await pilot.press("w")
        assert pane.display
        assert pane.has_focus
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: "week of Mon 30 Nov 2026" in shown(app))
        await pilot.press("w")
        assert not pane.display
        assert app.focused is not None
        assert app.focused.id == "queue-table"


async def test_the_palette_offers_the_calendars_commands_while_it_is_shown(
    store: Store, config: Config
) -> None:
    from textual.command import CommandList

    plan(store, config)
    app = calendar_app(store, config)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "week of Mon 23 Nov 2026" in shown(app))
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        palette = app.screen
        await pilot.press(*"show the next week")

        def hits() -> str:
            return " ".join(str(o.prompt) for o in palette.query_one(CommandList).options)

        await until(pilot, lambda: "Show the next week" in hits())
        assert "key: ]" in hits()
        await pilot.press("enter")
        await until(pilot, lambda: "week of Mon 30 Nov 2026" in shown(app))
