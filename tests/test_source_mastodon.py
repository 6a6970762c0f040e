"""The Mastodon source: recorded real responses → Mentions, streaming with fall back, replies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from loopback import LoopbackServer, Reply, Request, load_recording, serve_recording, shared_data
from smcc.config import parse_config
from smcc.models import Mention
from smcc.sources import build_source
from smcc.sources.base import CheckStatus, Fetched, HealthState, SourceError, SourceHealth
from smcc.sources.mastodon import MastodonSource, parse_notification, parse_status

TOKEN = "mstdn-token-5e7d1c0a9b"


def recording(name: str) -> Path:
    return shared_data("api", "mastodon", "decoded", f"{name}.decoded.json")


def make_source(
    base_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    token: str | None = TOKEN,
    extra: str = "",
    brands: str = "",
) -> MastodonSource:
    if token is None:
        monkeypatch.delenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", raising=False)
    else:
        monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", token)
    config = parse_config(
        f"{brands}\n[sources.brand-mastodon]\ntype = 'mastodon'\nbase_url = '{base_url}'\n"
        f"interval = '50ms'\ntimeout = '500ms'\n{extra}"
    )
    source = build_source("brand-mastodon", config.sources["brand-mastodon"], config)
    assert isinstance(source, MastodonSource)
    return source


def check_against(mention: Mention, status: dict[str, Any]) -> None:
    """Every field a Mention takes from a status, compared with the recorded JSON."""
    if status.get("reblog"):
        status = status["reblog"]
    assert mention.external_id == status["id"]
    assert mention.author.handle == status["account"]["acct"]
    assert mention.author.external_id == status["account"]["id"]
    assert mention.author.display_name == status["account"]["display_name"]
    assert mention.author.followers == status["account"]["followers_count"]
    assert mention.created_at == datetime.fromisoformat(status["created_at"])
    assert mention.reply_to_id == status["in_reply_to_id"]
    assert mention.url == status["url"]
    assert mention.engagement.likes == status["favourites_count"]
    assert mention.engagement.reposts == status["reblogs_count"]
    assert mention.engagement.replies == status["replies_count"]
    assert mention.engagement.quotes == status.get("quotes_count", 0)
    assert "</" not in mention.text
    assert "<p>" not in mention.text
    assert mention.text  # every recorded status has content


# ---------------------------------------------------------------------------------------------
# Every recorded response a listener or reply path meets


LISTENER_PATHS = ("/api/v1/notifications", "/api/v1/timelines/", "/api/v2/search")


def recorded_statuses() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(file, how, status JSON) for every status in a listener or reply response."""
    folder = shared_data("api", "mastodon", "decoded")
    for path in sorted(folder.glob("*.decoded.json")):
        for item in load_recording(path):
            body = item.body
            if item.status != 200:
                continue
            if item.method == "GET" and item.path.startswith(LISTENER_PATHS):
                if isinstance(body, dict) and "statuses" in body:
                    for status in body["statuses"]:
                        yield path.name, "search", status
                elif isinstance(body, list):
                    for entry in body:
                        if "type" in entry:
                            if entry.get("status"):
                                yield path.name, "notification", entry["status"]
                        else:
                            yield path.name, "timeline", entry
            elif item.method == "GET" and item.path.endswith("/context"):
                for status in body["ancestors"] + body["descendants"]:
                    yield path.name, "context", status
            elif (
                item.path.startswith("/api/v1/statuses")
                and item.method in ("POST", "GET")
                and isinstance(body, dict)
                and "content" in body
            ):
                yield path.name, "status", body


def test_every_recorded_status_becomes_a_correct_mention() -> None:
    seen = 0
    kinds: set[str] = set()
    for name, how, status in recorded_statuses():
        mention = parse_status("m", status, how)
        try:
            check_against(mention, status)
        except AssertionError as exc:
            raise AssertionError(f"{name} ({how}, status {status.get('id')}): {exc}") from exc
        kinds.add(how)
        seen += 1
    assert kinds == {"search", "notification", "timeline", "context", "status"}
    assert seen > 60, seen


