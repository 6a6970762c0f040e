"""The Bluesky source against a loopback XRPC server: snapshots, sessions, replies, faults."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loopback import LoopbackServer, Reply, Responder, shared_data
from smcc.config import BlueskySourceConfig, Config
from smcc.sources.base import HealthState, SourceError
from smcc.sources.bluesky import (
    BlueskySource,
    jetstream_event_to_mention,
    load_cursor,
    notification_to_mention,
    post_view_to_mention,
    thread_to_mentions,
)
from source_faults import Observed, run_until, scaled_backoff, stored_ids, temp_store
from test_source_twitter import take

PASSWORD = "abcd-efgh-ijkl-mnop"
SESSION = {"accessJwt": "access-jwt-1111", "refreshJwt": "refresh-jwt-2222", "did": "did:plc:me"}
FRESH = {"accessJwt": "access-jwt-3333", "refreshJwt": "refresh-jwt-4444", "did": "did:plc:me"}
LIST = "/xrpc/app.bsky.notification.listNotifications"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"


def snapshot(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        shared_data("api", "bluesky", "appview", name).read_text(encoding="utf-8")
    )
    return data


def make_source(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, **settings: Any
) -> BlueskySource:
    monkeypatch.setenv("SMCC_SKY_APP_PASSWORD", PASSWORD)
    config = BlueskySourceConfig(
        base_url=server.base_url,
        handle="brand.bsky.social",
        interval=timedelta(milliseconds=10),
        timeout=timedelta(milliseconds=300),
        **settings,
    )
    return BlueskySource("sky", config, [], Config())


def check_post(mention: Any, view: dict[str, Any]) -> None:
    record = view["record"]
    assert mention.external_id == view["uri"]
    assert mention.text == record["text"]
    assert mention.created_at == datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
    assert mention.author.handle == view["author"]["handle"]
    assert mention.author.external_id == view["author"]["did"]
    assert mention.author.display_name == view["author"].get("displayName", "")
    reply = record.get("reply")
    assert mention.reply_to_id == (reply["parent"]["uri"] if reply else None)
    assert mention.conversation_id == (reply["root"]["uri"] if reply else view["uri"])
    assert mention.raw["cid"] == view.get("cid", "")


def test_appview_notifications_of_mentions_replies_and_quotes() -> None:
    checked = 0
    for name, answer in snapshot("notifications.test.ts.json").items():
        items = answer["notifications"] if isinstance(answer, dict) else answer
        for item in items:
            mention = notification_to_mention(item, "sky")
            if item["reason"] not in ("mention", "reply", "quote"):
                assert mention is None, name
                continue
            assert mention is not None
            check_post(mention, item)
            assert mention.raw["reason"] == item["reason"]
            checked += 1
    assert checked >= 10


def test_appview_and_real_threads() -> None:
    real = json.loads(
        shared_data("api", "bluesky", "xrpc", "thread_view_post_with_embed_media.json").read_text()
    )
    (mention,) = thread_to_mentions(real["thread"], "sky")
    check_post(mention, real["thread"]["post"])
    assert mention.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    deep = snapshot("thread.test.ts.json")["appview thread views > fetches deep post thread 1"]
    posts = thread_to_mentions(deep, "sky")
    assert len(posts) > 3
    views: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any]) -> None:
        views[node["post"]["uri"]] = node["post"]
        for reply in node.get("replies", []):
            walk(reply)

    walk(deep)
    assert {m.external_id for m in posts} == set(views)
    for mention in posts:
        check_post(mention, views[mention.external_id])
        assert mention.engagement.likes == views[mention.external_id]["likeCount"]


def test_jetstream_post_events() -> None:
    path = shared_data("api", "bluesky", "jetstream", "expected_v1.jsonl")
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    mentions = [m for e in events if (m := jetstream_event_to_mention(e, "sky")) is not None]
    creates = [
        e
        for e in events
        if e["kind"] == "commit"
        and e["commit"]["operation"] == "create"
        and e["commit"]["collection"] == "app.bsky.feed.post"
    ]
    assert len(mentions) == len(creates) == 17
    for mention, event in zip(mentions, creates, strict=True):
        assert mention.text == event["commit"]["record"]["text"]
        assert mention.author.handle == event["did"]
        assert mention.external_id.endswith(event["commit"]["rkey"])


def search_answer() -> dict[str, Any]:
    """searchPosts has no public recording: its answer is `{posts: postView[]}` (lexicon), and
    the post views here are the AppView's own snapshot of a timeline."""
    feed = snapshot("timeline.test.ts.json")
    first = next(v for k, v in feed.items() if "reverse-chronological" in k)
    posts = {item["post"]["uri"]: item["post"] for item in first}  # reposts repeat a post
    return {"posts": list(posts.values())}


