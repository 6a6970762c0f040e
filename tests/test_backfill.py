"""`smcc backfill` against the loopback server: history paged back into the store through the
pipeline, the live cursor untouched, reruns harmless, faults survived, bad input refused."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from loopback import LoopbackServer, Reply, Request
from smcc.cli import main
from smcc.config import BlueskySourceConfig, Config, RssSourceConfig, TwitterSourceConfig
from smcc.sources.base import HistoryPage, Source
from smcc.sources.bluesky import BlueskySource
from smcc.sources.mastodon import snowflake_at
from smcc.sources.rss import RssSource
from smcc.sources.twitter import TwitterSource
from smcc.store import Store, prepare_batch

T0 = datetime(2026, 11, 20, tzinfo=UTC)
TOKEN = "mstdn-backfill-token-41c9"


def at(hour: int) -> datetime:
    return T0 + timedelta(hours=hour)


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------
# Mastodon: a hashtag timeline and mention notifications paged back with max_id


def status(hour: int) -> dict[str, Any]:
    return {
        "id": str(int(at(hour).timestamp() * 1000) << 16),  # a snowflake, as Mastodon's
        "created_at": iso(at(hour)),
        "content": f"<p>kopi di jam {hour}</p>",
        "url": f"https://social.example/@ani/{hour}",
        "account": {"id": "7", "acct": "ani", "display_name": "Ani", "followers_count": 12},
        "in_reply_to_id": None,
        "favourites_count": hour,
    }


class Paged:
    """A Mastodon list endpoint: newest first, `limit`, `max_id` (exclusive)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = sorted(items, key=lambda s: int(s["id"]))

    def __call__(self, request: Request) -> Reply:
        limit = int(request.query.get("limit", ["20"])[0])
        max_id = request.query.get("max_id", [None])[0]
        older = [s for s in self.items if max_id is None or int(s["id"]) < int(max_id)]
        return Reply.json(list(reversed(older[-limit:])))


def notification(n: int, hour: int) -> dict[str, Any]:
    return {"id": str(n), "type": "mention", "created_at": iso(at(hour)), "status": status(hour)}


def mastodon_config(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"[sources.masto]\ntype = 'mastodon'\nbase_url = '{base_url}'\nhashtags = ['kopi']\n"
        "[sources.demo]\n",
        encoding="utf-8",
    )
    return path


def backfill(config: Path, db: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["backfill", "--config", str(config), "--db", str(db), *args])


def serve_mastodon(server: LoopbackServer) -> None:
    timeline = Paged([status(h) for h in range(100)])  # one post an hour, hours 0..99
    server.route("GET", "/api/v1/timelines/tag/kopi", timeline)
    # Notifications have plain sequential ids: one every 10 hours.
    server.route(
        "GET", "/api/v1/notifications", Paged([notification(n, n * 10 + 5) for n in range(10)])
    )


def test_mastodon_history_into_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMCC_MASTO_ACCESS_TOKEN", TOKEN)
    db = tmp_path / "smcc.db"
    live = '{"notifications":"9","tag:kopi":"1"}'
    with Store.open(db) as store:
        store.insert_prepared(prepare_batch([]), {"masto": live})
    with LoopbackServer() as server:
        serve_mastodon(server)
        config = mastodon_config(tmp_path, server.base_url)
        result = backfill(
            config, db, "masto", "--since", "2026-11-20T10:00", "--until", iso(at(70))
        )
        tag_requests = server.requests_to("/api/v1/timelines/tag/kopi")
        again = backfill(
            config, db, "masto", "--since", "2026-11-20T10:00Z", "--until", iso(at(70))
        )
    assert result.exit_code == 0, result.output
    # The tag timeline starts at --until (a snowflake id) and pages back with the oldest id
    # until a page reaches past --since: hours 70..31, then 30..0.
    assert [r.query["max_id"] for r in tag_requests[:2]] == [
        [snowflake_at(at(70))],
        [status(31)["id"]],
    ]
    assert len(tag_requests) == 2
    with Store.open(db) as store:
        count = store.count_mentions()
        assert store.cursor("masto") == live  # the live cursor neither moved nor was reset
    # Hours 10..70 of the tag (61); the notifications at 15, 25, …, 65 carry the same posts
    # (same status ids), so they are stored once.
    assert count == 61
    assert "61 new mentions stored" in result.output
    assert again.exit_code == 0, again.output
    assert "0 new mentions stored" in again.output
    assert "already stored" in again.output


