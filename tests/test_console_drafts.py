"""Pilot tests: a rejected item goes back to its author. The author hears of it, sees it in their
drafts (with the approver's name and comment) under the approvers' queue, reopens it in the
composer, edits it and submits it again — a new approval round, every transition audited."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widget import Widget
from textual.widgets import Static, TextArea

from console_app import console_app, until
from console_seed import NOW, console_config, mention_id, seeded_store
from smcc.config import Config
from smcc.models import OutboxState
from smcc.outbox import Outbox, OutboxError
from smcc.store import Store
from smcc.tui.screens.composer import ComposerScreen
from smcc.tui.screens.view import ViewScreen
from smcc.tui.widgets.approvals import ApprovalsPane, ApprovalsScreen, DraftsPane

SIZE = (110, 34)
APPROVAL = """
[sources.demo]
type = "demo"

[outbox.approval]
tiers = [1]
posts = true
approvers = ["rina"]
"""


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "c.db")


def config() -> Config:
    return console_config(APPROVAL)


def plain(root: Widget, selector: str) -> str:
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(root.query_one(selector, Static).content)
    return console.export_text()


def rows(pane: DraftsPane) -> list[str]:
    table = pane.table
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_the_author_hears_edits_and_resubmits_a_rejected_reply(store: Store) -> None:
    cfg = config()
    target = mention_id(store, "t1-late")
    ayu = Outbox(store, cfg, "ayu")  # the console's operator
    item = ayu.reply(target, "we refund everyone 1000%")
    assert item.state is OutboxState.PENDING_APPROVAL
    item_id = item.id or 0
    budi_draft = Outbox(store, cfg, "budi").reply(target, "budi's own", draft=True)
    app = console_app(store, cfg)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        # Another process: the approver sends it back. The author is told, wherever they are.
        Outbox(store, cfg, "rina").reject(item_id, "no promises on amounts")
        await until(
            pilot,
            lambda: (
                (
                    f"rina rejected your reply {item_id} to #{target}: no promises on amounts "
                    "(A: your drafts)"
                )
                in app.notes
            ),
        )
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen))
        drafts = app.screen.query_one(DraftsPane)
        await until(pilot, lambda: len(drafts.drafts) == 1)
        # Only ayu's drafts: budi's is budi's.
        assert [d.item.id for d in drafts.drafts] == [item_id]
        assert budi_draft.id not in [d.item.id for d in drafts.drafts]
        assert rows(drafts) == [
            f"{item_id} | reply #{target} | rina | no promises on amounts | "
            "we refund everyone 1000%"
        ]
        await pilot.press("tab")
        assert app.screen.focused is drafts.table
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ComposerScreen))
        composer = app.screen
        assert isinstance(composer, ComposerScreen)
        await until(pilot, lambda: composer.target is not None)
        assert "rina: no promises on amounts" in plain(composer, "#composer-comment")
        assert f"Draft {item_id}: reply to #{target}" in plain(composer, "#composer-title")
        assert "Ctrl+S submit again" in plain(composer, "#composer-keys")
        area = composer.query_one(TextArea)
        assert area.text == "we refund everyone 1000%"
        area.load_text("Sorry {author}, we will look into a refund. {operator}")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen))
        await until(
            pilot,
            lambda: f"draft {item_id} submitted again: waits for an approver" in app.notes,
        )
        await until(pilot, lambda: drafts.drafts == [])
        approvals = app.screen.query_one(ApprovalsPane)
        await until(pilot, lambda: [i.id for i in approvals.items] == [item_id])
        again = store.outbox_item(item_id)
        assert again is not None
        assert (again.state, again.text, again.operator) == (
            OutboxState.PENDING_APPROVAL,
            "Sorry @dewi, we will look into a refund. ayu",
            "ayu",
        )
        events = store.outbox_events(item_id)
        assert [(e.actor, e.action) for e in events] == [
            ("ayu", "outbox_created"),
            ("rina", "outbox_rejected"),
            ("ayu", "outbox_submitted"),
        ]
        assert events[2].detail["edited"] is True
        assert events[2].detail["before"] == "we refund everyone 1000%"
        # A new round: rina approves it this time.
        Outbox(store, cfg, "rina").approve(item_id, "better")
        await until(pilot, lambda: approvals.items == [])


async def test_a_rejected_post_is_reopened_with_its_sources_limit_and_refusals_keep_it(
    store: Store,
) -> None:
    cfg = config().model_copy(deep=True)
    cfg.outbox.char_limits["demo"] = 30
    post = Outbox(store, cfg, "ayu").post("demo", "Promo tonight", NOW)
    Outbox(store, cfg, "rina").reject(post.id or 0, "say which promo")
    app = console_app(store, cfg, lambda d: ViewScreen(d, "approvals"))
    async with app.run_test(size=SIZE) as pilot:
        # At start the author hears that drafts came back.
        await until(
            pilot, lambda: "1 of your drafts came back from approval (A: your drafts)" in app.notes
        )
        drafts = app.screen.query_one(DraftsPane)
        await until(pilot, lambda: len(drafts.drafts) == 1)
        drafts.table.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ComposerScreen))
        composer = app.screen
        assert isinstance(composer, ComposerScreen)
        await until(pilot, lambda: composer.target is not None)
        assert f"Draft {post.id}: post on demo" in plain(composer, "#composer-title")
        assert "17 left of 30" in plain(composer, "#composer-count")
        area = composer.query_one(TextArea)
        area.load_text("Promo tonight: 50% off all data plans")
        await pilot.press("ctrl+s")
        await until(
            pilot, lambda: "where demo (demo) allows 30" in plain(composer, "#composer-error")
        )
        assert isinstance(app.screen, ComposerScreen)  # the text stays to be shortened
        stored = store.outbox_item(post.id or 0)
        assert stored is not None
        assert (stored.state, stored.text) == (OutboxState.DRAFT, "Promo tonight")
        area.load_text("Promo: 50% off data")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposerScreen))
        await until(pilot, lambda: drafts.drafts == [])
        stored = store.outbox_item(post.id or 0)
        assert stored is not None
        assert (stored.state, stored.text) == (OutboxState.PENDING_APPROVAL, "Promo: 50% off data")


async def test_a_draft_can_be_discarded_and_only_by_its_author(store: Store) -> None:
    cfg = config()
    target = mention_id(store, "t2-a")
    mine = Outbox(store, cfg, "ayu").reply(target, "kept for later", draft=True)
    app = console_app(store, cfg, lambda d: ViewScreen(d, "approvals"))
    async with app.run_test(size=SIZE) as pilot:
        drafts = app.screen.query_one(DraftsPane)
        await until(pilot, lambda: len(drafts.drafts) == 1)
        assert rows(drafts) == [f"{mine.id} | reply #{target} | not sent |  | kept for later"]
        # Not budi's to drop (nor to edit or submit).
        budi = Outbox(store, cfg, "budi")
        for act in (budi.discard, budi.submit, lambda i: budi.edit(i, "mine now")):
            with pytest.raises(OutboxError, match=f"item {mine.id} is ayu's draft: only ayu can"):
                act(mine.id or 0)
        drafts.table.focus()
        await pilot.press("x")
        await until(pilot, lambda: f"draft {mine.id} discarded" in app.notes)
        await until(pilot, lambda: drafts.drafts == [])
        assert "no drafts of yours" in plain(app.screen, "#drafts-empty")
        gone = store.outbox_item(mine.id or 0)
        assert gone is not None
        assert gone.state is OutboxState.CANCELLED
        assert [e.action for e in store.outbox_events(mine.id or 0)] == [
            "outbox_created",
            "outbox_cancelled",
        ]