async def test_session_search_notifications_and_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = search_answer()
    notes = snapshot("notifications.test.ts.json")[
        "notification views > fetches notifications without a last-seen 1"
    ]
    with LoopbackServer() as server:
        server.route("POST", "/xrpc/com.atproto.server.createSession", Reply.json(SESSION))
        server.route("GET", LIST, Reply.json({"notifications": notes}))
        server.route("GET", SEARCH, Reply.json(answer))
        source = make_source(server, monkeypatch, query=["kopi susu"])
        notified, searched = await take(source.stream(None), 2)
        await source.aclose()
        login = server.requests[0]
        listed = server.requests_to(LIST)[0]
        search = server.requests_to(SEARCH)[0]
    assert login.json() == {"identifier": "brand.bsky.social", "password": PASSWORD}
    assert listed.headers["authorization"] == "Bearer access-jwt-1111"
    assert listed.query["reasons"] == ["mention", "reply", "quote"]
    assert search.query["q"] == ["kopi susu"]
    assert search.query["sort"] == ["latest"]
    assert len(notified.mentions) == 4  # 1 mention + 3 replies of the 13 notifications
    assert len(searched.mentions) == len(answer["posts"])
    for mention, view in zip(searched.mentions, answer["posts"], strict=True):
        check_post(mention, view)
    newest = max(p["indexedAt"] for p in answer["posts"])
    assert load_cursor(searched.cursor) == {
        "notifications": max(n["indexedAt"] for n in notes),
        "search:kopi susu": newest,
    }


