"""A reply to a deleted post fails cleanly on every platform: the outbox row ends `failed` after
one attempt with the platform's reason, nothing is posted, nothing is retried, the mention stays
unanswered — and the story is in the audit log. Against the stand-ins (tests/mastodon_standin.py,
tests/platform_standins.py), which answer as each platform does:

- Mastodon: 404 "The post you are trying to reply to does not appear to exist." (its
  `statuses.errors.in_reply_not_found`; the recorded `test_status_missing` cassette in
  ../shared/data/api/mastodon is the same 404 for a GET of a missing status);
- X: 403 "You attempted to reply to a Tweet that is deleted or not visible to you.";
- Reddit: 200 with `json.errors` [["DELETED_LINK", …]];
- Bluesky: the PDS would store the reply (it checks no references), so the adapter asks the
  AppView first (`getPosts` leaves a deleted post out) and refuses before storing anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from loopback import LoopbackServer, Reply
from mastodon_standin import MastodonStandIn
from outbox_helpers import SOURCE, TOKEN, make_config, settle, store_customer_post
from platform_standins import (
    BlueskyStandIn,
    RedditStandIn,
    XStandIn,
    customer_post,
    standin_config,
    x_credentials_env,
)
from smcc.config import Config
from smcc.models import Mention, OutboxItem, OutboxState, Status
from smcc.outbox import Outbox, Sender
from smcc.store import Store

S = OutboxState


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[MastodonStandIn]:
    monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", TOKEN)
    with LoopbackServer() as server:
        yield MastodonStandIn(server, TOKEN)


def assert_failed_cleanly(store: Store, done: OutboxItem, reason: str) -> None:
    assert done.state is S.FAILED
    assert done.attempts == 1  # a permanent refusal is not tried again
    assert not done.in_doubt
    assert reason in (done.last_error or "")
    assert done.platform_id is None
    story = store.outbox_events(done.id or 0)
    assert [e.action for e in story] == ["outbox_created", "outbox_sending", "outbox_failed"]
    assert reason in story[-1].detail["error"]
    mention = store.get_mention(done.mention_id or 0)
    assert mention is not None
    assert mention.status is Status.NEW  # not answered


async def reply_and_settle(store: Store, config: Config, mention: Mention) -> OutboxItem:
    mid = store.insert_batch([mention]).first_id or 0
    item = Outbox(store, config).reply(mid, "sorry, we are on it")
    sender = Sender(store, config, holder="t:1")
    try:
        return await settle(sender, store, item.id or 0)
    finally:
        await sender.aclose()


async def test_mastodon(standin: MastodonStandIn) -> None:
    config = make_config(standin.server.base_url)
    store = Store.memory()
    mid = store_customer_post(store, standin, "nusantel down again?")
    mention = store.get_mention(mid)
    assert mention is not None
    standin.deleted.add(mention.external_id)
    item = Outbox(store, config).reply(mid, "hello?")
    sender = Sender(store, config, holder="t:1")
    done = await settle(sender, store, item.id or 0)
    await sender.aclose()
    assert_failed_cleanly(store, done, "404 Not Found: The post you are trying to reply to")
    assert standin.own_statuses() == []
    assert len(standin.server.requests_to("/api/v1/statuses", "POST")) == 1


async def reply_lost_then_parent_deleted(
    standin: MastodonStandIn, *, key_covers: bool
) -> tuple[Store, OutboxItem]:
    """A reply is stored but its answer lost, then the customer deletes their post; the sender
    tries again within the idempotency key's hour (`key_covers`) or after it."""
    config = make_config(standin.server.base_url)
    store = Store.memory()
    mid = store_customer_post(store, standin, "nusantel down again?")
    mention = store.get_mention(mid)
    assert mention is not None

    def lost_then_deleted(status: dict[str, object]) -> Reply:
        standin.deleted.add(mention.external_id)
        return Reply.reset()

    standin.after_store.append(lost_then_deleted)
    item = Outbox(store, config).reply(mid, "we are on it")
    sender = Sender(store, config, holder="t:1")
    if not key_covers:
        sender.source(SOURCE).idempotency_window = timedelta(0)  # type: ignore[misc]
    try:
        return store, await settle(sender, store, item.id or 0)
    finally:
        await sender.aclose()


