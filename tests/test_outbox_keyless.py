"""Exactly once on platforms without idempotency keys: the outbox against Reddit and Bluesky
stand-ins.

The Reddit stand-in keeps the comments posted to it (`/api/comment`, answered like Reddit's
`api_type=json`) and lists the account's own comments newest first (`/user/NAME/comments`), as
Reddit does. After an attempt whose outcome is unknown the sender must look there first.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest

from loopback import LoopbackServer, Reply, Request
from outbox_helpers import settle
from smcc.config import parse_config
from smcc.models import Author, Mention, OutboxState, utcnow
from smcc.outbox import Outbox, Sender
from smcc.store import Store

ME = "nusantel_care"


@dataclass
class RedditStandIn:
    server: LoopbackServer
    comments: list[dict[str, Any]] = field(default_factory=list)
    before_store: list[Callable[[], Reply | None]] = field(default_factory=list)
    after_store: list[Callable[[], Reply | None]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        s = self.server
        s.route("POST", "/api/v1/access_token", Reply.json({"access_token": "tok-1"}))
        s.route("GET", "/api/v1/me", Reply.json({"name": ME}))
        s.route("POST", "/api/comment", self._comment)
        s.route("GET", f"/user/{ME}/comments", self._mine)

    def _comment(self, request: Request) -> Reply:
        if self.before_store:
            answer = self.before_store.pop(0)()
            if answer is not None:
                return answer
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        with self._lock:
            cid = f"c{next(self._ids)}"
            data = {
                "id": cid,
                "name": f"t1_{cid}",
                "parent_id": form["thing_id"],
                "body": form["text"],
                "author": ME,
                "created_utc": time.time(),
            }
            self.comments.append(data)
        if self.after_store:
            answer = self.after_store.pop(0)()
            if answer is not None:
                return answer
        return Reply.json(
            {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": data}]}}}
        )

    def _mine(self, request: Request) -> Reply:
        with self._lock:
            children = [{"kind": "t1", "data": c} for c in reversed(self.comments)]
        return Reply.json({"kind": "Listing", "data": {"children": children, "after": None}})


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
    config = parse_config(
        f"[sources.rd]\ntype = 'reddit'\nbase_url = '{url}'\nauth_url = '{url}'\n"
        "timeout = '500ms'\n[outbox]\nretry_after = '20ms'\n"
    )
    store = Store.memory()
    parent = Mention(
        source="rd",
        external_id="t3_abc",
        author=Author(handle="dewi"),
        text="nusantel no signal",
        created_at=utcnow(),
    )
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

DID = "did:plc:brand"


@dataclass
class BlueskyStandIn:
    server: LoopbackServer
    records: list[dict[str, Any]] = field(default_factory=list)
    after_store: list[Callable[[], Reply | None]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        session = {"accessJwt": "a-jwt-1111", "refreshJwt": "r-jwt-2222", "did": DID}
        s = self.server
        s.route("POST", "/xrpc/com.atproto.server.createSession", Reply.json(session))
        s.route("POST", "/xrpc/com.atproto.repo.createRecord", self._create)
        s.route("GET", "/xrpc/com.atproto.repo.listRecords", self._list)

    def _create(self, request: Request) -> Reply:
        body = request.json()
        uri = f"at://{DID}/app.bsky.feed.post/3k{next(self._ids):011d}"
        self.records.append({"uri": uri, "cid": "bafy", "value": body["record"]})
        if self.after_store:
            answer = self.after_store.pop(0)()
            if answer is not None:
                return answer
        return Reply.json({"uri": uri, "cid": "bafy"})

    def _list(self, request: Request) -> Reply:
        return Reply.json({"records": list(reversed(self.records))})


async def test_bluesky_reply_after_a_lost_response_is_found_not_resent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMCC_SKY_APP_PASSWORD", "app-pass-9999")
    with LoopbackServer() as server:
        sky = BlueskyStandIn(server)
        config = parse_config(
            f"[sources.sky]\ntype = 'bluesky'\nbase_url = '{server.base_url}'\n"
            "handle = 'brand.bsky.social'\ntimeout = '500ms'\n[outbox]\nretry_after = '20ms'\n"
        )
        store = Store.memory()
        parent = Mention(
            source="sky",
            external_id="at://did:plc:dewi/app.bsky.feed.post/3kabc",
            author=Author(handle="dewi.bsky.social"),
            text="nusantel no signal",
            created_at=utcnow(),
            raw={"cid": "bafyparent"},
        )
        mid = store.insert_batch([parent]).first_id or 0
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


@dataclass
class XStandIn:
    server: LoopbackServer
    tweets: list[dict[str, Any]] = field(default_factory=list)
    after_store: list[Callable[[], Reply | None]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_860_000_000_000_000_000))

    def __post_init__(self) -> None:
        s = self.server
        s.route("GET", "/2/users/me", Reply.json({"data": {"id": "42", "username": "nusantel"}}))
        s.route("POST", "/2/tweets", self._create)
        s.route("GET", "/2/users/42/tweets", self._mine)

    def _create(self, request: Request) -> Reply:
        body = request.json()
        tweet: dict[str, Any] = {"id": str(next(self._ids)), "text": body["text"]}
        reply = body.get("reply") or {}
        if reply.get("in_reply_to_tweet_id"):
            tweet["referenced_tweets"] = [
                {"type": "replied_to", "id": reply["in_reply_to_tweet_id"]}
            ]
            # As X does: the answered account's handle in front, entities escaped.
            tweet["text"] = "@dewi " + body["text"].replace("&", "&amp;")
        self.tweets.append(tweet)
        if self.after_store:
            answer = self.after_store.pop(0)()
            if answer is not None:
                return answer
        return Reply.json({"data": {"id": tweet["id"], "text": tweet["text"]}}, 201)

    def _mine(self, request: Request) -> Reply:
        assert "start_time" in request.query
        return Reply.json({"data": list(reversed(self.tweets))} if self.tweets else {"meta": {}})


async def test_x_reply_after_a_lost_response_is_found_not_resent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for field_name, value in {
        "CONSUMER_KEY": "ck",
        "CONSUMER_SECRET": "cs",
        "ACCESS_TOKEN": "12-at",
        "ACCESS_TOKEN_SECRET": "ats",
        "BEARER_TOKEN": "AAAA-bearer-0123456789",
    }.items():
        monkeypatch.setenv(f"SMCC_X_{field_name}", value)
    with LoopbackServer() as server:
        x = XStandIn(server)
        config = parse_config(
            f"[sources.x]\ntype = 'twitter'\nbase_url = '{server.base_url}'\n"
            "timeout = '500ms'\n[outbox]\nretry_after = '20ms'\n"
        )
        store = Store.memory()
        parent = Mention(
            source="x",
            external_id="1850000000000000001",
            author=Author(handle="dewi"),
            text="nusantel no signal",
            created_at=utcnow(),
        )
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