async def test_expired_token_is_refreshed(monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackServer() as server:
        server.route("POST", "/xrpc/com.atproto.server.createSession", Reply.json(SESSION))
        server.route("POST", "/xrpc/com.atproto.server.refreshSession", Reply.json(FRESH))
        expired = Reply.json({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        server.route("GET", LIST, expired, times=1)
        server.route("GET", LIST, Reply.json({"notifications": []}))
        source = make_source(server, monkeypatch)
        await take(source.stream(None), 1)
        await source.aclose()
        refresh = server.requests_to("/xrpc/com.atproto.server.refreshSession")[0]
        retried = server.requests_to(LIST)[1]
    assert refresh.headers["authorization"] == "Bearer refresh-jwt-2222"
    assert retried.headers["authorization"] == "Bearer access-jwt-3333"


def post_views(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every post view of a thread snapshot (the node's, its parents', its replies')."""
    if isinstance(node.get("post"), dict):
        yield node["post"]
    for child in (node.get("parent"), *node.get("replies", [])):
        if isinstance(child, dict):
            yield from post_views(child)


async def test_reply_carries_root_and_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    deep = snapshot("thread.test.ts.json")["appview thread views > fetches deep post thread 1"]
    target = next(m for m in thread_to_mentions(deep, "sky") if m.reply_to_id)
    view = next(v for v in post_views(deep) if v["uri"] == target.external_id)
    created = {"uri": "at://did:plc:me/app.bsky.feed.post/3new", "cid": "bafynew"}
    with LoopbackServer() as server:
        server.route("POST", "/xrpc/com.atproto.server.createSession", Reply.json(SESSION))
        server.route("GET", "/xrpc/app.bsky.feed.getPosts", Reply.json({"posts": [view]}))
        server.route("POST", "/xrpc/com.atproto.repo.createRecord", Reply.json(created))
        source = make_source(server, monkeypatch)
        assert await source.reply(target, "Terima kasih!", "k1") == created["uri"]
        assert await source.post("Halo semua", "k2") == created["uri"]
        await source.aclose()
        reply, post = server.requests_to("/xrpc/com.atproto.repo.createRecord")
        (asked,) = server.requests_to("/xrpc/app.bsky.feed.getPosts")
    assert asked.query["uris"] == [target.external_id]
    record = reply.json()["record"]
    assert reply.json()["repo"] == "did:plc:me"
    assert record["reply"]["parent"] == {"uri": target.external_id, "cid": target.raw["cid"]}
    assert record["reply"]["root"]["uri"] == target.conversation_id
    assert record["reply"]["root"] != record["reply"]["parent"]
    assert "reply" not in post.json()["record"]


async def test_a_reply_to_a_deleted_post_is_refused_before_anything_is_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deep = snapshot("thread.test.ts.json")["appview thread views > fetches deep post thread 1"]
    target = next(m for m in thread_to_mentions(deep, "sky") if m.reply_to_id)
    with LoopbackServer() as server:
        server.route("POST", "/xrpc/com.atproto.server.createSession", Reply.json(SESSION))
        # getPosts leaves out a post that is gone.
        server.route("GET", "/xrpc/app.bsky.feed.getPosts", Reply.json({"posts": []}))
        source = make_source(server, monkeypatch)
        with pytest.raises(SourceError, match="the post to reply to is gone") as refused:
            await source.reply(target, "Terima kasih!", "k1")
        await source.aclose()
        assert server.requests_to("/xrpc/com.atproto.repo.createRecord") == []
    assert refused.value.status == 404
    assert not refused.value.ambiguous


async def test_wrong_app_password_is_fatal_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackServer() as server:
        server.route(
            "POST",
            "/xrpc/com.atproto.server.createSession",
            Reply.json({"error": "AuthenticationRequired", "message": "Invalid password"}, 401),
        )
        source = make_source(server, monkeypatch)
        with pytest.raises(SourceError) as caught:
            await take(source.stream(None), 1)
        await source.aclose()
    assert caught.value.fatal
    assert "credentials rejected" in str(caught.value)
    assert PASSWORD not in str(caught.value)


async def test_missing_app_password(monkeypatch: pytest.MonkeyPatch) -> None:
    source = BlueskySource("sky", BlueskySourceConfig(handle="b.bsky.social"), [], Config())
    monkeypatch.delenv("SMCC_SKY_APP_PASSWORD", raising=False)
    with pytest.raises(SourceError, match="credentials missing: set SMCC_SKY_APP_PASSWORD"):
        await take(source.stream(None), 1)


def post(n: int, text: str = "kopi") -> dict[str, Any]:
    return {
        "uri": f"at://did:plc:u{n}/app.bsky.feed.post/{n}",
        "cid": f"cid{n}",
        "author": {"did": f"did:plc:u{n}", "handle": f"u{n}.bsky.social"},
        "record": {"text": f"{text} {n}", "createdAt": f"2025-01-01T00:00:{n:02}.000Z"},
        "indexedAt": f"2025-01-01T00:00:{n:02}.500Z",
    }


async def test_faults_back_off_show_in_health_and_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    observed = Observed()
    scaled_backoff(monkeypatch, observed)
    store = temp_store(tmp_path)
    with LoopbackServer() as server:
        server.route("POST", "/xrpc/com.atproto.server.createSession", Reply.json(SESSION))
        server.route("POST", "/xrpc/com.atproto.server.refreshSession", Reply.json(FRESH))
        server.route("GET", LIST, Reply.json({"notifications": []}))
        server.route("GET", SEARCH, Reply.json({"posts": [post(2), post(1)]}), times=1)
        faults: list[Responder] = [
            Reply.json(
                {"error": "RateLimitExceeded"}, 429, {"ratelimit-reset": "x", "Retry-After": "30"}
            ),
            Reply.json({"error": "InternalServerError"}, 500),
            Reply.text("bad gateway", "text/html", 502),
            Reply(503),
            Reply.reset(),
            Reply(delay=0.6),
            Reply(200, b'{"posts": [{"uri": "at', {"Content-Type": "application/json"}),
            Reply.json({"posts": {"uri": "x"}}),
            Reply.json({"error": "ExpiredToken", "message": "Token has expired"}, 400),
        ]
        for fault in faults:
            server.route("GET", SEARCH, fault, times=1)
        server.route("GET", SEARCH, Reply.json({"posts": [post(4), post(3)]}), times=1)
        server.route("GET", SEARCH, Reply.json({"posts": []}))
        source = make_source(server, monkeypatch, query=["kopi"])
        await run_until(store, source, lambda: source.health.fetched >= 4, observed)
        searches = server.requests_to(SEARCH)
    assert sorted(stored_ids(store, "sky")) == [post(n)["uri"] for n in (1, 2, 3, 4)]
    assert all(r.query["since"] == [post(2)["indexedAt"]] for r in searches[1 : len(faults) + 2])
    assert searches[len(faults) + 1].headers["authorization"] == "Bearer access-jwt-3333"
    reasons = observed.backing_off()
    for want, got in zip(
        [
            "rate limited",
            "500",
            "502",
            "503",
            "connection failed",
            "no answer within",
            "not valid JSON",
            "unexpected JSON",
        ],
        reasons,
        strict=True,
    ):
        assert want in got
    assert observed.waits[0] == 30
    states = [state for state, _ in observed.health]
    assert states[-2:] == [HealthState.CONNECTED, HealthState.STOPPED]
    everything = caplog.text + repr(observed.health) + " ".join(source.health.warnings)
    for secret in (PASSWORD, *SESSION.values(), *FRESH.values()):
        if secret.startswith(("access", "refresh")) or secret == PASSWORD:
            assert secret not in everything
    store.close()


def test_post_view_needs_a_record() -> None:
    with pytest.raises(ValueError, match="without author or record"):
        post_view_to_mention({"uri": "at://x"}, "sky")
