"""Pilot test: a reply written in the console to a post the customer has since deleted fails
cleanly, and the console shows it — a notification to its author, and the reason in the detail
pane's list of replies (wrapped, not cut off)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from console_app import console_app, until
from console_seed import console_config, mention_id, seeded_store
from loopback import LoopbackServer
from mastodon_standin import MastodonStandIn
from outbox_helpers import settle
from smcc.models import OutboxState
from smcc.outbox import Sender
from smcc.store import Store
from smcc.tui.screens.composer import ComposerScreen
from smcc.tui.widgets.detail import DetailPane
from smcc.tui.widgets.queue import QueuePane

TOKEN = "console-token-51"


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[MastodonStandIn]:
    monkeypatch.setenv("SMCC_DEMO_ACCESS_TOKEN", TOKEN)
    with LoopbackServer() as server:
        yield MastodonStandIn(server, TOKEN)


def detail_text(pane: DetailPane, width: int) -> str:
    """The detail as the pane shows it at `width` columns, words joined across wrapped lines."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(pane.query_one("#detail-body").content)  # type: ignore[attr-defined]
    return " ".join(console.export_text().split())


async def test_a_reply_to_a_deleted_post_is_shown_failed_with_the_reason(
    tmp_path: Path, standin: MastodonStandIn
) -> None:
    path = tmp_path / "c.db"
    store = seeded_store(path)
    # The seeded mentions come from the source `demo`: here it is a Mastodon server on which
    # none of them exists any more (deleted), so it refuses any reply to them with 404.
    config = console_config(
        f"[sources.demo]\ntype = 'mastodon'\nbase_url = '{standin.server.base_url}'\n"
        "streaming = false\nnotifications = false\nhashtags = []\nquery = ['x']\n"
        "timeout = '1s'\n[outbox]\nretry_after = '20ms'\n"
    )
    target = mention_id(store, "t1-late")
    app = console_app(store, config)
    async with app.run_test(size=(100, 30)) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.current_id == target)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ComposerScreen))
        await pilot.press(*"sorry, on it")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ComposerScreen))
        (item,) = store.outbox_items(mention_id=target)
        # The sender (in the process holding the lease) on its own connection.
        with Store.open(path) as sending:
            sender = Sender(sending, config, holder="t:1")
            done = await settle(sender, sending, item.id or 0)
            await sender.aclose()
        assert done.state is OutboxState.FAILED
        assert done.attempts == 1
        assert len(standin.server.requests_to("/api/v1/statuses", "POST")) == 1
        reason = "404 Not Found: The post you are trying to reply to does not appear to exist."
        await until(
            pilot,
            lambda: any(
                n.startswith(f"your reply {item.id} to #{target} failed: request refused")
                and n.endswith(reason + ")")
                for n in app.notes
            ),
        )
        detail = app.screen.query_one(DetailPane)
        await until(pilot, lambda: "failed" in detail_text(detail, 200))
        # At the detail pane's own width the reason is there in full.
        width = detail.size.width
        assert width < 60
        replies = detail_text(detail, width).split("Replies (1)")[1].split("History")[0]
        assert replies.startswith(" failed")
        assert reason in replies
