"""The X/Twitter source against a loopback server: recorded real answers, faults, secrets."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loopback import (
    LoopbackServer,
    Reply,
    Request,
    Responder,
    load_recording,
    serve_recording,
    shared_data,
)
from smcc.config import Brand, TwitterSourceConfig
from smcc.models import Author, Mention
from smcc.sources.base import Fetched, HealthState, SourceError
from smcc.sources.twitter import (
    TwitterSource,
    dump_cursor,
    load_cursor,
    parse_page,
    search_queries,
    snowflake_time,
)
from source_faults import Observed, run_until, scaled_backoff, stored_ids, temp_store

TOKEN = "AAAA-secret-bearer-0123456789abcdef"


def recording(name: str) -> list[Any]:
    path = shared_data("api", "twitter", "decoded", f"{name}.decoded.json")
    return load_recording(path)


def make_source(
    server: LoopbackServer,
    creds: dict[str, str] | None = None,
    **settings: Any,
) -> TwitterSource:
    secrets = {"bearer_token": TOKEN} if creds is None else creds
    config = TwitterSourceConfig(
        base_url=server.base_url,
        interval=timedelta(milliseconds=20),
        timeout=timedelta(milliseconds=300),
        **settings,
    )
    return TwitterSource("x", config, [], secrets.get)


async def take(stream: AsyncIterator[Fetched], batches: int) -> list[Fetched]:
    assert isinstance(stream, AsyncGenerator)
    out = []
    async with contextlib.aclosing(stream):
        async for fetched in stream:
            out.append(fetched)
            if len(out) == batches:
                break
    return out


# ---------------------------------------------------------------------------------------------
# Recorded real answers


def check_against_recording(mentions: list[Mention], body: dict[str, Any]) -> None:
    """Every post of a recorded v2 answer, field by field (the recordings carry no expansions)."""
    recorded = body["data"]
    assert [m.external_id for m in mentions] == [t["id"] for t in recorded]
    for mention, tweet in zip(mentions, recorded, strict=True):
        assert mention.text == html.unescape(tweet["text"])
        assert mention.created_at == snowflake_time(tweet["id"])
        # The recordings were made without expansions: no author, thread or metrics to read.
        assert mention.author.handle == "unknown"
        assert mention.conversation_id is None
        assert mention.reply_to_id is None
        assert mention.engagement.likes == 0
        assert mention.url == f"https://x.com/i/web/status/{tweet['id']}"
        assert mention.raw["tweet"] == tweet


@pytest.mark.parametrize(
    "name", ["test_asyncclient_search_recent_tweets", "test_client_search_recent_tweets"]
)
async def test_recorded_recent_search(name: str) -> None:
    (search,) = recording(name)
    with LoopbackServer() as server:
        serve_recording(server, [search])
        source = make_source(server, query=["Tweepy"])
        (fetched,) = await take(source.stream(None), 1)
        await source.aclose()
        (request,) = server.requests
    check_against_recording(fetched.mentions, search.body)
    assert request.path == "/2/tweets/search/recent"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.query["query"] == ["(Tweepy) -is:retweet"]
    assert request.query["expansions"] == ["author_id,in_reply_to_user_id,referenced_tweets.id"]
    assert "conversation_id" in request.query["tweet.fields"][0]
    assert "since_id" not in request.query  # first start: only the newest page
    assert load_cursor(fetched.cursor) == {
        "search:(Tweepy) -is:retweet": search.body["meta"]["newest_id"]
    }


async def test_recorded_bot_posts_carry_their_own_time() -> None:
    """The 'YYYY-MM-DD HH:MM:SS tweepy' posts state when they were sent: the id agrees."""
    (search,) = recording("test_client_search_recent_tweets")
    page = parse_page(search.body, "x")
    checked = 0
    for mention in page.mentions:
        match = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d+ tweepy$", mention.text)
        if match:
            stated = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
            assert abs((mention.created_at - stated).total_seconds()) < 3
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize(
    "name", ["test_asyncclient_get_users_mentions", "test_client_get_users_mentions"]
)
async def test_recorded_mentions_timeline(name: str) -> None:
    (users,) = recording("test_client_get_users")
    (mentions,) = recording(name)
    with LoopbackServer() as server:
        serve_recording(server, [users, mentions])
        source = make_source(server, accounts=["@Twitter"])
        (fetched,) = await take(source.stream(None), 1)
        await source.aclose()
    check_against_recording(fetched.mentions, mentions.body)
    assert any("@Twitter" in m.text or "@twitter" in m.text for m in fetched.mentions)
    assert load_cursor(fetched.cursor) == {"mentions:twitter": mentions.body["meta"]["newest_id"]}


@pytest.mark.parametrize(
    "name",
    ["test_client_search_all_tweets", "test_client_get_quote_tweets", "test_client_get_tweets"],
)
def test_other_recorded_timelines_parse(name: str) -> None:
    (answer,) = recording(name)
    page = parse_page(answer.body, "x")
    assert not page.problems
    check_against_recording(page.mentions, answer.body)


async def test_recorded_reply_and_post() -> None:
    create, _delete = recording("test_client_create_and_delete_tweet")
    (community,) = recording("test_client_create_tweet_with_community")
    (tweet,) = recording("test_client_get_tweet")
    with LoopbackServer() as server:
        server.route("POST", "/2/tweets", create.reply(), times=1)
        server.route("POST", "/2/tweets", community.reply(), times=1)
        source = make_source(server)
        target = parse_page({"data": [tweet.body["data"]]}, "x").mentions[0]
        reply_id = await source.reply(target, "Test Tweet", "key-1")
        post_id = await source.post("Test tweet in community", "key-2")
        await source.aclose()
        first, second = server.requests_to("/2/tweets", "POST")
    assert reply_id == create.body["data"]["id"]
    assert post_id == community.body["data"]["id"]
    assert first.json() == {
        "text": "Test Tweet",
        "reply": {"in_reply_to_tweet_id": tweet.body["data"]["id"]},
    }
    assert second.json() == {"text": "Test tweet in community"}
    assert first.headers["authorization"] == f"Bearer {TOKEN}"


async def test_replies_are_signed_with_oauth1_when_those_credentials_are_set() -> None:
    creds = {
        "bearer_token": TOKEN,
        "consumer_key": "ck",
        "consumer_secret": "cs",
        "access_token": "12-at",
        "access_token_secret": "ats",
    }
    with LoopbackServer() as server:
        server.route("POST", "/2/tweets", Reply.json({"data": {"id": "9", "text": "hi"}}, 201))
        source = make_source(server, creds)
        assert await source.post("hi", "k") == "9"
        await source.aclose()
        (request,) = server.requests
    assert request.headers["authorization"].startswith("OAuth ")
    assert 'oauth_consumer_key="ck"' in request.headers["authorization"]


# ---------------------------------------------------------------------------------------------
# What the recordings lack: an answer with expansions, in the shape the v2 reference documents
# (hand-written from https://developer.x.com/en/docs/x-api/tweets/search/api-reference).

EXPANDED = {
    "data": [
        {
            "id": "1853000000000000002",
            "text": "@nusantel sinyal hilang lagi &amp; belum ada jawaban &lt;3",
            "author_id": "42",
            "created_at": "2024-11-03T09:15:02.000Z",
            "conversation_id": "1853000000000000001",
            "in_reply_to_user_id": "7",
            "referenced_tweets": [{"type": "replied_to", "id": "1853000000000000001"}],
            "public_metrics": {
                "retweet_count": 2,
                "reply_count": 1,
                "like_count": 5,
                "quote_count": 1,
                "bookmark_count": 0,
                "impression_count": 310,
            },
            "lang": "in",
        }
    ],
    "includes": {
        "users": [
            {
                "id": "42",
                "username": "budi_s",
                "name": "Budi S.",
                "verified": False,
                "public_metrics": {"followers_count": 1203, "following_count": 80},
            },
            {"id": "7", "username": "nusantel", "name": "Nusantel"},
        ]
    },
    "meta": {"newest_id": "1853000000000000002", "result_count": 1},
}


def test_expansions_give_author_thread_and_metrics() -> None:
    (mention,) = parse_page(EXPANDED, "x").mentions
    assert mention.author == Author(
        handle="budi_s", display_name="Budi S.", followers=1203, external_id="42"
    )
    assert mention.text == "@nusantel sinyal hilang lagi & belum ada jawaban <3"
    assert mention.created_at == datetime(2024, 11, 3, 9, 15, 2, tzinfo=UTC)
    assert mention.reply_to_id == mention.conversation_id == "1853000000000000001"
    assert (mention.engagement.likes, mention.engagement.reposts) == (5, 2)
    assert (mention.engagement.replies, mention.engagement.quotes) == (1, 1)
    assert mention.url == "https://x.com/budi_s/status/1853000000000000002"


def test_a_broken_post_is_reported_and_the_rest_kept() -> None:
    payload = json.loads(json.dumps(EXPANDED))
    payload["data"].insert(0, {"id": "1", "text": None})
    page = parse_page(payload, "x")
    assert [m.external_id for m in page.mentions] == ["1853000000000000002"]
    assert page.problems == ["post 1: unreadable (ValueError: text is not a string)"]


def test_queries_fit_the_limit_and_quote_phrases() -> None:
    brand = Brand(name="Nusantel", keywords=["sinyal hilang"], hashtags=["nusantel"])
    brand2 = Brand(name="Telko", handles=["@telko_id"])
    terms = [*brand.terms(), *brand2.terms()]
    assert search_queries(terms) == [
        '(Nusantel OR "sinyal hilang" OR #nusantel OR Telko OR @telko_id) -is:retweet'
    ]
    many = search_queries([f"word{n:03}" for n in range(200)])
    assert len(many) > 1
    assert all(len(q) <= 512 for q in many)
    assert sum(q.count("word") for q in many) == 200


def test_cursor_round_trip_and_garbage() -> None:
    assert load_cursor(dump_cursor({"b": "2", "a": "1"})) == {"a": "1", "b": "2"}
    assert load_cursor(None) == {}
    assert load_cursor("not json") is None


# ---------------------------------------------------------------------------------------------
# Faults through the real pipeline


def page(ids: range) -> Reply:
    data = [{"id": str(i), "text": f"post {i}", "author_id": "42"} for i in reversed(ids)]
    return Reply.json(
        {
            "data": data,
            "includes": {"users": [{"id": "42", "username": "budi_s", "name": "Budi"}]},
            "meta": {"newest_id": str(ids[-1]), "result_count": len(data)},
        }
    )


EMPTY = Reply.json({"meta": {"result_count": 0}})


async def test_faults_back_off_show_in_health_and_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    observed = Observed()
    scaled_backoff(monkeypatch, observed)
    creds = {"bearer_token": TOKEN}
    new_token = "BBBB-renewed-bearer-9876543210"

    def expire(_: Request) -> Reply:
        creds["bearer_token"] = new_token  # the operator (or a refresher) put in a new token
        return Reply.json({"title": "Unauthorized", "status": 401}, 401)

    reset = int(time.time()) + 40
    search = "/2/tweets/search/recent"
    store = temp_store(tmp_path)
    with LoopbackServer() as server:
        server.route("GET", search, page(range(100, 103)), times=1)
        faults: list[Responder] = [
            Reply.json({"title": "Too Many Requests"}, 429, {"x-rate-limit-reset": str(reset)}),
            Reply.json({"title": "Internal"}, 500),
            Reply.text("<html>bad gateway</html>", "text/html", 502),
            Reply(503),
            # aiohttp silently retries a GET once when a reused connection drops: drop twice.
            Reply.reset(),
            Reply.reset(),
            Reply(delay=0.6),
            Reply(200, b'{"data": [{"id": "103", "te', {"Content-Type": "application/json"}),
            Reply.json({"data": {"id": "103"}}),
            expire,
        ]
        for fault in faults:
            server.route("GET", search, fault, times=1)
        server.route("GET", search, page(range(103, 106)), times=1)
        server.route("GET", search, EMPTY)
        source = TwitterSource(
            "x",
            TwitterSourceConfig(
                base_url=server.base_url,
                interval=timedelta(milliseconds=10),
                timeout=timedelta(milliseconds=300),
                query=["nusantel"],
            ),
            [],
            creds.get,
        )
        await run_until(store, source, lambda: source.health.fetched >= 6, observed)
        requests = server.requests_to(search)
    assert stored_ids(store, "x") == ["102", "101", "100", "105", "104", "103"]
    # Every request after the first resumed from the stored since_id, faults or not.
    recovery = len(faults) + 1  # after the first page and the faults: the retry, new token
    assert all(r.query["since_id"] == ["102"] for r in requests[1 : recovery + 1])
    assert all(r.query["since_id"] == ["105"] for r in requests[recovery + 1 :])
    assert requests[recovery].headers["authorization"] == f"Bearer {new_token}"
    reasons = observed.backing_off()
    expected = [
        "rate limited",
        "500",
        "502",
        "503",
        "connection to X failed",
        "did not answer within 0.3s",
        "invalid JSON",
        "unexpected shape",
    ]
    for want, got in zip(expected, reasons, strict=True):
        assert want in got
    assert 38 <= observed.waits[0] <= 42  # the 429 waited for x-rate-limit-reset
    states = [state for state, _ in observed.health]
    assert states[-2:] == [HealthState.CONNECTED, HealthState.STOPPED]  # recovered, then stopped
    everything = caplog.text + repr(observed.health) + " ".join(source.health.warnings)
    assert TOKEN not in everything
    assert new_token not in everything
    store.close()


async def test_rejected_credentials_back_off_and_say_what_to_set() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/2/tweets/search/recent", Reply.json({"title": "Unauthorized"}, 401))
        source = make_source(server, query=["nusantel"])
        with pytest.raises(SourceError) as caught:
            await take(source.stream(None), 1)
        await source.aclose()
    assert "credentials rejected" in str(caught.value)
    assert "SMCC_X_BEARER_TOKEN" in str(caught.value)
    assert not caught.value.fatal
    assert caught.value.retry_after == 300
    assert TOKEN not in str(caught.value)


async def test_missing_credentials_are_fatal_and_named() -> None:
    with LoopbackServer() as server:
        source = make_source(server, {}, query=["nusantel"])
        with pytest.raises(SourceError) as caught:
            await take(source.stream(None), 1)
    assert caught.value.fatal
    assert str(caught.value).startswith("credentials missing: bearer_token")
    assert not server.requests


async def test_a_second_poll_uses_since_id() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/2/tweets/search/recent", page(range(1, 4)), times=1)
        server.route("GET", "/2/tweets/search/recent", page(range(4, 5)), times=1)
        server.route("GET", "/2/tweets/search/recent", EMPTY)
        source = make_source(server, query=["nusantel"])
        batches = await take(source.stream(None), 3)
        await source.aclose()
        requests = server.requests
    assert [len(b.mentions) for b in batches] == [3, 1, 0]
    assert "since_id" not in requests[0].query
    assert requests[1].query["since_id"] == ["3"]
    assert requests[2].query["since_id"] == ["4"]
    assert load_cursor(batches[-1].cursor) == {"search:(nusantel) -is:retweet": "4"}


async def test_pages_are_followed_to_the_end_before_the_cursor_moves() -> None:
    first = page(range(8, 10))
    body = json.loads(first.body)
    body["meta"]["next_token"] = "p2"
    with LoopbackServer() as server:
        server.route("GET", "/2/tweets/search/recent", Reply.json(body), times=1)
        server.route("GET", "/2/tweets/search/recent", page(range(6, 8)), times=1)
        source = make_source(server, query=["nusantel"])
        cursor = dump_cursor({"search:(nusantel) -is:retweet": "5"})
        (fetched,) = await take(source.stream(cursor), 1)
        await source.aclose()
        second = server.requests[1]
    assert [m.external_id for m in fetched.mentions] == ["9", "8", "7", "6"]
    assert second.query["next_token"] == ["p2"]
    assert second.query["since_id"] == ["5"]
    assert load_cursor(fetched.cursor) == {"search:(nusantel) -is:retweet": "9"}


async def test_thread_fetch() -> None:
    root = {"id": "1853000000000000001", "text": "root", "author_id": "7"}
    with LoopbackServer() as server:
        server.route("GET", "/2/tweets/1853000000000000001", Reply.json({"data": root}))
        server.route("GET", "/2/tweets/search/recent", Reply.json(EXPANDED))
        source = make_source(server)
        mention = parse_page(EXPANDED, "x").mentions[0]
        thread = await source.thread(mention)
        await source.aclose()
        search = server.requests_to("/2/tweets/search/recent")[0]
    assert [m.external_id for m in thread] == ["1853000000000000001", "1853000000000000002"]
    assert search.query["query"] == ["conversation_id:1853000000000000001"]


def test_snowflake_time() -> None:
    assert snowflake_time("1578516068309794817") == datetime(
        2022, 10, 7, 22, 42, 12, 752000, tzinfo=UTC
    )
    assert snowflake_time("abc") is None


async def test_stream_is_cancellable_while_waiting() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/2/tweets/search/recent", Reply(delay=5))
        source = make_source(server, query=["nusantel"])
        task = asyncio.create_task(take(source.stream(None), 1))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await source.aclose()