async def test_mastodon_in_doubt_then_deleted_finds_the_reply_it_made(
    standin: MastodonStandIn,
) -> None:
    """The first attempt posted the reply but its answer was lost; then the customer deleted
    their post. The parent has no context any more (404): the lookup falls back to our own
    statuses and finds the reply, instead of failing it or posting a second."""
    store, done = await reply_lost_then_parent_deleted(standin, key_covers=False)
    own = standin.own_statuses()
    assert len(own) == 1
    assert done.state is S.SENT
    assert done.platform_id == own[0]["id"]
    assert store.outbox_events(done.id or 0)[-2].detail["found_on_platform"] is True


async def test_mastodon_in_doubt_then_deleted_with_the_key_says_it_may_be_there(
    standin: MastodonStandIn,
) -> None:
    """Within the key's hour the repeat carries the key, but Mastodon looks the parent up first
    and refuses (404) although our reply exists: the item fails, saying an earlier attempt may
    have posted it, so that someone looks before `smcc outbox retry`."""
    _, done = await reply_lost_then_parent_deleted(standin, key_covers=True)
    assert done.state is S.FAILED
    assert done.in_doubt
    assert "does not appear to exist" in (done.last_error or "")
    assert "an earlier attempt may have posted it: look on the platform" in (done.last_error or "")
    assert len(standin.own_statuses()) == 1  # posted once, never twice


async def test_x(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in x_credentials_env().items():
        monkeypatch.setenv(name, value)
    with LoopbackServer() as server:
        x = XStandIn(server)
        x.deleted.add("1850000000000000001")
        config = standin_config("x", "twitter", server.base_url)
        store = Store.memory()
        parent = customer_post("x", "twitter")
        done = await reply_and_settle(store, config, parent)
        assert len(server.requests_to("/2/tweets", "POST")) == 1
    assert_failed_cleanly(
        store,
        done,
        "X answered 403 Forbidden (/2/tweets): You attempted to reply to a Tweet that is "
        "deleted or not visible to you.",
    )
    assert x.tweets == []


async def test_reddit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMCC_RD_CLIENT_ID", "app-id")
    monkeypatch.setenv("SMCC_RD_CLIENT_SECRET", "app-secret-1234")
    monkeypatch.setenv("SMCC_RD_REFRESH_TOKEN", "refresh-5678")
    with LoopbackServer() as server:
        reddit = RedditStandIn(server)
        reddit.deleted.add("t3_abc")
        url = server.base_url
        config = standin_config("rd", "reddit", url)
        store = Store.memory()
        parent = customer_post("rd", "reddit")
        done = await reply_and_settle(store, config, parent)
        assert len(server.requests_to("/api/comment", "POST")) == 1
    assert_failed_cleanly(
        store,
        done,
        "reddit refused the reply: the link you are commenting on has been deleted (DELETED_LINK)",
    )
    assert reddit.comments == []


async def test_bluesky(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMCC_SKY_APP_PASSWORD", "app-pass-9999")
    with LoopbackServer() as server:
        sky = BlueskyStandIn(server)  # knows no post of the customer's: it was deleted
        config = standin_config("sky", "bluesky", server.base_url)
        store = Store.memory()
        parent = customer_post("sky", "bluesky")
        done = await reply_and_settle(store, config, parent)
        assert server.requests_to("/xrpc/com.atproto.repo.createRecord") == []
    assert_failed_cleanly(store, done, "the post to reply to is gone: deleted, or not visible")
    assert sky.records == []