def test_recorded_notifications_hand_checked() -> None:
    body = load_recording(recording("test_notifications_mentions_only"))[1].body
    mention = parse_notification("m", body[0])
    assert mention is not None
    assert mention.text == "@mastodonpy_test hello!"
    assert mention.author.handle == "admin"
    assert mention.created_at == datetime(2026, 8, 1, 13, 51, 42, 823000, tzinfo=UTC)
    assert mention.raw["notification_id"] == "21"
    assert mention.conversation_id == mention.external_id == "117020577157693549"
    # mastodon.social: 40 mention notifications, 39 of them of statuses since deleted
    live = load_recording(recording("test_entity_notification"))[0].body
    parsed = [parse_notification("m", n) for n in live]
    kept = [m for m in parsed if m is not None]
    assert len(kept) == 1
    assert kept[0].author.handle == "latencyobs@icosahedron.website"
    assert kept[0].text.startswith(
        "@halcy@mastodon.social @halcy@glitch.social @halcy@hachyderm.io ____"
    )


def test_thread_ids_from_the_recorded_context() -> None:
    body = load_recording(recording("test_entity_context"))[0].body
    ancestor = parse_status("m", body["ancestors"][0], "context")
    reply = parse_status("m", body["descendants"][0], "context")
    assert (ancestor.text, ancestor.reply_to_id, ancestor.conversation_id) == (
        "first status",
        None,
        "110446983178245440",
    )
    assert (reply.text, reply.reply_to_id, reply.conversation_id) == (
        "final status",
        "110446983926957470",
        None,
    )


def test_html_keeps_line_breaks_and_full_links() -> None:
    status = json.loads(
        json.dumps(load_recording(recording("test_status_reply"))[2].body)
    )  # a copy to edit
    status["content"] = (
        '<p>Sinyal hilang &amp; <a href="https://x.example/a/very/long/path">'
        '<span class="invisible">https://</span><span class="ellipsis">x.example/a/very</span>'
        '<span class="invisible">/long/path</span></a></p><p>line one<br>line two</p>'
    )
    status["spoiler_text"] = "outage"
    text = parse_status("m", status, "t").text
    assert text == (
        "CW: outage\n\nSinyal hilang & https://x.example/a/very/long/path\n\nline one\nline two"
    )


# ---------------------------------------------------------------------------------------------
# Listening against the loopback server


async def first_batches(source: MastodonSource, cursor: str | None, count: int) -> list[Fetched]:
    out: list[Fetched] = []
    stream = source.stream(cursor)
    async for fetched in stream:
        out.append(fetched)
        if len(out) >= count:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    return out


async def test_polls_recorded_notifications_hashtag_and_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with LoopbackServer() as server:
        serve_recording(server, load_recording(recording("test_entity_notification")))
        serve_recording(server, load_recording(recording("test_hashtag_tl")))
        serve_recording(server, load_recording(recording("test_entity_searchv2")))
        source = make_source(
            server.base_url,
            monkeypatch,
            extra="streaming = false\nhashtags = ['hoot']\nquery = ['halcy']\n",
        )
        batches = await first_batches(source, None, 3)
        await source.aclose()
    notifications, tag, search = batches
    assert [m.external_id for m in notifications.mentions] == ["116275331587890092"]
    assert len(tag.mentions) == 1
    assert tag.mentions[0].raw["via"] == "tag:hoot"
    assert [m.external_id for m in search.mentions] == ["116388149027005349", "116388107849695302"]
    cursor = json.loads(search.cursor or "")
    assert cursor["notifications"] == "550622655"  # the newest notification, deleted or not
    assert cursor["search:halcy"] == "116388149027005349"
    sent = server.requests_to("/api/v1/notifications")[0]
    assert sent.query["types[]"] == ["mention"]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert server.requests_to("/api/v2/search")[0].query["type"] == ["statuses"]
    assert source.health.state is HealthState.CONNECTED