def test_mastodon_backfill_survives_a_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMCC_MASTO_ACCESS_TOKEN", TOKEN)
    db = tmp_path / "smcc.db"
    with LoopbackServer() as server:
        serve_mastodon(server)
        # The second page of the tag fails once with a 503 that asks for a short wait.
        calls = {"n": 0}
        timeline = Paged([status(h) for h in range(100)])

        def flaky(request: Request) -> Reply:
            calls["n"] += 1
            if calls["n"] == 2:
                return Reply.json({"error": "busy"}, 503, headers={"Retry-After": "0"})
            return timeline(request)

        server.first("GET", "/api/v1/timelines/tag/kopi", flaky, times=100)
        config = mastodon_config(tmp_path, server.base_url)
        result = backfill(config, db, "masto", "--since", iso(at(10)), "--until", iso(at(70)))
        notification_requests = server.requests_to("/api/v1/notifications")
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        assert store.count_mentions() == 61
    # Notifications were finished before the fault and not read again after it.
    assert len(notification_requests) == 1


# ---------------------------------------------------------------------------------------------
# Reddit: a subreddit's new posts paged back with `after`


def post(n: int, hour: int) -> dict[str, Any]:
    return {
        "kind": "t3",
        "data": {
            "name": f"t3_p{n}",
            "title": f"kopi post {n}",
            "selftext": "",
            "author": "budi",
            "created_utc": at(hour).timestamp(),
            "permalink": f"/r/kopi/comments/p{n}/x/",
            "subreddit": "kopi",
            "score": 3,
            "num_comments": 1,
        },
    }


def test_reddit_history_with_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CLIENT_ID": "app",
        "CLIENT_SECRET": "s3cret-rd",
        "REFRESH_TOKEN": "r",
    }.items():
        monkeypatch.setenv(f"SMCC_RD_{name}", value)
    posts = [post(n, 150 - n) for n in range(150)]  # newest first, one an hour

    def listing(request: Request) -> Reply:
        after = request.query.get("after", [None])[0]
        limit = int(request.query["limit"][0])
        start = (
            0
            if after is None
            else next(i for i, p in enumerate(posts) if p["data"]["name"] == after) + 1
        )
        page = posts[start : start + limit]
        more = page[-1]["data"]["name"] if start + limit < len(posts) else None
        return Reply.json({"kind": "Listing", "data": {"children": page, "after": more}})

    db = tmp_path / "smcc.db"
    with LoopbackServer() as server:
        server.route("POST", "/api/v1/access_token", Reply.json({"access_token": "tok-rd-9"}))
        server.route("GET", "/r/kopi/new", listing)
        empty = Reply.json({"kind": "Listing", "data": {"children": []}})
        for path in ("/r/kopi/comments", "/message/mentions", "/message/comments"):
            server.route("GET", path, empty)
        config = tmp_path / "config.toml"
        config.write_text(
            f"[sources.rd]\ntype = 'reddit'\nbase_url = '{server.base_url}'\n"
            f"auth_url = '{server.base_url}'\nsubreddits = ['kopi']\n",
            encoding="utf-8",
        )
        result = backfill(config, db, "rd", "--since", iso(at(20)), "--until", iso(at(120)))
        new_requests = server.requests_to("/r/kopi/new")
    assert result.exit_code == 0, result.output
    assert [r.query.get("after") for r in new_requests] == [None, ["t3_p99"]]
    with Store.open(db) as store:
        assert store.count_mentions() == 101  # hours 20..120
        assert store.cursor("rd") is None


# ---------------------------------------------------------------------------------------------
# Twitter, Bluesky, RSS: the pages each adapter asks for


async def pages(source: Source, since: datetime, until: datetime) -> list[HistoryPage]:
    out = []
    history = source.backfill(since, until)
    try:
        async for page in history:
            out.append(page)
    finally:
        with contextlib.suppress(AttributeError):
            await history.aclose()  # type: ignore[attr-defined]
        await source.aclose()
    return out


def tweet(n: int) -> dict[str, Any]:
    return {
        "id": str(1860000000000000000 + n),
        "text": f"kopi {n}",
        "author_id": "5",
        "created_at": iso(datetime.now(UTC) - timedelta(hours=n)),
    }


async def test_twitter_history_is_clamped_to_seven_days() -> None:
    def search(request: Request) -> Reply:
        token = request.query.get("next_token", [None])[0]
        if token is None:
            return Reply.json({"data": [tweet(1), tweet(2)], "meta": {"next_token": "p2"}})
        return Reply.json({"data": [tweet(3)], "meta": {}})

    with LoopbackServer() as server:
        server.route("GET", "/2/tweets/search/recent", search)
        config = TwitterSourceConfig(base_url=server.base_url, query=["kopi"])
        source = TwitterSource("x", config, [], {"bearer_token": "AAAA-bf-token"}.get)
        now = datetime.now(UTC)
        got = await pages(source, now - timedelta(days=30), now)
        asked = server.requests_to("/2/tweets/search/recent")
    assert [len(p.mentions) for p in got] == [2, 1]
    assert [p.done for p in got] == [False, True]
    start = datetime.fromisoformat(asked[0].query["start_time"][0])
    end = datetime.fromisoformat(asked[0].query["end_time"][0])
    assert timedelta(days=6, hours=23) < now - start < timedelta(days=7)
    assert now - end >= timedelta(seconds=9)
    assert asked[1].query["next_token"] == ["p2"]
    assert any("last 7 days" in w for w in source.health.warnings)


