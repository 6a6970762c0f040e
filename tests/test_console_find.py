"""Search as a queue, filters, and the jump to alerts: Pilot tests on a seeded store."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from console_app import RecordingApp, console_app, until
from console_seed import NOW, mention_id, seeded_store
from smcc.models import Alert, AlertKind, Status
from smcc.store import MentionFilter, Store
from smcc.tui.data import with_filter
from smcc.tui.screens.choice import ChoiceScreen
from smcc.tui.widgets.queue import QueuePane

SIZE = (80, 24)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "find.db")


def _queue(app: RecordingApp) -> QueuePane:
    return app.screen.query_one(QueuePane)


def _handles(queue: QueuePane) -> list[str]:
    return [i.author_handle for i in queue.items]


def _tabs(queue: QueuePane) -> str:
    return str(queue.query_one("#tier-tabs", Static).render())


def _asking(app: RecordingApp, title: str) -> bool:
    screen = app.screen
    return isinstance(screen, ChoiceScreen) and screen.title_text.startswith(title)


async def _type(pilot: Pilot[None], text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)


def test_store_search_items_filters_and_takes_the_query_literally(store: Store) -> None:
    assert [i.author_handle for i in store.search_items("nusantel")] == [
        "fajar",
        "dewi",
        "citra",
        "budi",
    ]
    only = MentionFilter(statuses=("dismissed",))
    assert store.search_items("nusantel", only) == []
    assert store.search_items('AND "* :') == []  # FTS syntax is searched for, not run
    assert len(store.search_items("nusantel", limit=2)) == 2


async def test_search_results_are_a_queue_that_works_with_the_same_keys(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = _queue(app)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("slash")
        await _type(pilot, "outage hours")
        await pilot.press("enter")
        await until(pilot, lambda: _handles(queue) == ["dewi"])
        assert "search" in _tabs(queue)
        assert "1 found" in _tabs(queue)

        await pilot.press("c")  # claim works on the search result
        await until(pilot, lambda: store.claimed_by(mention_id(store, "t1-late")) == "ayu")
        await until(pilot, lambda: queue.items and queue.items[0].status is Status.CLAIMED)

        await pilot.press("escape")  # back to the tier queue
        await until(pilot, lambda: queue.search is None and queue.table.row_count == 4)
        assert "T1 4" in _tabs(queue)


async def test_search_with_no_hits_and_cancel(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = _queue(app)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("slash")
        app.screen.query_one(Input).value = '"[bold] AND'
        await pilot.press("enter")
        await until(pilot, lambda: queue.search == '"[bold] AND' and "0 found" in _tabs(queue))
        assert queue.current_id is None
        await pilot.press("c")
        assert "nothing selected" in app.notes
        # Escape in the search box keeps the search; a blank search ends it.
        await pilot.press("slash", "escape")
        assert queue.search == '"[bold] AND'
        await pilot.press("slash", "ctrl+u", "enter")
        await until(pilot, lambda: queue.search is None and queue.table.row_count == 4)


async def test_filter_by_status_and_clear(store: Store) -> None:
    store.set_status(mention_id(store, "t1-ok"), Status.DISMISSED, "ayu", action="dismiss")
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = _queue(app)
        await until(pilot, lambda: queue.table.row_count == 3)
        # Filter dialog: department, brand, source, language, status, clear all.
        await pilot.press("F", "down", "down", "down", "down", "enter")
        # Values: any status, new, claimed, replied, dismissed, escalated.
        await until(pilot, lambda: _asking(app, "Only this"))
        await pilot.press("down", "down", "down", "down", "enter")
        await until(pilot, lambda: _handles(queue) == ["budi"])
        assert queue.where == MentionFilter(statuses=("dismissed",))
        assert "status=dismissed" in _tabs(queue)

        await pilot.press("F", "up", "enter")  # clear all filters (wraps to the last option)
        await until(pilot, lambda: queue.where is None and queue.table.row_count == 3)


async def test_filter_by_a_value_with_no_mentions_empties_the_queue(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = _queue(app)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("F", "enter")  # department
        await until(pilot, lambda: _asking(app, "Only this"))
        await pilot.press("down", "down", "enter")  # any, social, support
        await until(pilot, lambda: queue.where == MentionFilter(departments=("support",)))
        await until(pilot, lambda: queue.table.row_count == 0)
        assert "T1 0" in _tabs(queue)


async def test_jump_to_alerts_filters_the_queue_to_the_alerts_brand(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = _queue(app)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("a")
        await until(pilot, lambda: "no active alerts" in app.notes)

        store.open_alert(
            Alert(
                kind=AlertKind.VOLUME_SPIKE,
                brand="Nusantel",
                severity=9,
                description="4x the usual volume",
                since=NOW,
            )
        )
        await pilot.press("a")
        await until(pilot, lambda: _asking(app, "Jump"))
        await pilot.press("enter")
        await until(pilot, lambda: queue.where == MentionFilter(brands=("Nusantel",)))
        await until(pilot, lambda: queue.table.row_count == 4)


def test_with_filter_replaces_one_column_and_empties_to_none() -> None:
    base = MentionFilter(departments=("social",))
    both = with_filter(base, "brand", "Nusantel")
    assert both == MentionFilter(departments=("social",), brands=("Nusantel",))
    assert base == MentionFilter(departments=("social",))  # not changed in place
    assert with_filter(with_filter(both, "brand", None), "department", None) is None


@pytest.mark.parametrize(("width", "shown"), [(80, "brand=Nusantel language=…"), (140, "")])
async def test_the_queue_header_stays_one_line_and_says_when_it_is_cut(
    store: Store, width: int, shown: str
) -> None:
    app = console_app(store)
    async with app.run_test(size=(width, 24)) as pilot:
        queue = _queue(app)
        await until(pilot, lambda: queue.table.row_count == 4)
        queue.set_where(MentionFilter(brands=("Nusantel",), languages=("en",)))
        await until(pilot, lambda: "language=en" in _tabs(queue))
        await pilot.pause(0.1)
        tabs = queue.query_one("#tier-tabs")
        assert tabs.region.height == 1
        line = app.screen._compositor.render_strips()[tabs.region.y].text
        assert (shown or "brand=Nusantel language=en") in line


async def test_enter_in_a_dialog_picks_the_highlighted_first_option(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = _queue(app)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("F")
        await until(pilot, lambda: _asking(app, "Filter the queue by"))
        await pilot.press("enter")  # nothing moved: the first column, department
        await until(pilot, lambda: _asking(app, "Only this department"))
        await pilot.press("down", "enter")  # below "any department": the first one, social
        await until(pilot, lambda: queue.where == MentionFilter(departments=("social",)))
