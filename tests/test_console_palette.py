"""Pilot tests: the command palette offers the actions that apply where it is opened — the
composer's while it is open, the approvers' and the drafts' while they are shown — each with its
key as the footer shows it, and runs them on the screen or pane their key works on."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit
from textual.widgets import TextArea

from console_app import console_app, until
from console_seed import console_config, mention_id, seeded_store
from smcc.models import OutboxState
from smcc.outbox import Outbox
from smcc.store import Store
from smcc.tui.commands import ConsoleCommands
from smcc.tui.screens.composer import ComposerScreen
from smcc.tui.screens.search import SearchScreen
from smcc.tui.widgets.approvals import ApprovalsPane, ApprovalsScreen, DraftsPane
from smcc.tui.widgets.queue import QueuePane

SIZE = (110, 34)

EXTRA = """
[sources.demo]
type = "demo"

[canned.sorry]
key = 1
text.en = "Sorry {author}, {brand} is on it. {operator}"

[canned.thanks]
key = 2
text = { en = "Thanks {author}!" }

[outbox.approval]
tiers = [1]
approvers = ["ayu"]

[operator.keys]
discard_draft = "delete"
"""


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "c.db")


async def offered(app: App[None]) -> dict[str, DiscoveryHit]:
    provider = ConsoleCommands(app.screen)
    return {str(h.display): h async for h in provider.discover() if isinstance(h, DiscoveryHit)}


async def test_the_palette_offers_the_composers_keys_while_it_is_open(store: Store) -> None:
    app = console_app(store, console_config(EXTRA))
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        target = queue.current_id
        assert "Claim the selected mention" in await offered(app)
        assert "Queue the reply in the outbox" not in await offered(app)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ComposerScreen))
        composer = app.screen
        assert isinstance(composer, ComposerScreen)
        await until(pilot, lambda: composer.target is not None)
        hits = await offered(app)
        alt = app.get_key_display(Binding("alt+1", ""))
        assert {name: hit.help for name, hit in hits.items()} == {
            "Show or hide the key bindings": "key: ?",
            "Quit the console (the ingester stops cleanly)": "key: q",
            "Queue the reply in the outbox": "key: ^s",
            "Close the composer": "key: esc",
            "Pick a canned reply": "key: ^t",
            "Insert canned reply 1: sorry": f"key: {alt}",
            "Insert canned reply 2: thanks": f"key: {alt[:-1]}2",
        }  # the operator's screen's keys (claim, …) do not apply here; no canned reply on 3
        await hits["Insert canned reply 1: sorry"].command()
        area = composer.query_one(TextArea)
        await until(pilot, lambda: area.text.startswith("Sorry @"))
        await hits["Queue the reply in the outbox"].command()
        await until(pilot, lambda: not isinstance(app.screen, ComposerScreen))
        items = store.outbox_items(mention_id=target)
        assert [(i.text, i.operator) for i in items] == [(area.text, "ayu")]


async def test_the_palette_offers_the_approvers_and_drafts_keys_while_shown(
    store: Store,
) -> None:
    cfg = console_config(EXTRA)
    target = mention_id(store, "t1-late")
    pending = Outbox(store, cfg, "budi").reply(target, "budi asks")
    assert pending.state is OutboxState.PENDING_APPROVAL
    draft = Outbox(store, cfg, "ayu").reply(target, "ayu's draft", draft=True)
    app = console_app(store, cfg)
    async with app.run_test(size=SIZE) as pilot:
        assert "Approve the selected item" not in await offered(app)
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen))
        approvals = app.screen.query_one(ApprovalsPane)
        drafts = app.screen.query_one(DraftsPane)
        await until(pilot, lambda: len(approvals.items) == 1 and len(drafts.drafts) == 1)
        hits = await offered(app)
        assert {name: hit.help for name, hit in hits.items()} == {
            "Show or hide the key bindings": "key: ?",
            "Quit the console (the ingester stops cleanly)": "key: q",
            "Close the approvals over the screen": "key: esc",
            "Approve the selected item": "key: y",
            "Reject the selected item (say why)": "key: n",
            "Edit the draft, submit it again": "key: o",
            "Discard the draft": f"key: {app.get_key_display(Binding('delete', ''))}",  # remapped
        }
        await hits["Discard the draft"].command()  # on the drafts, though the focus is above
        await until(pilot, lambda: f"draft {draft.id} discarded" in app.notes)
        discarded = store.outbox_item(draft.id or 0)
        assert discarded is not None
        assert discarded.state is OutboxState.CANCELLED
        await hits["Approve the selected item"].command()
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press("enter")
        await until(pilot, lambda: f"item {pending.id} approved, queued" in app.notes)
        await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen))
        await hits["Close the approvals over the screen"].command()
        await until(pilot, lambda: not isinstance(app.screen, ApprovalsScreen))