async def test_bluesky_search_uses_the_lexicon_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMCC_BSKY_APP_PASSWORD", "pw-bsky-1234")

    def post_view(n: int) -> dict[str, Any]:
        return {
            "uri": f"at://did:plc:a/app.bsky.feed.post/{n}",
            "cid": f"cid{n}",
            "author": {"did": "did:plc:a", "handle": "ani.test"},
            "record": {"text": f"kopi {n}", "createdAt": iso(at(n))},
            "indexedAt": iso(at(n)),
        }

    def search(request: Request) -> Reply:
        if request.query.get("cursor"):
            return Reply.json({"posts": [post_view(2)]})
        return Reply.json({"posts": [post_view(4), post_view(3)], "cursor": "c2"})

    with LoopbackServer() as server:
        server.route(
            "POST",
            "/xrpc/com.atproto.server.createSession",
            Reply.json({"accessJwt": "a-jwt", "refreshJwt": "r-jwt", "did": "did:plc:me"}),
        )
        server.route(
            "GET",
            "/xrpc/app.bsky.notification.listNotifications",
            Reply.json({"notifications": []}),
        )
        server.route("GET", "/xrpc/app.bsky.feed.searchPosts", search)
        config = BlueskySourceConfig(base_url=server.base_url, handle="me.test", query=["kopi"])
        source = BlueskySource("bsky", config, [], Config())
        got = await pages(source, at(1), at(5))
        asked = server.requests_to("/xrpc/app.bsky.feed.searchPosts")
    assert [(p.timeline, len(p.mentions), p.done) for p in got] == [
        ("notifications", 0, True),
        ("search:kopi", 2, False),
        ("search:kopi", 1, True),
    ]
    assert asked[0].query["since"] == ["2026-11-20T01:00:00.000Z"]
    assert asked[0].query["until"] == ["2026-11-20T05:00:00.000Z"]
    assert asked[1].query["cursor"] == ["c2"]


async def test_rss_history_is_what_the_feed_holds() -> None:
    feed = (
        "<rss version='2.0'><channel><title>Blog</title>"
        "<item><guid>a</guid><title>new</title>"
        "<pubDate>Sat, 21 Nov 2026 10:00:00 GMT</pubDate></item>"
        "<item><guid>b</guid><title>old</title>"
        "<pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate></item>"
        "<item><guid>c</guid><title>undated</title></item>"
        "</channel></rss>"
    )
    with LoopbackServer() as server:
        server.route("GET", "/feed.xml", Reply.text(feed, "application/rss+xml"))
        source = RssSource("news", RssSourceConfig(feeds=[f"{server.base_url}/feed.xml"]))
        got = await pages(source, at(0), at(48))
        asked = server.requests_to("/feed.xml")
    assert [[m.text for m in p.mentions] for p in got] == [["new", "old"]]
    assert got[0].done
    assert "if-none-match" not in asked[0].headers


# ---------------------------------------------------------------------------------------------
# Odd input: one line, exit 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--since", "7d"], "no source named 'nope'"),
        (["masto", "--since", "yesterday"], "--since 'yesterday': not a time"),
        (["masto", "--since", "7d", "--until", "2026-13-01"], "--until '2026-13-01': not a time"),
        (["masto", "--since", "1h", "--until", "2d"], "must be before --until"),
        (["demo", "--since", "7d"], "has no history to fetch"),
    ],
)
def test_odd_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = backfill(mastodon_config(tmp_path, "http://127.0.0.1:9"), tmp_path / "x.db", *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_missing_token_fails_with_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMCC_MASTO_ACCESS_TOKEN", raising=False)
    result = backfill(
        mastodon_config(tmp_path, "http://127.0.0.1:9"), tmp_path / "x.db", "masto", "--since", "2d"
    )
    assert result.exit_code == 1
    assert "SMCC_MASTO_ACCESS_TOKEN" in result.output


def test_a_fault_that_persists_ends_the_backfill_keeping_what_was_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMCC_MASTO_ACCESS_TOKEN", TOKEN)
    db = tmp_path / "smcc.db"
    with LoopbackServer() as server:
        serve_mastodon(server)
        down = Reply.json({"error": "down"}, 503, headers={"Retry-After": "0"})
        server.first("GET", "/api/v1/timelines/tag/kopi", down, times=1000)
        config = mastodon_config(tmp_path, server.base_url)
        result = backfill(config, db, "masto", "--since", iso(at(10)), "--until", iso(at(70)))
        attempts = server.requests_to("/api/v1/timelines/tag/kopi")
    assert result.exit_code == 1
    assert "gave up after 6 attempts" in result.output
    assert len(attempts) == 6
    with Store.open(db) as store:
        assert store.count_mentions() == 6  # the notifications at 15, 25, …, 65, read first
