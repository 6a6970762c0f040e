"""The `rss` source: RSS 0.9x/1.0/2.0, Atom and JSON Feed (blogs, forums, news, alerts).

Each feed is fetched through the shared HTTP layer with conditional requests (``If-None-Match``
from the last ETag, ``If-Modified-Since`` from the last Last-Modified: a 304 costs nothing) on its
own interval (``feeds = ["URL", {url = "URL", interval = "15m"}]``). XML feeds are parsed by
feedparser, which with chardet installed decodes feeds that do not declare their encoding (the
KOI8-R case); JSON Feed (jsonfeed.org 1.0/1.1) is parsed here, since feedparser 6 does not.

Entries are deduplicated by id, else link, else title+date: the cursor keeps, per feed, the ids
already handed on (the newest few hundred) with the ETag and Last-Modified, so a restart neither
repeats nor loses an entry. A malformed feed is parsed as far as it goes and reported as a health
warning; a feed that fails (HTTP error, no feed at all) backs off on its own and never stops the
others. Only when every feed is failing does the source report an error to the pipeline.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import json
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from smcc.config import RssFeed, RssSourceConfig
from smcc.models import Author, Mention, utcnow
from smcc.sources.base import (
    Backoff,
    Check,
    CheckStatus,
    Fetched,
    HealthState,
    HistoryPage,
    Source,
    SourceError,
)
from smcc.sources.htmltext import html_to_text
from smcc.sources.http import HttpApi

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
KEEP_SEEN = 300
"""Entry ids remembered per feed (at least twice what the feed last showed)."""


@dataclass(frozen=True)
class Entry:
    id: str
    link: str
    title: str
    text: str
    author: str
    published: datetime | None
    reply_to: str | None = None


@dataclass
class ParsedFeed:
    title: str = ""
    entries: list[Entry] = field(default_factory=list)
    problem: str = ""
    """Why the document is malformed (it may still have yielded entries)."""
    encoding: str = ""


# ---------------------------------------------------------------------------------------------
# Parsing


def _struct_time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def entry_key(entry_id: str, link: str, title: str, published: datetime | None) -> str:
    if entry_id.strip():
        return entry_id.strip()
    if link.strip():
        return link.strip()
    digest = hashlib.sha1(f"{title}\x00{published}".encode(), usedforsecurity=False)
    return "sha1:" + digest.hexdigest()[:16]


def _xml_entry(item: Mapping[str, Any], feed_title: str) -> Entry:
    title = html_to_text(str(item.get("title") or ""))
    body = ""
    contents = item.get("content") or []
    if contents and isinstance(contents, list):
        body = str(contents[0].get("value") or "")
    if not body:
        body = str(item.get("summary") or item.get("description") or "")
    published = _struct_time(item.get("published_parsed")) or _struct_time(
        item.get("updated_parsed")
    )
    link = str(item.get("link") or "")
    reply = item.get("thr_in-reply-to")
    reply_to = str(reply.get("ref") or reply.get("href") or "") if isinstance(reply, dict) else ""
    return Entry(
        id=entry_key(str(item.get("id") or ""), link, title, published),
        link=link,
        title=title,
        text=html_to_text(body),
        author=str(item.get("author") or feed_title or ""),
        published=published,
        reply_to=reply_to or None,
    )


def parse_xml(body: bytes, content_type: str, url: str) -> ParsedFeed:
    # Headers only when the server sent a type: an empty one makes feedparser distrust the
    # document's own encoding declaration (and chardet's guess).
    headers = {"content-type": content_type, "content-location": url} if content_type else None
    result = feedparser.parse(body, response_headers=headers)
    feed_title = html_to_text(str(result.feed.get("title") or ""))
    out = ParsedFeed(feed_title, encoding=str(result.get("encoding") or ""))
    for item in result.entries:
        out.entries.append(_xml_entry(item, feed_title))
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        out.problem = f"{type(exc).__name__}: {exc}" if exc is not None else "malformed"
        if "CharacterEncodingOverride" in out.problem and out.entries:
            out.problem = f"encoding not declared or wrong; decoded as {out.encoding}"
    if not result.get("version") and not out.entries:
        out.problem = out.problem or "not an RSS, Atom or JSON feed"
    return out


def parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return ParsedFeed(problem=f"not valid JSON ({exc})")
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return ParsedFeed(problem="JSON without an 'items' array: not a JSON Feed")
    title = str(data.get("title") or "")
    out = ParsedFeed(title, encoding="utf-8")
    feed_author = _json_author(data)
    skipped = 0
    for item in data["items"]:
        if not isinstance(item, dict):
            skipped += 1
            continue
        html = item.get("content_html")
        text = (
            html_to_text(str(html))
            if html
            else str(item.get("content_text") or item.get("summary") or "")
        )
        published = _iso(item.get("date_published")) or _iso(item.get("date_modified"))
        link = str(item.get("url") or item.get("external_url") or "")
        item_title = str(item.get("title") or "")
        out.entries.append(
            Entry(
                id=entry_key(str(item.get("id") or ""), link, item_title, published),
                link=link,
                title=item_title,
                text=text.strip(),
                author=_json_author(item) or feed_author or title,
                published=published,
            )
        )
    if skipped:
        out.problem = f"{skipped} item(s) that are not objects skipped"
    return out


def _json_author(data: Mapping[str, Any]) -> str:
    authors = data.get("authors")
    author = authors[0] if isinstance(authors, list) and authors else data.get("author")
    return str(author.get("name") or "") if isinstance(author, dict) else ""


def parse_feed(body: bytes, content_type: str, url: str) -> ParsedFeed:
    """Any supported feed document → entries (and what is wrong with it, if anything)."""
    if not body.strip():
        return ParsedFeed(problem="empty document")
    kind = content_type.split(";", 1)[0].strip().lower()
    if "json" in kind or body.lstrip()[:1] == b"{":
        return parse_json_feed(body)
    return parse_xml(body, content_type, url)


# ---------------------------------------------------------------------------------------------
# The source


@dataclass
class FeedState:
    url: str
    interval: float
    seen: list[str] = field(default_factory=list)
    etag: str | None = None
    modified: str | None = None
    due: float = 0.0
    failing: str = ""
    disabled: bool = False
    backoff: Backoff = field(init=False)

    def __post_init__(self) -> None:
        # A failing feed is retried sooner than its interval at first, then ever more rarely.
        self.backoff = Backoff(base=min(self.interval, 30.0), cap=max(self.interval, 3600.0))

    def cursor(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seen": self.seen}
        if self.etag:
            out["etag"] = self.etag
        if self.modified:
            out["modified"] = self.modified
        return out


class RssSource(Source):
    type = "rss"

    def __init__(self, name: str, settings: RssSourceConfig) -> None:
        super().__init__(name)
        self.settings = settings
        self.timeout = settings.timeout.total_seconds()
        default_interval = settings.interval.total_seconds()
        self.feeds: list[FeedState] = []
        for feed in settings.feeds:
            if isinstance(feed, RssFeed):
                interval = feed.interval.total_seconds() if feed.interval else default_interval
                self.feeds.append(FeedState(feed.url, interval))
            else:
                self.feeds.append(FeedState(feed, default_interval))
        self.api = HttpApi(name, "", timeout=self.timeout, headers={"Accept": ACCEPT})

    # -- cursor ---------------------------------------------------------------------------------

    def restore(self, cursor: str | None) -> None:
        try:
            data = json.loads(cursor) if cursor else {}
        except ValueError:
            data = {}
        feeds = data.get("feeds") if isinstance(data, dict) else None
        if not isinstance(feeds, dict):
            return
        for state in self.feeds:
            saved = feeds.get(state.url)
            if not isinstance(saved, dict):
                continue
            seen = saved.get("seen")
            state.seen = [str(s) for s in seen] if isinstance(seen, list) else []
            state.etag = saved.get("etag") if isinstance(saved.get("etag"), str) else None
            state.modified = (
                saved.get("modified") if isinstance(saved.get("modified"), str) else None
            )

    def cursor(self) -> str:
        feeds = {state.url: state.cursor() for state in self.feeds}
        return json.dumps({"feeds": feeds}, ensure_ascii=False, separators=(",", ":"))

    # -- fetching -------------------------------------------------------------------------------

    async def fetch(self, state: FeedState) -> list[Mention]:
        """New entries of one feed (raises SourceError when the feed cannot be fetched)."""
        headers: dict[str, str] = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.modified:
            headers["If-Modified-Since"] = state.modified
        response = await self.api.request("GET", state.url, headers=headers, ok=(304,))
        if response.status_code == 304:
            return []
        parsed = parse_feed(
            response.content, response.headers.get("content-type", ""), str(response.url)
        )
        if parsed.problem:
            got = f"; {len(parsed.entries)} entries read" if parsed.entries else ""
            self.health.warn(f"{state.url}: {parsed.problem}{got}")
        if not parsed.entries and parsed.problem:
            raise SourceError(f"{state.url}: {parsed.problem}")
        # Validators are kept only for a sound document: a truncated answer may carry the full
        # one's ETag, and a 304 to it next time would hide the entries it lost.
        sound = not parsed.problem
        state.etag = (response.headers.get("etag") or None) if sound else None
        state.modified = (response.headers.get("last-modified") or None) if sound else None
        seen = set(state.seen)
        fresh: list[Mention] = []
        for entry in reversed(parsed.entries):  # feeds list newest first; hand on oldest first
            if entry.id in seen:
                continue
            seen.add(entry.id)
            state.seen.append(entry.id)
            fresh.append(self._mention(state.url, parsed.title, entry))
        keep = max(KEEP_SEEN, 2 * len(parsed.entries))
        del state.seen[:-keep]
        return fresh

    def _mention(self, url: str, feed_title: str, entry: Entry) -> Mention:
        text = entry.title
        if entry.text and entry.text != entry.title:
            text = f"{entry.title}\n\n{entry.text}" if entry.title else entry.text
        external_id = entry.id if ":" in entry.id else f"{url}#{entry.id}"
        author = entry.author or feed_title or (urlsplit(url).hostname or url)
        return Mention(
            source=self.name,
            external_id=external_id,
            url=entry.link,
            author=Author(handle=author, display_name=feed_title),
            text=text or "(no text)",
            created_at=entry.published or utcnow(),
            reply_to_id=entry.reply_to,
            raw={"feed": url, "undated": entry.published is None},
        )

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        if not self.feeds:
            self.health.set(HealthState.FAILING, "no feeds configured")
            return
        self.restore(cursor)
        loop = asyncio.get_running_loop()
        self.health.set(HealthState.CONNECTED, f"{len(self.feeds)} feed(s)")
        while True:
            now = loop.time()
            for state in self.feeds:
                if state.disabled or state.due > now:
                    continue
                try:
                    mentions = await self.fetch(state)
                except SourceError as exc:
                    self._failed(state, exc, loop.time())
                    continue
                state.failing = ""
                state.backoff.reset()
                state.due = loop.time() + state.interval
                self.health.fetched += len(mentions)
                yield Fetched(mentions, self.cursor())
            self._summarise()
            live = [s for s in self.feeds if not s.disabled]
            if not live:
                raise SourceError("every feed was refused (HTTP 401/403)", fatal=True)
            if all(s.failing for s in live):
                wait = max(0.0, min(s.due for s in live) - loop.time())
                raise SourceError(f"every feed is failing: {live[0].failing}", retry_after=wait)
            wait = max(0.0, min(s.due for s in live) - loop.time())
            await asyncio.sleep(wait)

    def _failed(self, state: FeedState, exc: SourceError, now: float) -> None:
        state.failing = str(exc)
        self.health.errors += 1
        if exc.fatal:
            state.disabled = True
            self.health.warn(f"{state.url}: stopped: {exc}")
            return
        delay = state.backoff.next_delay(exc.retry_after)
        state.due = now + delay
        self.health.warn(f"{state.url}: {exc}; next try in {delay:.0f}s")

    def _summarise(self) -> None:
        failing = [s for s in self.feeds if s.failing]
        if failing:
            first = failing[0]
            self.health.set(
                HealthState.CONNECTED,
                f"{len(self.feeds) - len(failing)}/{len(self.feeds)} feeds ok; "
                f"failing: {first.failing}",
            )
        else:
            self.health.set(HealthState.CONNECTED, f"{len(self.feeds)} feed(s) ok")

    backfill_limits = "a feed holds only its latest entries (often 10 to 50); older ones are gone"

    async def backfill(
        self, since: datetime, until: datetime, skip: Collection[str] = ()
    ) -> AsyncIterator[HistoryPage]:
        """Every entry each feed holds now (no conditional request, the live `seen` list and
        validators untouched); undated entries cannot be placed in time and are left out."""
        for state in self.feeds:
            if state.url in skip:
                continue
            response = await self.api.request("GET", state.url)
            parsed = parse_feed(
                response.content, response.headers.get("content-type", ""), str(response.url)
            )
            if parsed.problem:
                got = f"; {len(parsed.entries)} entries read" if parsed.entries else ""
                self.health.warn(f"{state.url}: {parsed.problem}{got}")
            mentions = [
                self._mention(state.url, parsed.title, entry)
                for entry in parsed.entries
                if entry.published is not None
            ]
            self.health.fetched += len(mentions)
            # A malformed feed is not retried: waiting will not mend it (the warning says so).
            yield HistoryPage(state.url, mentions, done=True)

    async def check(self) -> list[Check]:
        """One line per feed: fetched and parsed (feeds need no credentials)."""
        checks: list[Check] = []
        for state in self.feeds:
            what = f"feed {state.url}"
            try:
                response = await self.api.request("GET", state.url)
            except SourceError as exc:
                fix = "check the URL" if self.api.last_status else "check the URL and the network"
                checks.append(Check(what, CheckStatus.FAIL, str(exc), fix))
                continue
            parsed = parse_feed(
                response.content, response.headers.get("content-type", ""), str(response.url)
            )
            if parsed.problem and not parsed.entries:
                checks.append(Check(what, CheckStatus.FAIL, parsed.problem, "check the URL"))
            elif parsed.problem:
                checks.append(Check(what, CheckStatus.WARN, parsed.problem, "tell the site"))
            else:
                checks.append(
                    Check(what, CheckStatus.OK, f"a feed ({len(parsed.entries)} entries)")
                )
        return checks or [Check("feeds", CheckStatus.FAIL, "no feeds configured", "add feeds")]

    async def aclose(self) -> None:
        await self.api.aclose()
