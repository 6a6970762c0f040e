"""The Reddit source against a loopback server: asyncpraw's recorded answers, tokens, faults."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loopback import (
    Interaction,
    LoopbackServer,
    Reply,
    Responder,
    load_recording,
    serve_recording,
    shared_data,
)
from smcc.config import Config, RedditSourceConfig
from smcc.models import Author, Mention
from smcc.sources.base import HealthState, SourceError
from smcc.sources.reddit import RedditSource, listing_children, load_cursor, thing_to_mention
from source_faults import Observed, run_until, scaled_backoff, stored_ids, temp_store
from test_source_twitter import take

SECRET = "reddit-client-secret-5555"
REFRESH = "reddit-refresh-token-6666"
TOKEN_PATH = "/api/v1/access_token"


def recording(name: str) -> list[Interaction]:
    return load_recording(shared_data("api", "reddit", "decoded", f"{name}.decoded.json"))


def make_source(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, refresh: bool = True, **settings: Any
) -> RedditSource:
    monkeypatch.setenv("SMCC_RD_CLIENT_ID", "app-id")
    monkeypatch.setenv("SMCC_RD_CLIENT_SECRET", SECRET)
    if refresh:
        monkeypatch.setenv("SMCC_RD_REFRESH_TOKEN", REFRESH)
    else:
        monkeypatch.delenv("SMCC_RD_REFRESH_TOKEN", raising=False)
    config = RedditSourceConfig(
        base_url=server.base_url,
        auth_url=server.base_url,
        interval=timedelta(milliseconds=10),
        timeout=timedelta(milliseconds=300),
        **settings,
    )
    return RedditSource("rd", config, [], Config())


def check_listing(mentions: list[Mention], body: dict[str, Any]) -> None:
    children = [c for c in body["data"]["children"] if c["kind"] in ("t1", "t3")]
    assert [m.external_id for m in mentions] == [c["data"]["name"] for c in children]
    for mention, child in zip(mentions, children, strict=True):
        data = child["data"]
        assert mention.author.handle == data["author"]
        assert mention.created_at == datetime.fromtimestamp(data["created_utc"], tz=UTC)
        assert mention.engagement.likes == max(0, data["score"])
        if child["kind"] == "t3":
            assert mention.text.startswith(data["title"])
            assert mention.conversation_id == data["name"]
            assert mention.engagement.replies == data["num_comments"]
        else:
            assert mention.text == data["body"]
            assert mention.reply_to_id == data["parent_id"]
            post = (
                data.get("link_id") or "t3_" + data["context"].split("/comments/")[1].split("/")[0]
            )
            assert mention.conversation_id == post


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("TestSubredditListings.test_new", {"subreddits": ["askreddit"]}),
        ("TestSubredditListings.test_comments", {"subreddits": ["askreddit"]}),
        ("TestSubredditStreams.test_comments__with_skip_existing", {"subreddits": ["askreddit"]}),
        ("TestSubreddit.test_search", {"query": ["praw oauth search"]}),
        ("TestInbox.test_mentions", {"query": ["x"]}),
        ("TestInbox.test_comment_replies", {"query": ["x"]}),
    ],
)
async def test_recorded_listings(
    name: str, settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, listing, *_ = recording(name)
    body = listing.body
    with LoopbackServer() as server:
        serve_recording(server, [token])
        # Each listing this source reads is answered with the recorded one; the rest are empty.
        empty = Reply.json({"kind": "Listing", "data": {"children": [], "after": None}})
        server.route("GET", listing.path.rstrip("/"), listing.reply())
        server.route("GET", "^/.*", empty)
        source = make_source(server, monkeypatch, **settings)
        count = len(source.listings()) + 2  # + the inbox's two under a refresh-token grant
        batches = await take(source.stream(None), count)
        await source.aclose()
        grant = server.requests_to(TOKEN_PATH)[0]
        calls = [r for r in server.requests if r.path == listing.path.rstrip("/")]
    assert grant.body.decode() == f"grant_type=refresh_token&refresh_token={REFRESH}"
    assert grant.headers["authorization"].startswith("Basic ")
    assert calls[0].headers["authorization"] == "bearer <ACCESS_TOKEN>"
    assert calls[0].query["raw_json"] == ["1"]
    mentions = [m for b in batches for m in b.mentions]
    check_listing(mentions, body)


def test_recorded_comment_tree_and_message_inbox() -> None:
    _, tree = recording("TestSubmission.test_comments")
    post, comments = tree.body
    mentions = [thing_to_mention(c, "rd") for c in post["data"]["children"]]
    assert mentions[0] is not None
    assert mentions[0].external_id == "t3_2gmzqe"
    first = comments["data"]["children"][0]
    reply = thing_to_mention(first, "rd")
    assert reply is not None
    assert reply.conversation_id == "t3_2gmzqe"
    _, unread = recording("TestInbox.test_unread")
    children, _ = listing_children(unread.body, "unread")
    for child in children:
        mention = thing_to_mention(child, "rd")
        if child["kind"] == "t1":
            assert mention is not None
            assert mention.text == child["data"]["body"]
        else:
            assert mention is None  # private messages (t4) are not mentions


@pytest.mark.parametrize(
    "name", ["TestComment.test_reply", "TestSubmission.test_reply", "TestMessage.test_reply"]
)
async def test_recorded_replies(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    interactions = recording(name)
    post = next(i for i in interactions if i.path == "/api/comment/")
    sent = dict(post.request_body)
    target = Mention(
        source="rd",
        external_id=sent["thing_id"],
        author=Author(handle="someone"),
        text="…",
        created_at=datetime(2020, 7, 1, tzinfo=UTC),
    )
    with LoopbackServer() as server:
        server.route("POST", TOKEN_PATH, interactions[0].reply())
        server.route("POST", "/api/comment", post.reply())
        source = make_source(server, monkeypatch)
        new_id = await source.reply(target, sent["text"], "k")
        await source.aclose()
        (request,) = server.requests_to("/api/comment")
    expected = post.body["json"]["data"]["things"][0]["data"]["name"]
    assert new_id == expected
    assert request.body.decode() == (
        f"api_type=json&thing_id={sent['thing_id']}&text={sent['text'].replace(' ', '+')}"
    )


async def test_app_only_grant_reads_no_inbox(monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackServer() as server:
        server.route("POST", TOKEN_PATH, Reply.json({"access_token": "app-tok", "expires_in": 1}))
        server.route(
            "GET", "^/.*", Reply.json({"kind": "Listing", "data": {"children": [], "after": None}})
        )
        source = make_source(server, monkeypatch, refresh=False, subreddits=["r/indonesia"])
        await take(source.stream(None), 2)
        await source.aclose()
        grant = server.requests_to(TOKEN_PATH)[0]
    assert grant.body.decode() == "grant_type=client_credentials"
    assert [k for k, _, _ in source.listings()] == ["new:indonesia", "comments:indonesia"]


def comment(n: int) -> dict[str, Any]:
    return {
        "kind": "t1",
        "data": {
            "name": f"t1_c{n}",
            "author": f"user{n}",
            "body": f"kopi {n}",
            "created_utc": 1700000000.0 + n,
            "parent_id": "t3_p",
            "link_id": "t3_p",
            "score": 1,
            "permalink": f"/r/kopi/comments/p/x/c{n}/",
        },
    }


def listing(*ns: int, after: str | None = None) -> Reply:
    children = [comment(n) for n in ns]
    return Reply.json({"kind": "Listing", "data": {"children": children, "after": after}})


async def test_faults_back_off_show_in_health_and_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    observed = Observed()
    scaled_backoff(monkeypatch, observed)
    store = temp_store(tmp_path)
    comments = "/r/kopi/comments"
    tokens = iter(["token-aaaa-1", "token-bbbb-2", "token-cccc-3"])
    with LoopbackServer() as server:
        server.route("POST", TOKEN_PATH, lambda _: Reply.json({"access_token": next(tokens)}))
        server.route("GET", "/r/kopi/new", listing())
        server.route("GET", "/message/mentions", listing())
        server.route("GET", "/message/comments", listing())
        server.route("GET", comments, listing(2, 1), times=1)
        faults: list[Responder] = [
            Reply.json(
                {"message": "Too Many Requests", "error": 429},
                429,
                {"x-ratelimit-reset": "25"},
            ),
            Reply.json({"message": "Internal Server Error", "error": 500}, 500),
            Reply.text("<html>502</html>", "text/html", 502),
            Reply(503),
            Reply.reset(),
            Reply(delay=0.6),
            Reply(200, b'{"kind": "Listing", "data": {"chil', {"Content-Type": "application/json"}),
            Reply.json({"kind": "Listing", "data": {"children": "none"}}),
            Reply.json({"message": "Unauthorized", "error": 401}, 401),
        ]
        for fault in faults:
            server.route("GET", comments, fault, times=1)
        server.route("GET", comments, listing(4, 3, 2), times=1)
        server.route("GET", comments, listing())
        source = make_source(server, monkeypatch, subreddits=["kopi"])
        await run_until(
            store,
            source,
            lambda: source.health.fetched >= 5 and source.health.state is HealthState.CONNECTED,
            observed,
        )
        calls = server.requests_to(comments)
    assert sorted(stored_ids(store, "rd")) == ["t1_c1", "t1_c2", "t1_c3", "t1_c4"]
    assert calls[len(faults) + 1].headers["authorization"] == "bearer token-bbbb-2"
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
            "Listing without children",
        ],
        reasons,
        strict=True,
    ):
        assert want in got
    assert 24 <= observed.waits[0] <= 26  # x-ratelimit-reset: seconds from now
    states = [state for state, _ in observed.health]
    assert states[-2:] == [HealthState.CONNECTED, HealthState.STOPPED]
    everything = caplog.text + repr(observed.health) + " ".join(source.health.warnings)
    for secret in (SECRET, REFRESH, "token-aaaa-1", "token-bbbb-2"):
        assert secret not in everything
    store.close()


async def test_missing_client_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMCC_RD_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("SMCC_RD_CLIENT_ID", "app-id")
    source = RedditSource("rd", RedditSourceConfig(subreddits=["kopi"]), [], Config())
    with pytest.raises(SourceError, match="credentials missing: set SMCC_RD_CLIENT_SECRET"):
        await take(source.stream(None), 1)


def test_cursor_garbage() -> None:
    assert load_cursor("{") is None
    assert load_cursor('{"newest": {"a": 1.5}}') == {"a": 1.5}
