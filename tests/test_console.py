"""Pilot tests of the console: the main screen, live updates, and the keyboard workflow."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.command import CommandList
from textual.widgets import Static

from console_app import console_app, until
from console_seed import HOSTILE, NOW, console_config, make, mention_id, seeded_store
from smcc.models import Alert, AlertKind, Status
from smcc.store import Store
from smcc.tui.screens.view import ViewScreen
from smcc.tui.widgets.alerts import AlertsPane
from smcc.tui.widgets.detail import DetailPane
from smcc.tui.widgets.feed import FeedPane
from smcc.tui.widgets.queue import QueuePane
from smcc.tui.widgets.status import StatusLine

SIZE = (80, 24)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "console.db"
    seeded_store(path).close()
    return path


@pytest.fixture
def store(db: Path) -> Store:
    return Store.open(db)


def row_texts(queue: QueuePane) -> list[list[str]]:
    table = queue.table
    return [
        [str(Text(c).plain if isinstance(c, str) else c.plain) for c in table.get_row_at(i)]
        for i in range(table.row_count)
    ]


async def test_main_screen_shows_queues_feed_detail_and_status(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        assert queue.counts == {1: 4, 2: 1, 3: 2}
        rows = row_texts(queue)
        # Most urgent first, each with its countdown: breached, warning, then the rest.
        assert [r[0] for r in rows] == ["-5m", "3m", "13m", "14m"]
        assert [r[2] for r in rows] == ["@dewi", "@citra", "@budi", "@gita"]
        styles = [queue.table.get_row_at(i)[0].style for i in range(2)]
        assert styles == ["bold white on red", "bold yellow"]
        feed = app.screen.query_one(FeedPane)
        await until(pilot, lambda: len(feed.items) == 7)
        detail = app.screen.query_one(DetailPane)
        await until(pilot, lambda: detail.mention_id == mention_id(store, "t1-late"))
        status = app.screen.query_one(StatusLine)
        await until(pilot, lambda: status.lease is None and status._loaded)
        assert "no ingester running" in status.render_status().plain
        assert not app.screen.query_one(AlertsPane).display


async def test_detail_shows_text_author_rule_sentiment_thread_and_history(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=(120, 50)) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("j", "j")  # to budi's post, the start of a thread
        detail = app.screen.query_one(DetailPane)
        target = mention_id(store, "t1-ok")
        await until(pilot, lambda: detail.mention_id == target)
        await pilot.press("c")
        body = detail.query_one("#detail-body")
        await until(pilot, lambda: "ayu claim" in _plain(body))
        text = _plain(body)
        for expected in (
            "Nusantel signal down in Jakarta",
            "@budi",
            "1,200 followers",
            "rule: outage",
            "matched 'down' with negative sentiment",
            "-0.70 negative",
            "(vader)",
            "Thread (2)",
            "@gita: @budi same here",
            "ayu claim",
            "claimed by ayu",
        ):
            assert expected in text, expected


def _plain(widget: object) -> str:
    """What a Static shows, as plain text (wide, so nothing wraps)."""
    assert isinstance(widget, Static)
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


async def test_claim_dismiss_escalate_write_audit_events(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        first = queue.current_id
        assert first == mention_id(store, "t1-late")
        await pilot.press("c")
        await until(pilot, lambda: store.claimed_by(first) == "ayu")
        await until(pilot, lambda: f"#{first} claimed" in app.notes)
        await pilot.press("d")
        await until(pilot, lambda: queue.table.row_count == 3)
        await pilot.press("e")
        second = mention_id(store, "t1-warn")
        await until(pilot, lambda: _status(store, second) is Status.ESCALATED)
    assert [(e.actor, e.action) for e in reversed(store.events(first))] == [
        ("ayu", "claim"),
        ("ayu", "dismiss"),
    ]
    assert [(e.actor, e.action) for e in store.events(second)] == [("ayu", "escalate")]


def _status(store: Store, mention_id: int) -> Status | None:
    m = store.get_mention(mention_id)
    return m.status if m else None


async def test_contested_claim_says_who_has_it(store: Store, db: Path) -> None:
    target = mention_id(store, "t1-late")
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        other = Store.open(db)  # another operator's process claims first
        assert other.claim(target, "budi").ok
        other.close()
        await pilot.press("c")
        await until(pilot, lambda: any("already claimed by budi" in n for n in app.notes))
    assert store.claimed_by(target) == "budi"


async def test_route_and_change_tier_through_the_dialogs(store: Store) -> None:
    app = console_app(store)
    target = mention_id(store, "t1-late")
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("r")
        await until(pilot, lambda: type(app.screen).__name__ == "ChoiceScreen")
        await pilot.press("down", "enter")  # social (current) → support
        await until(pilot, lambda: _department(store, target) == "support")
        await pilot.press("t")
        await until(pilot, lambda: type(app.screen).__name__ == "ChoiceScreen")
        await pilot.press("down", "enter")  # tier 1 (current) → tier 2
        await until(pilot, lambda: _tier(store, target) == 2)
        await until(pilot, lambda: queue.counts.get(2) == 2)
    mention = store.get_mention(target)
    assert mention is not None
    assert mention.triage is not None
    # Support's tier 2 SLA is 2 h from when the post was made.
    assert mention.triage.sla_due == mention.created_at + timedelta(hours=2)
    actions = [(e.action, e.detail) for e in reversed(store.events(target))]
    assert actions == [
        ("route", {"department": ["social", "support"]}),
        ("tier", {"tier": [1, 2]}),
    ]


def _department(store: Store, mention_id: int) -> str | None:
    m = store.get_mention(mention_id)
    return m.triage.department if m and m.triage else None


def _tier(store: Store, mention_id: int) -> int | None:
    m = store.get_mention(mention_id)
    return m.triage.tier if m and m.triage else None


async def test_escape_cancels_a_dialog_without_changes(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("r")
        await until(pilot, lambda: type(app.screen).__name__ == "ChoiceScreen")
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ == "MainScreen")
    assert store.events() == []


async def test_new_mentions_from_another_process_appear(store: Store, db: Path) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        feed = app.screen.query_one(FeedPane)
        await until(pilot, lambda: queue.table.row_count == 4)
        writer = Store.open(db)
        writer.insert_batch(
            [
                make(
                    "late-arrival",
                    "nusantel down again",
                    tier=1,
                    age=timedelta(minutes=18),
                    sla=timedelta(minutes=10),
                    handle="hadi",
                )
            ]
        )
        writer.close()
        await until(pilot, lambda: queue.table.row_count == 5, timeout=2)
        assert row_texts(queue)[0][2] == "@hadi"  # breached longest ago: now on top
        await until(pilot, lambda: feed.items[-1].author_handle == "hadi", timeout=2)


async def test_tiers_mine_filter_and_moving(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("3")
        await until(pilot, lambda: queue.tier == 3 and queue.table.row_count == 2)
        await pilot.press("1")
        await until(pilot, lambda: queue.tier == 1 and queue.table.row_count == 4)
        await pilot.press("k", "j", "j", "k")
        await until(pilot, lambda: queue.current_id == mention_id(store, "t1-warn"))
        await pilot.press("c")
        await until(pilot, lambda: store.claimed_by(mention_id(store, "t1-warn")) == "ayu")
        await pilot.press("m")
        await until(pilot, lambda: queue.mine and queue.table.row_count == 1)
        assert queue.counts == {1: 1, 2: 0, 3: 0}


async def test_alerts_banner_appears_and_goes(store: Store, db: Path) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        banner = app.screen.query_one(AlertsPane)
        await pilot.pause(0.1)
        assert not banner.display
        other = Store.open(db)
        alert_id = other.open_alert(
            Alert(
                kind=AlertKind.VOLUME_SPIKE,
                brand="Nusantel",
                severity=9,
                description="5x normal volume",
                since=NOW,
            )
        )
        await until(pilot, lambda: banner.display and banner.has_class("critical"), timeout=2)
        assert "Nusantel since 08:00 · volume_spike · 5x normal volume" in _plain(
            banner.query_one("#alert-lines")
        )
        other.close_alert(alert_id)
        other.close()
        await until(pilot, lambda: not banner.display, timeout=2)


@pytest.mark.parametrize(("size", "lines"), [((80, 24), 2), ((120, 40), 4)])
async def test_many_alerts_fit_the_banner_with_a_count_of_the_rest(
    store: Store, size: tuple[int, int], lines: int
) -> None:
    for n, keyword in enumerate(("#nusantel", "#nusantelcare", "nusantel", "nusa tel")):
        store.open_alert(
            Alert(
                kind=AlertKind.VOLUME_SPIKE,
                brand="Nusantel",
                keyword=keyword,
                severity=4 + n,
                description=f"{keyword}: spike",
                since=NOW,
            )
        )
    app = console_app(store)
    async with app.run_test(size=size) as pilot:
        banner = app.screen.query_one(AlertsPane)
        # the alerts arrive first, the layout that sizes the banner for them on the next refresh
        await until(pilot, lambda: len(banner.alerts) == 4 and banner.region.height > 0)
        shown = _plain(banner.query_one("#alert-lines")).splitlines()
        assert len(shown) == lines
        assert banner.region.height == lines
        assert "SEVERITY 7  Nusantel (nusa tel) since 08:00" in shown[0]  # most severe first
        if lines == 2:
            assert shown[1].strip() == "+3 more alerts · a: jump to the mentions of one"


async def test_hostile_text_is_shown_as_data(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = app.screen.query_one(QueuePane)
        await pilot.press("3")
        await until(pilot, lambda: queue.tier == 3 and queue.table.row_count == 2)
        hostile = mention_id(store, "t3-hostile")
        while queue.current_id != hostile:
            await pilot.press("j")
        detail = app.screen.query_one(DetailPane)
        await until(pilot, lambda: detail.mention_id == hostile)
        await until(pilot, lambda: "mallory" in _plain(detail.query_one("#detail-body")))
        text = _plain(detail.query_one("#detail-body"))
        assert "[bold]not bold[/bold] [link=https://evil.example]click[/link] red evil" in text
        assert "\x1b" not in text
        assert "\u202e" not in text
        cells = row_texts(queue)
        assert any("[bold]not bold[/bold]" in c[3] for c in cells)
    assert HOSTILE.startswith("[bold]")


async def test_keys_can_be_remapped_in_config(store: Store) -> None:
    config = console_config('\n[operator.keys]\nclaim = "x"\nnot_a_binding = "z"\n')
    config.operator.name = "ayu"
    # The [operator] table comes first in the seed config; keys are added under it here.
    app = console_app(store, config)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        first = queue.current_id
        assert first is not None
        await pilot.press("c")  # no longer bound
        await pilot.pause(0.2)
        assert store.claimed_by(first) is None
        await pilot.press("x")
        await until(pilot, lambda: store.claimed_by(first) == "ayu")
        assert any("operator.keys.not_a_binding: no key binding" in n for n in app.notes)


async def test_help_panel_and_command_palette(store: Store) -> None:
    app = console_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        first = queue.current_id
        await pilot.press("question_mark")
        await until(pilot, lambda: bool(app.screen.query("HelpPanel")))
        await pilot.press("question_mark")
        await until(pilot, lambda: not app.screen.query("HelpPanel"))
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        palette = app.screen

        def hits() -> str:
            return " ".join(str(o.prompt) for o in palette.query_one(CommandList).options)

        await pilot.press(*"hide the key bindings")
        await until(pilot, lambda: "Show or hide the key bindings" in hits())
        assert "key: ?" in hits()  # as the footer shows it, not "question_mark"
        await pilot.press(*(["backspace"] * len("hide the key bindings")))
        await pilot.press(*"claim the selected")
        await until(pilot, lambda: "Claim the selected mention" in hits())
        await pilot.press("enter")
        await until(pilot, lambda: first is not None and store.claimed_by(first) == "ayu")


async def test_detail_view_follows_the_selection_of_another_process(store: Store, db: Path) -> None:
    app = console_app(store, screen=lambda d: ViewScreen(d, "detail"))
    async with app.run_test(size=SIZE) as pilot:
        detail = app.screen.query_one(DetailPane)
        await pilot.pause(0.1)
        assert detail.mention_id is None
        other = Store.open(db)
        target = mention_id(other, "t2-a")
        other.set_selection("ayu", target)  # the operator moves in a `queue` view elsewhere
        other.close()
        await until(pilot, lambda: detail.mention_id == target, timeout=2)
        await until(
            pilot, lambda: "how do I change my plan?" in _plain(detail.query_one("#detail-body"))
        )
        await pilot.press("d")  # actions work on the mention shown
        await until(pilot, lambda: _status(store, target) is Status.DISMISSED)


async def test_queue_view_for_one_tier(store: Store) -> None:
    app = console_app(store, screen=lambda d: ViewScreen(d, "queue", tier=2))
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 1)
        assert queue.tiers == (2,)
        await pilot.press("1")  # not part of this view
        await pilot.pause(0.1)
        assert queue.tier == 2


async def test_detail_lists_the_links_in_the_post_in_full(store: Store) -> None:
    scam = make(
        "scam",
        "Win a phone! 👉 https://claim-bonus.example/win?id=7. Also (https://x.example/a) "
        "and again https://claim-bonus.example/win?id=7",
        tier=1,
        age=timedelta(minutes=30),
        sla=timedelta(minutes=10),
        handle="spammer",
    )
    store.insert_batch([scam])
    app = console_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = app.screen.query_one(DetailPane)
        target = mention_id(store, "scam")
        await until(pilot, lambda: detail.mention_id == target)  # breached longest: on top
        body = detail.query_one("#detail-body")
        await until(pilot, lambda: "@spammer" in _plain(body))
        lines = [line.strip() for line in _plain(body).splitlines()]
        links = [line for line in lines if line.startswith("in the post:")]
        assert links == [
            "in the post: https://claim-bonus.example/win?id=7",
            "in the post: https://x.example/a",
        ]