def status(n: int, text: str = "kopi enak") -> dict[str, Any]:
    base = load_recording(recording("test_status_reply"))[2].body
    return {
        **base,
        "id": str(1000 + n),
        "content": f"<p>{text} {n}</p>",
        "in_reply_to_id": None,
        "created_at": f"2026-11-23T08:00:{n:02d}.000Z",
    }


class FakeTimeline:
    """A hashtag timeline that answers min_id and limit as Mastodon does."""

    def __init__(self, statuses: list[dict[str, Any]]) -> None:
        self.statuses = statuses

    def __call__(self, request: Request) -> Reply:
        limit = int(request.query.get("limit", ["20"])[0])
        min_id = request.query.get("min_id", [None])[0]
        ordered = sorted(self.statuses, key=lambda s: int(s["id"]))
        if min_id is not None:
            page = [s for s in ordered if int(s["id"]) > int(min_id)][:limit]
        else:
            page = ordered[-limit:]
        return Reply.json(list(reversed(page)))


async def test_stream_then_drop_then_poll_fills_the_gap_then_stream_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timeline = FakeTimeline([status(0)])
    connects: list[int] = []

    def stream(_request: Request) -> Reply:
        connects.append(1)
        if len(connects) == 1:

            def first() -> Iterator[bytes]:
                for n in (1, 2):
                    timeline.statuses.append(status(n))
                    yield f"event: update\ndata: {json.dumps(status(n))}\n\n".encode()
                # Posted while the stream is down: only a poll can find these.
                timeline.statuses.extend([status(3), status(4)])

            return Reply(headers={"Content-Type": "text/event-stream"}, stream=first())

        def second() -> Iterator[bytes]:
            timeline.statuses.append(status(5))
            yield b":)\n\n"
            yield b"event: delete\ndata: 1001\n\n"
            yield f"event: update\ndata: {json.dumps(status(5))}\n\n".encode()
            yield b":)\n\n"

        return Reply(headers={"Content-Type": "text/event-stream"}, stream=second())

    with LoopbackServer() as server:
        server.route("GET", "/api/v1/timelines/tag/kopi", timeline)
        server.route("GET", "/api/v1/streaming/hashtag", stream)
        source = make_source(
            server.base_url, monkeypatch, extra="notifications = false\nhashtags = ['kopi']\n"
        )
        got: list[str] = []
        # Every health the source showed (a page is not always yielded while it polls: when the
        # stream's retry is due at once, the catch-up poll of the new stream finds 1003 and 1004).
        states: list[str] = []
        show = SourceHealth.set

        def record(
            health: SourceHealth,
            state: HealthState,
            reason: str = "",
            until: datetime | None = None,
        ) -> None:
            if health is source.health:
                states.append(reason)
            show(health, state, reason, until)

        monkeypatch.setattr(SourceHealth, "set", record)
        stream_iter = source.stream(json.dumps({"tag:kopi": "1000"}))
        async for fetched in stream_iter:
            got.extend(m.external_id for m in fetched.mentions)
            if "1005" in got:
                break
        await stream_iter.aclose()  # type: ignore[attr-defined]
        await source.aclose()
    # No gap: 1003 and 1004 came only by polling; duplicates (stream and poll) are harmless.
    assert sorted(set(got)) == ["1001", "1002", "1003", "1004", "1005"]
    assert len(connects) == 2
    assert any(w.startswith("stream down, polling:") for w in source.health.warnings)
    assert any(r.startswith("polling every 0.05s (stream down:") for r in states)
    assert server.requests_to("/api/v1/streaming/hashtag")[0].query == {"tag": ["kopi"]}


