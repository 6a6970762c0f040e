"""Exactly once on platforms without idempotency keys: the outbox against the Reddit, Bluesky
and X stand-ins (tests/platform_standins.py). After an attempt whose outcome is unknown the
sender must look on the platform (our own recent comments or posts) before sending again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from loopback import LoopbackServer, Reply
from outbox_helpers import settle
from platform_standins import (
    ME,
    BlueskyStandIn,
    RedditStandIn,
    XStandIn,
    customer_post,
    standin_config,
    x_credentials_env,
)
from smcc.models import OutboxState
from smcc.outbox import Outbox, Sender
from smcc.store import Store


@pytest.fixture
def reddit(monkeypatch: pytest.MonkeyPatch) -> Iterator[RedditStandIn]:
    monkeypatch.setenv("SMCC_RD_CLIENT_ID", "app-id")
    monkeypatch.setenv("SMCC_RD_CLIENT_SECRET", "app-secret-1234")
    monkeypatch.setenv("SMCC_RD_REFRESH_TOKEN", "refresh-5678")
    with LoopbackServer() as server:
        yield RedditStandIn(server)


@pytest.mark.parametrize(
    ("before", "after", "posts"),
    [
        pytest.param(None, Reply.reset, 1, id="response-lost-after-storing"),
        pytest.param(Reply.reset, None, 2, id="lost-before-storing"),
        pytest.param(None, lambda: Reply(delay=1.0), 1, id="stall-after-storing"),
    ],
)
async def test_reddit_reply_goes_out_exactly_once(
    reddit: RedditStandIn,
    before: Callable[[], Reply] | None,
    after: Callable[[], Reply] | None,
    posts: int,
) -> None:
    url = reddit.server.base_url
    config = standin_config("rd", "reddit", url)
    store = Store.memory()
    parent = customer_post("rd", "reddit")
    mid = store.insert_batch([parent]).first_id or 0
    if before is not None:
        reddit.before_store.append(before)
    if after is not None:
        reddit.after_store.append(after)
    item = Outbox(store, config).reply(mid, "sorry, we are on it")
    sender = Sender(store, config, holder="t:1")
    done = await settle(sender, store, item.id or 0)
    assert len(reddit.comments) == 1, reddit.comments
    assert done.state is OutboxState.SENT
    assert done.platform_id == reddit.comments[0]["name"]
    assert done.attempts == 2
    assert len(reddit.server.requests_to("/api/comment", "POST")) == posts
    assert len(reddit.server.requests_to(f"/user/{ME}/comments", "GET")) == 1
    await sender.aclose()


# ---------------------------------------------------------------------------------------------
# Bluesky: createRecord takes no key either; the sender looks in our repo's newest records.


async def test_bluesky_reply_after_a_lost_response_is_found_not_resent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMCC_SKY_APP_PASSWORD", "app-pass-9999")
    with LoopbackServer() as server:
        sky = BlueskyStandIn(server)
        config = standin_config("sky", "bluesky", server.base_url)
        store = Store.memory()
        parent = customer_post("sky", "bluesky")
        mid = store.insert_batch([parent]).first_id or 0
        sky.posts[parent.external_id] = "bafyparent"
        sky.after_store.append(Reply.reset)
        item = Outbox(store, config).reply(mid, "sorry, we are on it")
        sender = Sender(store, config, holder="t:1")
        done = await settle(sender, store, item.id or 0)
        await sender.aclose()
    assert len(sky.records) == 1
    assert sky.records[0]["value"]["reply"]["parent"]["uri"] == parent.external_id
    assert done.state is OutboxState.SENT
    assert done.platform_id == sky.records[0]["uri"]
    assert len(server.requests_to("/xrpc/com.atproto.repo.createRecord")) == 1


# ---------------------------------------------------------------------------------------------
# X: no idempotency key; the sender looks among the account's posts since the first attempt.


async def test_x_reply_after_a_lost_response_is_found_not_resent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in x_credentials_env().items():
        monkeypatch.setenv(name, value)
    with LoopbackServer() as server:
        x = XStandIn(server)
        config = standin_config("x", "twitter", server.base_url)
        store = Store.memory()
        parent = customer_post("x", "twitter")
        mid = store.insert_batch([parent]).first_id or 0
        x.after_store.append(lambda: Reply(delay=1.0))  # stored, the answer comes too late
        item = Outbox(store, config).reply(mid, "sorry & on it")
        sender = Sender(store, config, holder="t:1")
        done = await settle(sender, store, item.id or 0)
        await sender.aclose()
    assert len(x.tweets) == 1
    assert done.state is OutboxState.SENT
    assert done.platform_id == x.tweets[0]["id"]
    assert len(server.requests_to("/2/tweets", "POST")) == 1
