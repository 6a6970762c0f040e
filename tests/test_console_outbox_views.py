"""Pilot tests of the outbox in the console: the content calendar (view and pane) and the
approvers' queue (approve, reject with a comment, refusals)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from textual.widget import Widget
from textual.widgets import Input, Static

from console_app import console_app, until
from console_seed import NOW, console_config, mention_id, seeded_store
from smcc.config import Config
from smcc.models import OutboxState
from smcc.outbox import Outbox
from smcc.store import Store
from smcc.tui.screens.search import SearchScreen
from smcc.tui.screens.view import ViewScreen
from smcc.tui.widgets.approvals import ApprovalsPane, ApprovalsScreen
from smcc.tui.widgets.calendar import CalendarPane

SIZE = (100, 30)
DEMO = "[sources.demo]\ntype = 'demo'\n"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "c.db")


def plain(root: Widget, widget_id: str) -> str:
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(root.query_one(widget_id, Static).content)
    return console.export_text()


def plan_week(store: Store, config: Config) -> None:
    outbox = Outbox(store, config)
    day = timedelta(days=1)
    outbox.post("demo", "Maintenance tonight in Jakarta", NOW + day)  # Tue
    sent = outbox.post("demo", "Our new plan is out", NOW - timedelta(hours=2))
    assert store.outbox_claim(sent.id or 0, "t:1", NOW) is not None
    assert store.outbox_sent(sent.id or 0, "t:1", "p-1", NOW) is not None
    outbox.post("demo", "Next week's post", NOW + 8 * day)  # not this week
    outbox.post("demo", "Last week's post", NOW - 2 * day)  # Saturday before: not this week


async def test_calendar_view_shows_the_weeks_planned_and_sent_posts_per_source(
    store: Store,
) -> None:
    config = console_config(DEMO)
    plan_week(store, config)
    app = console_app(store, config, lambda d: ViewScreen(d, "calendar"))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(CalendarPane)
        await until(pilot, lambda: pane.week is not None)
        text = plain(app.screen, "#calendar-body")
        assert "week of Mon 23 Nov 2026 · 1 planned · 1 sent" in text
        lines = text.splitlines()
        demo = lines.index("demo")
        rows = [" ".join(line.split()) for line in lines[demo + 1 : demo + 3]]
        assert rows == [
            "Mon 23 08:00 sent Our new plan is out",
            "Tue 24 08:00 queued Maintenance tonight in Jakarta",
        ]
        assert "Next week" not in text
        assert "Last week" not in text
        # Live: a post planned by another process shows through the `outbox` topic.
        Outbox(store, config, "budi").post("demo", "Friday quiz", NOW + 4 * timedelta(days=1))
        await until(pilot, lambda: "Fri 27 08:00" in plain(app.screen, "#calendar-body"))
        assert "2 planned · 1 sent" in plain(app.screen, "#calendar-body")


async def test_calendar_pane_on_the_main_screen_is_hidden_until_its_key(store: Store) -> None:
    app = console_app(store, console_config(DEMO))
    async with app.run_test(size=(120, 50)) as pilot:
        pane = app.screen.query_one(CalendarPane)
        await until(pilot, lambda: pane.week is not None)
        assert not pane.display
        assert "no posts this week" in plain(app.screen, "#calendar-body")
        await pilot.press("w")
        assert pane.display
        await pilot.press("w")
        assert not pane.display


async def pending_replies(store: Store, config: Config) -> list[int]:
    budi = Outbox(store, config, "budi")
    first = budi.reply(mention_id(store, "t1-late"), "we are on it")
    second = budi.reply(mention_id(store, "t1-warn"), "sorry, looking")
    assert first.state is second.state is OutboxState.PENDING_APPROVAL
    return [first.id or 0, second.id or 0]


APPROVAL = DEMO + "[outbox.approval]\ntiers = [1]\napprovers = ['ayu']\n"


async def test_approvers_queue_approves_and_rejects_with_a_comment(store: Store) -> None:
    config = console_config(APPROVAL)
    first, second = await pending_replies(store, config)
    app = console_app(store, config, lambda d: ViewScreen(d, "approvals"))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(ApprovalsPane)
        await until(pilot, lambda: [i.id for i in pane.items] == [first, second])
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"fine", "enter")
        await until(pilot, lambda: [i.id for i in pane.items] == [second])
        approved = store.outbox_item(first)
        assert approved is not None
        assert (approved.state, approved.approved_by, approved.comment) == (
            OutboxState.QUEUED,
            "ayu",
            "fine",
        )
        # A rejection needs a reason: an empty comment is refused and nothing changes.
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press("enter")
        await until(pilot, lambda: any("say why it is rejected" in n for n in app.notes))
        assert [i.id for i in pane.items] == [second]
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        app.screen.query_one(Input).value = "too curt; say sorry first"
        await pilot.press("enter")
        await until(pilot, lambda: pane.items == [])
        rejected = store.outbox_item(second)
        assert rejected is not None
        assert (rejected.state, rejected.comment) == (
            OutboxState.DRAFT,
            "too curt; say sorry first",
        )
        assert any(f"item {second} rejected, back to budi" in n for n in app.notes)
        assert "nothing waits for approval" in plain(app.screen, "#approvals-empty")
        actions = [e.action for e in store.outbox_events(second)]
        assert actions == ["outbox_created", "outbox_rejected"]


async def test_only_approvers_may_judge(store: Store) -> None:
    config = console_config(APPROVAL.replace("approvers = ['ayu']", "approvers = ['rina']"))
    first, _ = await pending_replies(store, config)
    app = console_app(store, config, lambda d: ViewScreen(d, "approvals"))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(ApprovalsPane)
        await until(pilot, lambda: len(pane.items) == 2)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press("enter")
        await until(pilot, lambda: any("ayu is not an approver" in n for n in app.notes))
        item = store.outbox_item(first)
        assert item is not None
        assert item.state is OutboxState.PENDING_APPROVAL


async def test_approvals_open_over_the_main_screen(store: Store) -> None:
    config = console_config(APPROVAL)
    first, second = await pending_replies(store, config)
    app = console_app(store, config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen))
        pane = app.screen.query_one(ApprovalsPane)
        await until(pilot, lambda: [i.id for i in pane.items] == [first, second])
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press("enter")
        await until(pilot, lambda: [i.id for i in pane.items] == [second])
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.name == "main")
        item = store.outbox_item(first)
        assert item is not None
        assert item.approved_by == "ayu"
