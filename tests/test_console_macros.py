"""Pilot tests of macros in the console: each macro on its own key (remappable, shown by `?`),
every macro in the command palette, the same code path as `smcc macro`, audit events with the
operator's name, a notification and refreshed panes."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import DiscoveryHit
from textual.pilot import Pilot

from console_app import RecordingApp, console_app, until
from console_seed import console_config, mention_id, seeded_store
from smcc.config import Config
from smcc.models import OutboxState, Status
from smcc.store import Store
from smcc.tui.commands import ConsoleCommands
from smcc.tui.widgets.queue import QueuePane

SIZE = (100, 30)

MACROS = """
[sources.demo]
type = "demo"

[canned.sorry]
text.en = "Sorry {author}, {brand} is on it. {operator}"

[macros.ack]
label = "acknowledge and close"
key = "Ctrl+O"  # as people write it: Textual's name is ctrl+o
steps = [{ reply = "sorry" }, { tag = "acknowledged" }, { status = "dismissed" }]

[macros.tag_only]
steps = [{ tag = "watch" }]

[macros.bad_text]
steps = [{ tag = "x" }, { text = "your order {order}" }]
"""


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "c.db")


def config(extra: str = "") -> Config:
    return console_config(MACROS + extra)


def tags(store: Store, mention: int) -> list[str]:
    found = store.get_mention(mention)
    assert found is not None
    assert found.triage is not None
    return found.triage.tags


async def selected(app: RecordingApp, pilot: Pilot[None]) -> int:
    queue = app.screen.query_one(QueuePane)
    await until(pilot, lambda: queue.table.row_count == 4)
    current = queue.current_id
    assert current is not None
    return current


async def test_a_macro_key_runs_the_macro_on_the_selected_mention(store: Store) -> None:
    app = console_app(store, config())
    async with app.run_test(size=SIZE) as pilot:
        target = await selected(app, pilot)
        assert target == mention_id(store, "t1-late")  # the most urgent: first in tier 1
        await pilot.press("ctrl+o")
        await until(pilot, lambda: any("macro ack" in n for n in app.notes))
        items = store.outbox_items(mention_id=target)
        assert [(i.text, i.operator, i.state) for i in items] == [
            ("Sorry @dewi, Nusantel is on it. ayu", "ayu", OutboxState.QUEUED)
        ]
        note = f"#{target} macro ack: reply {items[0].id} queued; tagged acknowledged; dismissed"
        assert note in app.notes
        mention = store.get_mention(target)
        assert mention is not None
        assert mention.status is Status.DISMISSED
        assert "acknowledged" in tags(store, target)
        # The audit story, every line with the operator's name; the macro's own event last.
        events = list(reversed(store.events(target)))
        assert [(e.actor, e.action) for e in events] == [
            ("ayu", "outbox_created"),
            ("ayu", "tag"),
            ("ayu", "dismiss"),
            ("ayu", "macro"),
        ]
        assert events[-1].detail == {
            "macro": "ack",
            "done": [f"reply {items[0].id} queued", "tagged acknowledged", "dismissed"],
        }
        # The panes follow: the dismissed mention leaves the queue.
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: target not in [i.id for i in queue.items])


async def test_a_macro_key_can_be_remapped_and_shows_under_help(store: Store) -> None:
    app = console_app(store, config('\n[operator.keys]\nmacro_tag_only = "x"\n'))
    async with app.run_test(size=SIZE) as pilot:
        target = await selected(app, pilot)
        active = app.screen.active_bindings
        assert active["x"].binding.action == "run_macro('tag_only')"
        assert active["ctrl+o"].binding.description == "acknowledge and close"
        await pilot.press("?")
        await until(pilot, lambda: bool(app.screen.query("HelpPanel")))
        await pilot.press("x")
        await until(pilot, lambda: f"#{target} macro tag_only: tagged watch" in app.notes)
        assert tags(store, target)[-1] == "watch"
        mention = store.get_mention(target)
        assert mention is not None
        assert mention.status is Status.NEW
        assert store.outbox_items(mention_id=target) == []


async def test_the_palette_offers_every_macro_and_runs_it(store: Store) -> None:
    app = console_app(store, config())
    async with app.run_test(size=SIZE) as pilot:
        target = await selected(app, pilot)
        provider = ConsoleCommands(app.screen)
        hits = [h async for h in provider.discover() if isinstance(h, DiscoveryHit)]
        offered = {h.display: h.help for h in hits if str(h.display).startswith("Run macro")}
        assert offered == {
            "Run macro ack: acknowledge and close": "key: ^o",  # as the footer shows ctrl+o
            "Run macro tag_only": "no key",
            "Run macro bad_text": "no key",
        }
        run = next(h for h in hits if h.display == "Run macro tag_only")
        await run.command()
        await until(pilot, lambda: f"#{target} macro tag_only: tagged watch" in app.notes)


async def test_a_refused_macro_changes_nothing_and_says_why(store: Store) -> None:
    app = console_app(store, config())
    async with app.run_test(size=SIZE) as pilot:
        target = await selected(app, pilot)
        await app.screen.run_action("run_macro('bad_text')")
        await until(pilot, lambda: any("bad_text" in n for n in app.notes))
        assert (
            f"#{target}: macro bad_text, step 2: placeholder {{order}} left unfilled; "
            in (app.notes[-1])
        )
        assert "x" not in tags(store, target)
        assert [e.action for e in store.events(target)] == []


async def test_a_macro_key_that_clashes_is_reported_and_the_console_key_kept(
    store: Store,
) -> None:
    app = console_app(store, config().model_copy(deep=True))
    app.data.config.macros["tag_only"].key = "c"  # claim's key
    async with app.run_test(size=SIZE) as pilot:
        target = await selected(app, pilot)
        assert any("macros.tag_only: key 'c' is already claim's" in n for n in app.notes), app.notes
        await pilot.press("c")
        await until(pilot, lambda: f"#{target} claimed" in app.notes)
        assert "watch" not in tags(store, target)


async def test_a_macro_on_a_mention_someone_else_holds_does_nothing(store: Store) -> None:
    app = console_app(store, config())
    async with app.run_test(size=SIZE) as pilot:
        target = await selected(app, pilot)
        assert store.claim(target, "budi").ok
        await pilot.press("ctrl+o")
        await until(pilot, lambda: any("macro ack" in n for n in app.notes))
        assert (
            f"#{target}: macro ack, step 3 (dismissed): mention {target} is claimed by budi; "
            "nothing done"
        ) in app.notes
        assert store.outbox_items(mention_id=target) == []
        assert "acknowledged" not in tags(store, target)
        assert [e.action for e in store.events(target)] == ["claim"]
