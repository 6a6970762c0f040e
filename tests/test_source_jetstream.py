"""Bluesky over Jetstream: the recorded production events replayed over a loopback websocket,
a dropped connection, and the resume from the time cursor without a gap."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from loopback import LoopbackServer, Reply, shared_data
from smcc.config import BlueskySourceConfig, Config
from smcc.models import Mention
from smcc.sources.base import Fetched, SourceError
from smcc.sources.bluesky import BlueskySource, load_cursor
from smcc.sources.jetstream import REWIND_US, concerns, resume_from


def recorded_events() -> list[dict[str, Any]]:
    path = shared_data("api", "bluesky", "jetstream", "expected_v1.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def posts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e["kind"] == "commit"
        and e["commit"]["operation"] == "create"
        and e["commit"]["collection"] == "app.bsky.feed.post"
    ]


def uri(event: dict[str, Any]) -> str:
    return f"at://{event['did']}/app.bsky.feed.post/{event['commit']['rkey']}"


class Jetstream:
    """A websocket endpoint that replays events from the client's `cursor`; the first
    connection drops after `drop_after` events."""

    def __init__(self, events: list[dict[str, Any]], drop_after: int) -> None:
        self.events = events
        self.drop_after = drop_after
        self.queries: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.queries.append(dict(request.query))
        cursor = int(request.query.get("cursor", "0"))
        first = len(self.queries) == 1
        for n, event in enumerate(e for e in self.events if e["time_us"] >= cursor):
            if first and n == self.drop_after:
                await ws.close()
                return ws
            await ws.send_str(json.dumps(event))
        await asyncio.sleep(30)  # then silence, as a live stream between posts
        return ws


@contextlib.asynccontextmanager
async def serve(jetstream: Jetstream) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/subscribe", jetstream.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"ws://127.0.0.1:{port}/subscribe"
    finally:
        await runner.cleanup()


async def listen(source: BlueskySource, want: int) -> tuple[list[Fetched], list[str]]:
    """Run the source as the pipeline does: restart from the last cursor after a fault."""
    got: list[Fetched] = []
    faults: list[str] = []
    cursor: str | None = None
    seen: set[str] = set()
    while len(seen) < want and len(faults) < 5:
        stream = source.stream(cursor)
        assert isinstance(stream, AsyncGenerator)
        try:
            async with contextlib.aclosing(stream):
                async for fetched in stream:
                    got.append(fetched)
                    cursor = fetched.cursor or cursor
                    seen.update(m.external_id for m in fetched.mentions)
                    if len(seen) >= want:
                        break
        except SourceError as exc:
            faults.append(str(exc))
    return got, faults


async def test_recorded_jetstream_with_a_drop_and_a_resume(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = recorded_events()
    post_events = posts(events)
    replies = [p for p in post_events if "reply" in p["commit"]["record"]]
    # The account whose mentions we follow: the author of the first reply's parent post.
    account = replies[0]["commit"]["record"]["reply"]["parent"]["uri"][5:].split("/")[0]
    terms = ["youtube", "аватар"]  # an English and a Russian post of the recording
    expected = {
        uri(p)
        for p in post_events
        if any(t in p["commit"]["record"].get("text", "").casefold() for t in terms)
        or account
        in {
            p["commit"]["record"].get("reply", {}).get(k, {}).get("uri", "")[5:].split("/")[0]
            for k in ("parent", "root")
        }
    }
    assert len(expected) >= 3

    monkeypatch.setenv("SMCC_BSKY_APP_PASSWORD", "app-pass-jet-0001")
    jetstream = Jetstream(events, drop_after=60)
    with LoopbackServer() as http:
        http.route(
            "POST",
            "/xrpc/com.atproto.server.createSession",
            Reply.json({"accessJwt": "a", "refreshJwt": "r", "did": account}),
        )
        async with serve(jetstream) as url:
            config = BlueskySourceConfig(
                base_url=http.base_url,
                handle="brand.test",
                query=terms,
                jetstream=True,
                jetstream_url=url,
                timeout=timedelta(milliseconds=500),
            )
            source = BlueskySource("bsky", config, [], Config())
            got, faults = await asyncio.wait_for(listen(source, len(expected)), 20)
            await source.aclose()

    mentions: dict[str, Mention] = {}
    for fetched in got:
        for mention in fetched.mentions:
            mentions.setdefault(mention.external_id, mention)
    assert set(mentions) == expected  # nothing lost across the drop, nothing else kept
    assert faults == ["jetstream: the server closed the connection"]
    # Only posts were asked for; the second connection resumed from the cursor, rewound.
    assert all(q["wantedCollections"] == "app.bsky.feed.post" for q in jetstream.queries)
    assert "cursor" not in jetstream.queries[0]
    # The cursor handed on last before the drop: the newest time of the events up to the last
    # post kept among the first 60 (the rest were not handed on within the second).
    last_kept = max(i for i, e in enumerate(events[:60]) if e in post_events and uri(e) in expected)
    handed = max(e["time_us"] for e in events[: last_kept + 1])
    assert jetstream.queries[1]["cursor"] == str(handed - REWIND_US)
    cursor = load_cursor(got[-1].cursor)
    assert cursor is not None
    assert int(cursor["jetstream"]) <= max(e["time_us"] for e in events)

    # Each mention as recorded: author DID, time, text, thread refs.
    by_uri = {uri(p): p for p in post_events}
    for key, mention in mentions.items():
        record = by_uri[key]["commit"]["record"]
        assert mention.author.external_id == by_uri[key]["did"]
        assert mention.text == record["text"]
        assert mention.created_at == datetime.fromisoformat(record["createdAt"])
        reply = record.get("reply")
        assert mention.reply_to_id == (reply["parent"]["uri"] if reply else None)
        assert mention.conversation_id == (reply["root"]["uri"] if reply else key)
        assert mention.raw["cid"] == by_uri[key]["commit"]["cid"]


def test_concerns_mentions_quotes_and_terms() -> None:
    me = "did:plc:me"
    mention = {
        "text": "hi @brand",
        "facets": [{"features": [{"$type": "app.bsky.richtext.facet#mention", "did": me}]}],
    }
    quote = {
        "text": "look",
        "embed": {
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"record": {"uri": f"at://{me}/app.bsky.feed.post/1", "cid": "c"}},
        },
    }
    assert concerns(mention, [], me)
    assert concerns(quote, [], me)
    assert concerns({"text": "Kopi Nusantara!"}, ["kopi"], None)
    assert not concerns({"text": "teh"}, ["kopi"], me)
    assert not concerns(mention, [], "did:plc:other")


def test_resume_from() -> None:
    assert resume_from(None) is None
    assert resume_from("garbage") is None
    assert resume_from("1783175888085434") == 1783175888085434 - REWIND_US


async def test_doctor_checks_the_jetstream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMCC_BSKY_APP_PASSWORD", "app-pass-jet-0002")
    events = [{"did": "did:plc:x", "time_us": 1, "kind": "identity"}]
    with LoopbackServer() as http:
        http.route(
            "POST",
            "/xrpc/com.atproto.server.createSession",
            Reply.json({"accessJwt": "a", "refreshJwt": "r", "did": "did:plc:me"}),
        )
        http.route("GET", "/xrpc/app.bsky.notification.getUnreadCount", Reply.json({"count": 0}))
        async with serve(Jetstream(events, drop_after=10)) as url:
            results = []
            for jetstream_url in (url, "ws://127.0.0.1:9/subscribe"):
                config = BlueskySourceConfig(
                    base_url=http.base_url,
                    handle="brand.test",
                    jetstream=True,
                    jetstream_url=jetstream_url,
                    timeout=timedelta(milliseconds=500),
                )
                source = BlueskySource("bsky", config, [], Config())
                results.append((await source.check())[-1])
                await source.aclose()
    ok, down = results
    assert (ok.what, ok.status.value) == ("jetstream", "ok")
    assert "first event identity" in ok.detail
    assert (down.what, down.status.value, down.fix) == ("jetstream", "fail", "check jetstream_url")
    assert "connection failed" in down.detail
