"""Shared set-up of the outbox tests: a config with a Mastodon source on the stand-in, a stored
customer mention to answer, and a sender that runs until an item settles."""

from __future__ import annotations

import asyncio
import time

from mastodon_standin import MastodonStandIn
from smcc.config import Config, parse_config
from smcc.models import OutboxItem, OutboxState
from smcc.outbox import Sender
from smcc.sources.mastodon import parse_status
from smcc.store import Store

TOKEN = "outbox-token-7f3a91"
SOURCE = "brand-mastodon"


def config_text(base_url: str, extra: str = "") -> str:
    return f"""
[operator]
name = "ayu"

[[brands]]
name = "Nusantel"
keywords = ["nusantel"]

[sources.{SOURCE}]
type = "mastodon"
base_url = "{base_url}"
streaming = false
notifications = false
hashtags = []
query = ["nusantel"]
interval = "200ms"
timeout = "1s"

[canned.thanks]
key = 3
text.en = "Thank you, {{author}}! Glad you enjoy {{brand}}. — {{operator}}"
text.id = "Terima kasih, {{author}}! Senang Anda menyukai {{brand}}. — {{operator}}"

[outbox]
retry_after = "20ms"
{extra}
"""


def make_config(base_url: str, extra: str = "") -> Config:
    return parse_config(config_text(base_url, extra))


def store_customer_post(store: Store, standin: MastodonStandIn, text: str) -> int:
    """A customer's status on the stand-in, stored as a mention; returns the mention's id."""
    status = standin.add_status(text)
    mention = parse_status(SOURCE, status, "search:nusantel")
    mention.language = "en"
    result = store.insert_batch([mention])
    assert result.first_id is not None
    return result.first_id


async def settle(sender: Sender, store: Store, item_id: int, timeout: float = 10.0) -> OutboxItem:
    """Run the sender until the item is sent, failed or missed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await sender.send_due()
        item = store.outbox_item(item_id)
        assert item is not None
        if item.state in (OutboxState.SENT, OutboxState.FAILED, OutboxState.MISSED):
            return item
        await asyncio.sleep(0.01)
    raise AssertionError(f"item {item_id} did not settle: {store.outbox_item(item_id)}")
