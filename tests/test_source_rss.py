"""The RSS/Atom/JSON Feed source: every shared feed file, conditional GETs, dedupe, cursors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest

from loopback import LoopbackServer, Reply, Request, shared_data
from smcc.config import parse_config
from smcc.models import Mention
from smcc.sources import build_source
from smcc.sources.base import CheckStatus, Fetched, HealthState
from smcc.sources.rss import RssSource, parse_feed

# The two files that INDEX.md gives an HTTP header for; the rest are served as a feed server
# without a charset would serve them.
CONTENT_TYPES = {
    "encoding__http_i18n.xml": "application/xml",
    "illformed__http_high_bit_date.xml": "text/xml",
    "json__example.json": "application/feed+json",
}


def feeds_dir() -> Path:
    return shared_data("feeds")


def feed_files() -> list[Path]:
    folder = feeds_dir()
    return sorted(p for p in folder.iterdir() if p.suffix in (".xml", ".json"))


def make_source(urls: list[str], extra: str = "") -> RssSource:
    feeds = ", ".join(f"'{u}'" for u in urls)
    config = parse_config(
        f"[sources.news]\ntype = 'rss'\nfeeds = [{feeds}]\ninterval = '50ms'\n"
        f"timeout = '500ms'\n{extra}"
    )
    source = build_source("news", config.sources["news"], config)
    assert isinstance(source, RssSource)
    return source


async def one_round(source: RssSource, cursor: str | None, pages: int) -> list[Fetched]:
    out: list[Fetched] = []
    stream = source.stream(cursor)
    async for fetched in stream:
        out.append(fetched)
        if len(out) >= pages:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    return out


# What each shared file must give (INDEX.md's expectations, as smcc sees them): the number of
# mentions and a text (or link, reply id) one of them must carry; None: nothing to check beyond
# the count. A malformed file must leave a health warning naming it.
EXPECTED: dict[str, tuple[int, str | None]] = {
    "encoding__bozo_encoding_mismatch_crash.xml": (1, None),
    "encoding__bozo_invalid-bytes-with-bom.xml": (0, None),
    "encoding__bozo_linenoise.xml": (1, "â€™â€\x9d©"),
    "encoding__demoronize-1.xml": (1, "don’t"),
    "encoding__double-encoded-html.xml": (1, "…"),
    "encoding__http_i18n.xml": (0, None),
    "encoding__utf-16le-bom.xml": (0, None),
    "encoding__utf-8-bom.xml": (0, None),
    "illformed__aaa_illformed.xml": (0, None),
    "illformed__always_strip_doctype.xml": (0, None),
    "illformed__chardet__koi8r.xml": (1, "Как пережить новогоднюю ночь"),
    "illformed__http_high_bit_date.xml": (0, None),
    "illformed__rss_empty_document.xml": (0, None),
    "illformed__rss_incomplete_cdata.xml": (1, None),
    "illformed__rss_item_link_corrupted_ampersands.xml": (1, "http://link/get?a=1&b=2"),
    "illformed__undeclared_namespace.xml": (0, None),
    "json__example.json": (2, "Hello, world!"),
    "wellformed__media-rss__media_group.xml": (1, "Test Description"),
    "wellformed__namespace__atomthreadingwithentry.xml": (
        1,
        "tag:blogger.com,1999:blog-893591374313312737.post-3861663258538857954",
    ),
    "wellformed__namespace__rss1.0withModules.xml": (1, "Test Item - RSS 1.0"),
    "wellformed__namespace__rss2.0NSwithModules.xml": (1, "Test Item - RSS2.0 w/ NS"),
    "wellformed__namespace__rss2.0withAtomNS.xml": (1, "rsync and vfat | Geek at Play"),
    "wellformed__sanitize__entry_content_crazy.xml": (1, "Crazy HTML -- Can Your Regex Parse"),
    "wellformed__sanitize__item_description_crazy.xml": (1, "Crazy HTML -- Can Your Regex Parse"),
    "wellformed__sanitize__large_atom_feed_that_needs_css_sanitisation.xml": (
        15,
        "Невидимая броня для Вашего Nokia 5800",
    ),
}
MALFORMED_WITHOUT_ENTRIES = {
    "encoding__bozo_invalid-bytes-with-bom.xml",
    "illformed__aaa_illformed.xml",
    "illformed__rss_empty_document.xml",
    "illformed__undeclared_namespace.xml",
}


def carries(mentions: list[Mention], expected: str) -> bool:
    return any(
        expected in m.text or expected == m.url or expected == m.reply_to_id for m in mentions
    )


async def test_every_shared_feed_file_through_one_source() -> None:
    files = feed_files()
    assert {f.name for f in files} == set(EXPECTED)
    with LoopbackServer() as server:
        for path in files:
            content_type = CONTENT_TYPES.get(path.name, "application/xml")
            server.route("GET", f"/{path.name}", Reply.text(path.read_bytes(), content_type))
        source = make_source([f"{server.base_url}/{p.name}" for p in files])
        good = len(files) - len(MALFORMED_WITHOUT_ENTRIES)
        batches = await one_round(source, None, good)
        await source.aclose()
    by_feed: dict[str, list[Mention]] = {}
    for fetched in batches:
        for mention in fetched.mentions:
            by_feed.setdefault(mention.raw["feed"].rsplit("/", 1)[-1], []).append(mention)
    for name, (count, expected) in EXPECTED.items():
        got = by_feed.get(name, [])
        assert len(got) == count, name
        if expected is not None:
            assert carries(got, expected), (name, [m.text[:60] for m in got])
    warnings = "\n".join(source.health.warnings)
    for name in MALFORMED_WITHOUT_ENTRIES:
        assert f"/{name}: " in warnings, name
    assert "illformed__chardet__koi8r.xml: encoding not declared or wrong; decoded as KOI8-R" in (
        warnings
    )
    # The failing documents did not stop the source: every good feed was read in the round.
    assert source.health.state is HealthState.CONNECTED
    assert "feeds ok; failing:" in source.health.reason


def test_large_russian_atom_feed_entries() -> None:
    path = feeds_dir() / "wellformed__sanitize__large_atom_feed_that_needs_css_sanitisation.xml"
    parsed = parse_feed(path.read_bytes(), "application/atom+xml", "http://x/feed")
    assert len(parsed.entries) == 15
    first = parsed.entries[0]
    assert first.id == "tag:touchnokia.ru,2009://1.666"
    assert first.published == datetime(2009, 9, 9, 14, 19, 45, tzinfo=UTC)
    assert first.author == "iPod"
    assert "<" not in first.text
    assert "\n\n" in first.text  # paragraphs kept
    assert len({e.id for e in parsed.entries}) == 15


def test_json_feed() -> None:
    parsed = parse_feed((feeds_dir() / "json__example.json").read_bytes(), "", "http://x/f")
    assert [(e.id, e.author, e.text) for e in parsed.entries] == [
        ("2", "me", "This is a second item."),
        ("1", "you", "Hello, world!"),
    ]
    assert parsed.title == "My Example Feed"
    assert parse_feed(b'{"items": 3}', "application/json", "u").problem.startswith("JSON without")
    assert parse_feed(b'{"items": [', "application/json", "u").problem.startswith("not valid")


def rss(items: list[int]) -> bytes:
    entries = "".join(
        f"<item><guid>https://blog.example/p/{n}</guid><title>Post {n}</title>"
        f"<link>https://blog.example/p/{n}</link><description>&lt;p&gt;Kopi {n}&lt;/p&gt;"
        f"</description><pubDate>{format_datetime(datetime(2026, 11, 23, 8, n, tzinfo=UTC))}"
        "</pubDate></item>"
        for n in reversed(items)
    )
    return f"<rss version='2.0'><channel><title>Blog</title>{entries}</channel></rss>".encode()


class ConditionalFeed:
    """A feed that answers 304 to a matching If-None-Match, and grows when told to."""

    def __init__(self) -> None:
        self.items = [1, 2]

    @property
    def etag(self) -> str:
        return f'"v{len(self.items)}"'

    def __call__(self, request: Request) -> Reply:
        if request.headers.get("if-none-match") == self.etag:
            return Reply(304, headers={"ETag": self.etag})
        reply = Reply.text(rss(self.items), "application/rss+xml")
        reply.headers["ETag"] = self.etag
        reply.headers["Last-Modified"] = "Mon, 23 Nov 2026 08:00:00 GMT"
        return reply


async def test_conditional_get_dedupe_and_resume_from_cursor() -> None:
    feed = ConditionalFeed()
    with LoopbackServer() as server:
        server.route("GET", "/feed", feed)
        url = f"{server.base_url}/feed"
        source = make_source([url])
        first = await one_round(source, None, 1)
        assert [m.external_id for m in first[0].mentions] == [
            "https://blog.example/p/1",
            "https://blog.example/p/2",
        ]
        assert first[0].mentions[0].text == "Post 1\n\nKopi 1"
        cursor = first[0].cursor
        # Unchanged: a 304 with the validators sent.
        second = await one_round(source, cursor, 1)
        assert second[0].mentions == []
        sent = server.requests[-1]
        assert sent.headers["if-none-match"] == '"v2"'
        assert sent.headers["if-modified-since"] == "Mon, 23 Nov 2026 08:00:00 GMT"
        await source.aclose()
        # A restart from the stored cursor, after the feed grew: only the new entry.
        feed.items = [1, 2, 3]
        restarted = make_source([url])
        third = await one_round(restarted, cursor, 1)
        await restarted.aclose()
    assert [m.external_id for m in third[0].mentions] == ["https://blog.example/p/3"]
    saved = json.loads(third[0].cursor or "")["feeds"][url]
    assert saved["etag"] == '"v3"'
    assert saved["seen"][-1] == "https://blog.example/p/3"


async def test_per_feed_interval_and_check() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/a", Reply.text(rss([1]), "application/rss+xml"))
        config = parse_config(
            f"[sources.news]\ntype = 'rss'\nfeeds = ['{server.base_url}/a', "
            f"{{url = '{server.base_url}/b', interval = '2h'}}]\n"
        )
        source = build_source("news", config.sources["news"], config)
        assert isinstance(source, RssSource)
        assert [f.interval for f in source.feeds] == [300.0, 7200.0]
        checks = await source.check()
        await source.aclose()
    assert [(c.what.rsplit("/", 1)[-1], c.status) for c in checks] == [
        ("a", CheckStatus.OK),
        ("b", CheckStatus.FAIL),
    ]
    assert checks[0].detail == "a feed (1 entries)"
    assert "404" in checks[1].detail


def test_feed_urls_are_checked() -> None:
    with pytest.raises(Exception, match="is not an http"):
        parse_config("[sources.news]\ntype = 'rss'\nfeeds = ['ftp://x']\n")
