"""Pilot tests of the composer: canned replies in the mention's language, the live character count,
refusals shown in the composer, and a reply queued in the outbox — and, with the demo source
sending, the reply in the mention's thread."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static, TextArea

from console_app import console_app, until
from console_seed import console_config, make, mention_id, seeded_store
from smcc.config import Config
from smcc.models import OutboxState, Status
from smcc.sources import build_sources
from smcc.store import Store
from smcc.tui.ingester import BackgroundIngest
from smcc.tui.screens.composer import CannedScreen, ComposerScreen
from smcc.tui.screens.main import MainScreen
from smcc.tui.widgets.queue import QueuePane

SIZE = (100, 30)

CANNED = """
[sources.demo]
type = "demo"
rate = 0.05
bursts = false

[canned.sorry]
key = 1
text.en = "Sorry {author}, {brand} is on it. {operator}"
text.id = "Maaf {author}, {brand} sedang menanganinya. {operator}"

[canned.thanks]
key = 2
text = { en = "Thanks {author}!" }
"""


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = seeded_store(tmp_path / "console.db")
    # Indonesian, and the most urgent item (breached longest): first in the tier 1 queue.
    minute = timedelta(minutes=1)
    wati = make("t1-id", "sinyal mati", tier=1, age=40 * minute, sla=15 * minute, handle="wati")
    store.insert_batch([wati.model_copy(update={"language": "id"})])
    return store


def config(extra: str = "") -> Config:
    return console_config(CANNED + extra)


def text_of(screen: Widget, widget_id: str) -> str:
    """What a Static shows, as plain text (wide, so nothing wraps)."""
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(screen.query_one(widget_id, Static).content)
    return console.export_text()


async def open_composer(app: App[None], pilot: Pilot[None]) -> ComposerScreen:
    queue = app.screen.query_one(QueuePane)
    await until(pilot, lambda: queue.table.row_count == 5)
    await pilot.press("o")
    await until(pilot, lambda: isinstance(app.screen, ComposerScreen))
    composer = app.screen
    assert isinstance(composer, ComposerScreen)
    await until(pilot, lambda: composer.target is not None)
    return composer


async def test_canned_reply_in_the_mentions_language_with_placeholders_then_send(
    store: Store,
) -> None:
    app = console_app(store, config())
    async with app.run_test(size=SIZE) as pilot:
        composer = await open_composer(app, pilot)
        target = mention_id(store, "t1-id")
        assert composer.mention_id == target
        assert "@wati" in text_of(composer, "#composer-title")
        assert "1 sorry" in text_of(composer, "#composer-canned")
        await pilot.press("alt+1")
        area = composer.query_one(TextArea)
        expected = "Maaf @wati, Nusantel sedang menanganinya. ayu"
        await until(pilot, lambda: area.text == expected)
        # The demo platform allows 500: the count goes down as the text grows.
        await until(
            pilot,
            lambda: f"{500 - len(expected)} left of 500" in text_of(composer, "#composer-count"),
        )
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposerScreen))
        items = store.outbox_items(mention_id=target)
        assert [(i.text, i.operator, i.state, i.kind) for i in items] == [
            (expected, "ayu", OutboxState.QUEUED, "reply")
        ]
        assert [e.action for e in store.outbox_events(items[0].id or 0)] == ["outbox_created"]
        history = text_of(app.screen, "#detail-body").split("History")[1]
        assert "ayu outbox_created state: queued kind: reply source: demo" in history
        assert "template" not in history  # unset values are left out
        assert any(f"reply {items[0].id} queued" in n for n in app.notes)
        # The detail pane shows the reply's outbox state, and follows it (the `outbox` topic).
        main = app.screen
        await until(pilot, lambda: "Replies (1)" in text_of(main, "#detail-body"))
        assert re.search(rf"queued \d\d:\d\d ayu: {expected}", text_of(main, "#detail-body"))
        store.outbox_transition(
            items[0].id or 0,
            (OutboxState.QUEUED,),
            "ops",
            "outbox_failed",
            state=OutboxState.FAILED,
            last_error="parent deleted",
        )
        await until(pilot, lambda: "parent deleted" in text_of(main, "#detail-body"))
        assert "failed" in text_of(main, "#detail-body")


async def test_canned_picker_digit_picks_and_falls_back_to_the_operators_language(
    store: Store,
) -> None:
    app = console_app(store, config())
    async with app.run_test(size=SIZE) as pilot:
        composer = await open_composer(app, pilot)
        await pilot.press(*"Hi. ")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, CannedScreen))
        await pilot.press("2")
        await until(pilot, lambda: app.screen is composer)
        area = composer.query_one(TextArea)
        # `thanks` has no Indonesian text: the operator's language (en) is used.
        await until(pilot, lambda: area.text == "Hi. Thanks @wati!")
        await pilot.press("alt+7")
        assert "no canned reply on key 7" in text_of(composer, "#composer-error")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ComposerScreen))
        assert store.outbox_items() == []


async def test_over_the_limit_and_placeholders_are_refused_and_the_composer_stays(
    store: Store,
) -> None:
    app = console_app(store, config("\n[outbox]\nchar_limits = { demo = 20 }\n"))
    async with app.run_test(size=SIZE) as pilot:
        composer = await open_composer(app, pilot)
        area = composer.query_one(TextArea)
        area.insert("x" * 25)
        await until(pilot, lambda: "5 over the limit of 20" in text_of(composer, "#composer-count"))
        count = composer.query_one("#composer-count", Static).content
        assert isinstance(count, Text)
        assert "red" in str(count.style)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "shorten it by 5" in text_of(composer, "#composer-error"))
        assert app.screen is composer
        assert area.text == "x" * 25  # nothing lost
        area.load_text("hi {order}")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "{order} left unfilled" in text_of(composer, "#composer-error"))
        area.load_text("")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "the text is empty" in text_of(composer, "#composer-error"))
        assert app.screen is composer
        assert store.outbox_items() == []


async def test_a_source_that_cannot_reply_is_said_at_once(tmp_path: Path) -> None:
    store = seeded_store(tmp_path / "c.db")  # mentions from `demo`, but no such source configured
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ComposerScreen))
        composer = app.screen
        assert isinstance(composer, ComposerScreen)
        await until(pilot, lambda: "no source named 'demo'" in text_of(composer, "#composer-error"))


async def test_compose_key_can_be_remapped(store: Store) -> None:
    app = console_app(store, config('\n[operator.keys]\ncompose = "R"\n'))
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 5)
        await pilot.press("o")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ComposerScreen)
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ComposerScreen))


async def test_with_the_demo_source_a_sent_reply_appears_in_the_thread(store: Store) -> None:
    """The embedded ingester holds the lease, so it sends; the demo platform publishes the reply
    as the brand's post in the mention's conversation, and the detail pane shows it there."""
    cfg = config()
    ingest = BackgroundIngest(cfg, store.path, build_sources(cfg))
    ingest.start()
    try:
        app = console_app(store, cfg, lambda d: MainScreen(d, ingest))
        async with app.run_test(size=(120, 50)) as pilot:
            queue = app.screen.query_one(QueuePane)
            target = mention_id(store, "t1-ok")  # budi's post, the start of thread c1
            await until(pilot, lambda: target in [i.id for i in queue.items])
            while queue.current_id != target:
                await pilot.press("j")
            await pilot.press("o")
            await until(pilot, lambda: isinstance(app.screen, ComposerScreen))
            await pilot.press(*"on it")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: not isinstance(app.screen, ComposerScreen))
            await until(
                pilot,
                lambda: (
                    [i.state for i in store.outbox_items(mention_id=target)] == [OutboxState.SENT]
                ),
                timeout=15,
            )
            main = app.screen
            await until(pilot, lambda: "Thread (3)" in text_of(main, "#detail-body"), timeout=10)
            shown = text_of(main, "#detail-body")
            thread = shown.split("Thread (3)")[1].split("History")[0]
            assert "@nusantel: on it" in thread  # the brand's reply, in the conversation
            # Replied, budi's post left the open queue; the detail moved on to gita's, same thread.
            replied = store.get_mention(target)
            assert replied is not None
            assert replied.status is Status.REPLIED
    finally:
        ingest.stop()