async def test_recorded_user_stream_events(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = load_recording(recording("test_stream_user_direct"))[-1]
    assert recorded.path == "/api/v1/streaming/user"
    body = str(recorded.body).encode()
    with LoopbackServer() as server:
        server.route(
            "GET",
            "/api/v1/streaming/user/notification",
            Reply(headers={"Content-Type": "text/event-stream"}, stream=[body]),
        )
        server.route("GET", "/api/v1/notifications", Reply.json([]))
        source = make_source(server.base_url, monkeypatch, extra="hashtags = []\n")
        batches = await first_batches(source, json.dumps({"notifications": "1"}), 2)
        await source.aclose()
    mentions = [m for b in batches for m in b.mentions]
    assert [m.raw["notification_id"] for m in mentions] == ["14", "16"]
    assert [m.author.handle for m in mentions] == ["admin", "mastodonpy_test_2"]
    assert json.loads(batches[-1].cursor or "") == {"notifications": "16"}


async def test_reply_and_post_send_idempotency_key(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = load_recording(recording("test_status_reply"))
    original = parse_status("m", recorded[0].body, "notifications")
    with LoopbackServer() as server:
        server.route("POST", "/api/v1/statuses", recorded[2].reply())
        source = make_source(server.base_url, monkeypatch)
        new_id = await source.reply(original, "same!", "key-1")
        await source.post("Promo hari ini", "key-2")
        await source.aclose()
    assert new_id == recorded[2].body["id"]
    first, second = server.requests_to("/api/v1/statuses", "POST")
    assert first.headers["idempotency-key"] == "key-1"
    assert first.json() == {
        "status": f"@{original.author.handle} same!",
        "in_reply_to_id": original.external_id,
        "visibility": "public",
    }
    assert second.headers["idempotency-key"] == "key-2"
    assert second.json() == {"status": "Promo hari ini"}


async def test_thread_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = load_recording(recording("test_entity_context"))[0]
    middle = status(7)
    middle["id"] = "110446983926957470"
    with LoopbackServer() as server:
        server.route("GET", recorded.path, recorded.reply())
        source = make_source(server.base_url, monkeypatch)
        thread = await source.thread(parse_status("m", middle, "t"))
        await source.aclose()
    assert [m.external_id for m in thread] == [
        "110446983178245440",
        "110446983926957470",
        "110446984249325790",
    ]
    assert {m.conversation_id for m in thread} == {"110446983178245440"}


async def test_missing_token_is_reported_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with LoopbackServer() as server:
        source = make_source(server.base_url, monkeypatch, token=None)
        with pytest.raises(SourceError, match="credentials missing: set SMCC_BRAND_MASTODON") as e:
            await first_batches(source, None, 1)
        checks = await source.check()
        await source.aclose()
    assert e.value.fatal
    assert server.requests == []
    assert [(c.what, c.status) for c in checks] == [("credentials", CheckStatus.FAIL)]


async def test_public_hashtags_need_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackServer() as server:
        server.route("GET", "/api/v1/timelines/tag/kopi", FakeTimeline([status(1)]))
        server.route("GET", "/api/v2/instance", Reply.json({"uri": "x"}))
        source = make_source(
            server.base_url,
            monkeypatch,
            token=None,
            extra="notifications = false\nstreaming = false\nhashtags = ['#kopi']\n",
        )
        batches = await first_batches(source, None, 1)
        checks = await source.check()
        await source.aclose()
    assert [m.external_id for m in batches[0].mentions] == ["1001"]
    assert "authorization" not in server.requests[0].headers
    assert all(c.status is CheckStatus.OK for c in checks)


def test_defaults_come_from_the_brands(monkeypatch: pytest.MonkeyPatch) -> None:
    brands = (
        "[[brands]]\nname = 'Nusantel'\nkeywords = ['nusantel care']\nhashtags = ['#Nusantel']\n"
        "[[competitors]]\nname = 'Telkoma'\n"
    )
    source = make_source("http://127.0.0.1:9", monkeypatch, brands=brands)
    keys = [e.key for e in source.endpoints]
    assert keys == [
        "notifications",
        "tag:Nusantel",
        "search:Nusantel",
        "search:nusantel care",
        "search:Telkoma",
    ]


def test_cursor_round_trip_and_garbage() -> None:
    positions = {"tag:kopi": "1005", "notifications": "21"}
    cursor = MastodonSource.encode_cursor(positions)
    assert MastodonSource.decode_cursor(cursor) == positions
    assert MastodonSource.decode_cursor("not json") == {}
    assert MastodonSource.decode_cursor("[1]") == {}
    assert MastodonSource.decode_cursor(None) == {}
