"""The `mastodon` source: mentions, hashtag timelines and search of one Mastodon account.

Listens to three kinds of endpoint, each with its own position in the one cursor string
(JSON ``{"notifications": "21", "tag:kopi": "1170…", "search:nusantel": "1170…"}``):

- notifications of type mention (``/api/v1/notifications?types[]=mention``, needs the token),
- the timelines of the configured hashtags (default: the brands' hashtags),
- statuses search for the configured terms (default: the brands' and competitors' names and
  keywords; Mastodon finds only what its search index allows, often just opted-in posts).

With ``streaming = true`` (the default) notifications and hashtags arrive over server-sent events
(``/api/v1/streaming/user/notification``, ``/api/v1/streaming/hashtag?tag=…``); search is polled.
The streams are opened first and the endpoints then polled from the cursor, so nothing that came
while smcc was away (or while a stream was down) is missed. When a stream drops, stalls or is
refused, the source falls back to polling every ``interval`` and tries the stream again with
backoff. Polling pages forward with ``min_id`` until caught up; duplicates that a stream and a
poll both deliver are dropped by the pipeline (same source + status id).

Status HTML becomes plain text (line breaks kept, links as text); a content warning is kept in
front of the text. Replies and posts go to ``POST /api/v1/statuses`` with an ``Idempotency-Key``
header, so a retried send never posts twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from smcc.config import Brand, Config, MastodonSourceConfig
from smcc.models import Author, Engagement, Mention
from smcc.sources.base import (
    Backoff,
    Check,
    Fetched,
    HealthState,
    HistoryPage,
    Source,
    SourceError,
    parse_time,
)
from smcc.sources.htmltext import html_to_text
from smcc.sources.http import Credentials, HttpApi, http_checks, shape_error

DEFAULT_BASE_URL = "https://mastodon.social"
PAGE = 40
"""Mastodon's maximum page size for timelines, notifications and search."""
MAX_PAGES = 25
"""Pages fetched per endpoint and round when catching up (1,000 statuses); the rest follows in
the next round, so one busy hashtag cannot starve the others."""

Kind = Literal["notifications", "tag", "search"]


@dataclass(frozen=True)
class Endpoint:
    key: str
    """Its name in the cursor: 'notifications', 'tag:NAME' or 'search:TERMS'."""
    kind: Kind
    path: str
    params: Mapping[str, Any]
    stream_path: str | None = None
    stream_params: Mapping[str, Any] | None = None


# ---------------------------------------------------------------------------------------------
# Parsing


def _id_key(value: str) -> tuple[int, str]:
    """Mastodon ids are decimal strings of growing length; compare them as numbers."""
    return (len(value), value) if value.isdigit() else (0, value)


def newest(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=_id_key)


def status_text(status: Mapping[str, Any]) -> str:
    text = html_to_text(str(status.get("content") or ""))
    warning = str(status.get("spoiler_text") or "").strip()
    return f"CW: {warning}\n\n{text}" if warning else text


def parse_status(source: str, status: Mapping[str, Any], via: str) -> Mention:
    """A Mastodon status entity → Mention; raises KeyError/TypeError/ValueError on a bad one."""
    if isinstance(status.get("reblog"), dict):
        status = status["reblog"]  # a boost: the post itself is what was said
    account = status["account"]
    created = datetime.fromisoformat(str(status["created_at"]).replace("Z", "+00:00"))
    status_id = str(status["id"])
    reply_to = status.get("in_reply_to_id")
    return Mention(
        source=source,
        external_id=status_id,
        url=str(status.get("url") or status.get("uri") or ""),
        author=Author(
            handle=str(account["acct"]),
            display_name=str(account.get("display_name") or ""),
            followers=max(0, int(account.get("followers_count") or 0)),
            external_id=str(account["id"]),
        ),
        text=status_text(status),
        created_at=created,
        reply_to_id=str(reply_to) if reply_to else None,
        # Mastodon has no conversation id in its API: a post that answers nothing starts its
        # own thread; for a reply the thread root is known only after a context fetch.
        conversation_id=None if reply_to else status_id,
        engagement=Engagement(
            likes=int(status.get("favourites_count") or 0),
            reposts=int(status.get("reblogs_count") or 0),
            replies=int(status.get("replies_count") or 0),
            quotes=int(status.get("quotes_count") or 0),
        ),
        raw={
            "via": via,
            "visibility": status.get("visibility"),
            "language": status.get("language"),
            "tags": [t.get("name") for t in status.get("tags") or [] if isinstance(t, dict)],
            "mentions": [
                m.get("acct") for m in status.get("mentions") or [] if isinstance(m, dict)
            ],
            "in_reply_to_account_id": status.get("in_reply_to_account_id"),
        },
    )


def parse_notification(source: str, notification: Mapping[str, Any]) -> Mention | None:
    """A mention notification → Mention (None for other types or a mention without status)."""
    if notification.get("type") != "mention" or not isinstance(notification.get("status"), dict):
        return None
    mention = parse_status(source, notification["status"], "notifications")
    mention.raw["notification_id"] = str(notification["id"])
    return mention


# ---------------------------------------------------------------------------------------------
# The source


def _default_terms(config: Config) -> list[str]:
    terms: list[str] = []
    for brand in [*config.brands, *config.competitors]:
        terms.extend([brand.name, *brand.keywords])
    return list(dict.fromkeys(t for t in terms if t.strip()))


def _default_hashtags(brands: Iterable[Brand]) -> list[str]:
    return list(dict.fromkeys(tag.lstrip("#") for b in brands for tag in b.hashtags))


class StreamDown(SourceError):
    """A stream failed: the source falls back to polling (unlike a failed poll, which the
    pipeline backs off from)."""


class MastodonSource(Source):
    type = "mastodon"
    can_reply = True
    can_post = True
    idempotency_window = timedelta(minutes=55)
    """Mastodon keeps an Idempotency-Key for an hour (PostStatusService); a margin is kept."""

    def __init__(self, name: str, settings: MastodonSourceConfig, config: Config) -> None:
        super().__init__(name)
        self.settings = settings
        self.interval = settings.interval.total_seconds()
        self.timeout = settings.timeout.total_seconds()
        self.credentials = Credentials.lookup(
            config, name, ["access_token"] if settings.notifications else [], ["access_token"]
        )
        token = self.credentials.get("access_token")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        base_url = settings.base_url or DEFAULT_BASE_URL
        self.api = HttpApi(name, base_url, timeout=self.timeout, headers=headers)
        self.stream_api = (
            HttpApi(name, settings.streaming_url, timeout=self.timeout, headers=headers)
            if settings.streaming_url
            else self.api
        )
        hashtags = (
            settings.hashtags if settings.hashtags is not None else _default_hashtags(config.brands)
        )
        terms = settings.query or _default_terms(config)
        self.endpoints = self._endpoints(hashtags, terms)
        self.stream_backoff = Backoff(base=self.interval, cap=max(self.interval, 600.0))
        self.streaming = False
        """True while every stream is open."""
        self._pumps: list[asyncio.Task[None]] = []
        self._account_id: str | None = None
        """Our own account's id, for finding our statuses (asked once)."""

    def _endpoints(self, hashtags: list[str], terms: list[str]) -> list[Endpoint]:
        out: list[Endpoint] = []
        if self.settings.notifications:
            out.append(
                Endpoint(
                    "notifications",
                    "notifications",
                    "/api/v1/notifications",
                    {"types[]": ["mention"]},
                    "/api/v1/streaming/user/notification",
                    {},
                )
            )
        for tag in hashtags:
            out.append(
                Endpoint(
                    f"tag:{tag}",
                    "tag",
                    f"/api/v1/timelines/tag/{tag}",
                    {},
                    "/api/v1/streaming/hashtag",
                    {"tag": tag},
                )
            )
        for term in terms:
            out.append(
                Endpoint(
                    f"search:{term}",
                    "search",
                    "/api/v2/search",
                    {"q": term, "type": "statuses", "resolve": False},
                )
            )
        return out

    # -- cursor ---------------------------------------------------------------------------------

    @staticmethod
    def decode_cursor(cursor: str | None) -> dict[str, str]:
        if not cursor:
            return {}
        try:
            data = json.loads(cursor)
        except ValueError:
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): str(v) for k, v in data.items() if isinstance(v, str | int)}

    @staticmethod
    def encode_cursor(positions: Mapping[str, str]) -> str:
        return json.dumps(dict(sorted(positions.items())), separators=(",", ":"))

    # -- polling --------------------------------------------------------------------------------

    def _parse_page(self, endpoint: Endpoint, body: Any) -> tuple[list[Mention], str | None]:
        """Mentions of one page and the page's newest id (of notifications or statuses)."""
        where = f"{self.name}: {endpoint.path}"
        if endpoint.kind == "search":
            if not isinstance(body, dict) or not isinstance(body.get("statuses"), list):
                raise shape_error(where, "no 'statuses' array in the search result")
            items = body["statuses"]
        else:
            items = body
        mentions: list[Mention] = []
        top: str | None = None
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise TypeError(f"a {type(item).__name__} in the list")
                top = newest(top, str(item["id"]))
                if endpoint.kind == "notifications":
                    mention = parse_notification(self.name, item)
                else:
                    mention = parse_status(self.name, item, endpoint.key)
            except (KeyError, TypeError, ValueError) as exc:
                self.health.warn(f"{where}: skipped an entry ({type(exc).__name__}: {exc})")
                continue
            if mention is not None:
                mentions.append(mention)
        return mentions, top

    async def poll(self, endpoint: Endpoint, positions: dict[str, str]) -> AsyncIterator[Fetched]:
        """Page forward from the endpoint's position until caught up (or MAX_PAGES)."""
        for _ in range(MAX_PAGES):
            position = positions.get(endpoint.key)
            params = {**endpoint.params, "limit": PAGE, "min_id": position}
            expect: type[Any] = dict if endpoint.kind == "search" else list
            body = await self.api.get_json(endpoint.path, params=params, expect=expect)
            mentions, top = self._parse_page(endpoint, body)
            if top is not None:
                positions[endpoint.key] = newest(position, top) or top
            self.health.fetched += len(mentions)
            if mentions or top is not None:
                yield Fetched(mentions, self.encode_cursor(positions))
            # The first run starts at the newest page: history is for `smcc backfill`.
            if position is None or top is None or len(body_items(endpoint, body)) < PAGE:
                return

    async def poll_all(
        self, positions: dict[str, str], kinds: Iterable[Kind] = ("notifications", "tag", "search")
    ) -> AsyncIterator[Fetched]:
        wanted = set(kinds)
        for endpoint in self.endpoints:
            if endpoint.kind in wanted:
                async for fetched in self.poll(endpoint, positions):
                    yield fetched

    # -- history --------------------------------------------------------------------------------

    backfill_limits = (
        "notifications and hashtag timelines page back as far as the instance keeps them; "
        "search finds only what the instance's index holds"
    )

    async def backfill(
        self, since: datetime, until: datetime, skip: Collection[str] = ()
    ) -> AsyncIterator[HistoryPage]:
        """Every endpoint paged backwards with `max_id` from `until` to `since`."""
        self.credentials.require()
        for endpoint in self.endpoints:
            if endpoint.key in skip:
                continue
            # Status ids are snowflakes (milliseconds << 16): a hashtag or search starts at
            # `until` at once. Notification ids are a plain sequence, read from the newest.
            max_id = None if endpoint.kind == "notifications" else snowflake_at(until)
            for page_number in range(1, BACKFILL_PAGES + 1):
                params = {**endpoint.params, "limit": PAGE, "max_id": max_id}
                expect: type[Any] = dict if endpoint.kind == "search" else list
                body = await self.api.get_json(endpoint.path, params=params, expect=expect)
                mentions, _ = self._parse_page(endpoint, body)
                items = [i for i in body_items(endpoint, body) if isinstance(i, dict) and "id" in i]
                oldest_id = min((str(i["id"]) for i in items), key=_id_key, default=None)
                times = [t for i in items if (t := parse_time(i.get("created_at"))) is not None]
                done = (
                    oldest_id is None
                    or oldest_id == max_id
                    or len(items) < PAGE
                    or (bool(times) and min(times) < since)
                )
                if page_number == BACKFILL_PAGES and not done:
                    self.health.warn(
                        f"{endpoint.key}: stopped after {BACKFILL_PAGES} pages of history"
                    )
                    done = True
                self.health.fetched += len(mentions)
                yield HistoryPage(endpoint.key, mentions, done)
                if done:
                    break
                max_id = oldest_id

    # -- listening ------------------------------------------------------------------------------

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        self.credentials.require()
        positions = self.decode_cursor(cursor)
        if not self.endpoints:
            self.health.set(
                HealthState.FAILING,
                "nothing to listen to: no notifications, hashtags or search terms configured",
            )
            return
        streamed = [e for e in self.endpoints if e.stream_path is not None]
        loop = asyncio.get_running_loop()
        next_stream_try = loop.time()
        while True:
            if self.settings.streaming and streamed and loop.time() >= next_stream_try:
                reason = ""
                try:
                    async for fetched in self._listen(streamed, positions):
                        yield fetched
                except StreamDown as exc:
                    if exc.fatal:
                        raise
                    reason = str(exc)
                finally:
                    self.streaming = False
                delay = self.stream_backoff.next_delay()
                next_stream_try = loop.time() + delay
                self.health.warn(f"stream down, polling: {reason}")
                self.health.set(
                    HealthState.CONNECTED,
                    f"polling every {self.interval:g}s (stream down: {reason}; retry in "
                    f"{delay:.0f}s)",
                )
            else:
                if not self.streaming and not (self.settings.streaming and streamed):
                    self.health.set(HealthState.CONNECTED, f"polling every {self.interval:g}s")
                async for fetched in self.poll_all(positions):
                    yield fetched
                await asyncio.sleep(self.interval)

    async def _listen(
        self, endpoints: list[Endpoint], positions: dict[str, str]
    ) -> AsyncIterator[Fetched]:
        """Open every stream, catch up by polling, then hand on events as they come.

        Ends only by raising SourceError (a stream failed); search is polled in between.
        """
        queue: asyncio.Queue[tuple[Endpoint, str, str] | SourceError] = asyncio.Queue()
        opened: set[str] = set()
        settled = asyncio.Event()
        """Set when every stream is open, or one has failed."""

        def opener(key: str) -> Callable[[], None]:
            def on_open() -> None:
                opened.add(key)
                if len(opened) == len(endpoints):
                    settled.set()

            return on_open

        async def pump(endpoint: Endpoint) -> None:
            assert endpoint.stream_path is not None
            try:
                async for event, data in self.stream_api.sse_events(
                    endpoint.stream_path,
                    params=endpoint.stream_params,
                    idle_timeout=self.timeout * 3,
                    on_open=opener(endpoint.key),
                ):
                    await queue.put((endpoint, event, data))
            except SourceError as exc:
                await queue.put(StreamDown(str(exc), retry_after=exc.retry_after, fatal=exc.fatal))
                settled.set()

        self._pumps = [asyncio.create_task(pump(e)) for e in endpoints]
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(settled.wait(), self.timeout)
            early: list[tuple[Endpoint, str, str] | SourceError] = []
            while not queue.empty():
                early.append(queue.get_nowait())
            for item in early:
                if isinstance(item, SourceError):
                    raise item
            if len(opened) < len(endpoints):
                raise StreamDown(f"{self.name}: streams did not open within {self.timeout:g}s")
            for item in early:
                queue.put_nowait(item)  # events that came while the other streams opened
            # Every stream is open: what came before is fetched by polling from the cursor.
            async for fetched in self.poll_all(positions):
                yield fetched
            self.streaming = True
            self.stream_backoff.reset()
            self.health.set(HealthState.CONNECTED, "streaming")
            loop = asyncio.get_running_loop()
            next_search = loop.time() + self.interval
            while True:
                try:
                    item = await asyncio.wait_for(
                        queue.get(), timeout=max(0.0, next_search - loop.time())
                    )
                except TimeoutError:
                    async for fetched in self.poll_all(positions, ("search",)):
                        yield fetched
                    next_search = loop.time() + self.interval
                    continue
                if isinstance(item, SourceError):
                    raise item
                fetched_event = self._event(item, positions)
                if fetched_event is not None:
                    yield fetched_event
        finally:
            await self._stop_pumps()

    async def _stop_pumps(self) -> None:
        pumps, self._pumps = self._pumps, []
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)

    def _event(self, item: tuple[Endpoint, str, str], positions: dict[str, str]) -> Fetched | None:
        endpoint, event, data = item
        if event != ("notification" if endpoint.kind == "notifications" else "update"):
            return None  # delete, status.update, filters_changed, …
        try:
            payload = json.loads(data)
            if not isinstance(payload, dict):
                raise TypeError("not an object")
            mention = (
                parse_notification(self.name, payload)
                if event == "notification"
                else parse_status(self.name, payload, endpoint.key)
            )
            event_id = str(payload["id"])
        except (ValueError, KeyError, TypeError) as exc:
            self.health.warn(
                f"{self.name}: skipped a {event} event on {endpoint.key} ({type(exc).__name__})"
            )
            return None
        positions[endpoint.key] = newest(positions.get(endpoint.key), event_id) or event_id
        mentions = [mention] if mention is not None else []
        self.health.fetched += len(mentions)
        return Fetched(mentions, self.encode_cursor(positions))

    # -- detail pane, replies, posts ------------------------------------------------------------

    async def thread(self, mention: Mention) -> list[Mention]:
        """Ancestors, the mention, descendants (`/api/v1/statuses/:id/context`)."""
        path = f"/api/v1/statuses/{mention.external_id}/context"
        body = await self.api.get_json(path, expect=dict)
        ancestors, descendants = body.get("ancestors"), body.get("descendants")
        if not isinstance(ancestors, list) or not isinstance(descendants, list):
            raise shape_error(f"{self.name}: {path}", "no 'ancestors'/'descendants' arrays")
        out: list[Mention] = []
        for status in ancestors:
            out.append(parse_status(self.name, status, "context"))
        out.append(mention)
        for status in descendants:
            out.append(parse_status(self.name, status, "context"))
        root = out[0].external_id
        for item in out:
            item.conversation_id = root
        return out

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        handle = mention.author.handle
        if handle and f"@{handle}".lower() not in text.lower():
            text = f"@{handle} {text}"  # Mastodon notifies only the accounts a post names
        visibility = mention.raw.get("visibility")
        body: dict[str, Any] = {"status": text, "in_reply_to_id": mention.external_id}
        if visibility in ("public", "unlisted", "private", "direct"):
            body["visibility"] = visibility  # a reply never widens who may see the thread
        return await self._send(body, idempotency_key)

    async def post(self, text: str, idempotency_key: str) -> str:
        return await self._send({"status": text}, idempotency_key)

    async def _send(self, body: dict[str, Any], idempotency_key: str) -> str:
        if not self.credentials.get("access_token"):
            raise SourceError(
                f"credentials missing: set {Credentials.env_name(self.name, 'access_token')} "
                "to reply or post",
                fatal=True,
            )
        response = await self.api.request(
            "POST",
            "/api/v1/statuses",
            json_body=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        try:
            data = self.api.decode(response, dict)
            if "id" not in data:
                raise shape_error(f"{self.name}: POST /api/v1/statuses", "no 'id' in the answer")
        except SourceError as exc:
            # A 2xx whose body is broken: the status was most likely made, its id is unknown.
            raise SourceError(str(exc), ambiguous=True, status=response.status_code) from None
        return str(data["id"])

    async def _own_account(self) -> str:
        if self._account_id is None:
            me = await self.api.get_json("/api/v1/accounts/verify_credentials", expect=dict)
            if "id" not in me:
                raise shape_error(f"{self.name}: verify_credentials", "no 'id' in the answer")
            self._account_id = str(me["id"])
        return self._account_id

    async def find_sent(self, text: str, parent: Mention | None, since: datetime) -> str | None:
        """Our status with this text since `since`: among the replies to `parent` (its context),
        or among our own recent statuses (a post, or a reply whose parent is gone: a deleted
        status has no context, but our reply to it stays)."""
        me = await self._own_account()
        candidates: Any = None
        if parent is not None:
            path = f"/api/v1/statuses/{parent.external_id}/context"
            try:
                body = await self.api.get_json(path, expect=dict)
            except SourceError as exc:
                if exc.status != 404:
                    raise
            else:
                candidates = body.get("descendants")
                if not isinstance(candidates, list):
                    raise shape_error(f"{self.name}: {path}", "no 'descendants' array")
        if candidates is None:
            path = f"/api/v1/accounts/{me}/statuses"
            candidates = await self.api.get_json(
                path, params={"limit": PAGE, "exclude_replies": parent is None}, expect=list
            )
        wanted = " ".join(text.split())
        for status in candidates:
            if not isinstance(status, dict) or not isinstance(status.get("account"), dict):
                continue
            if str(status["account"].get("id")) != me:
                continue
            if parent is not None and str(status.get("in_reply_to_id")) != parent.external_id:
                continue
            try:
                created = datetime.fromisoformat(str(status["created_at"]).replace("Z", "+00:00"))
            except (KeyError, ValueError):
                continue
            if created < since:
                continue
            said = " ".join(status_text(status).split())
            if said == wanted or said.endswith(" " + wanted):  # after the @handle we put first
                return str(status["id"])
        return None

    async def char_limit(self) -> int | None:
        """The server's `configuration.statuses.max_characters` from its instance document
        (API v2; servers before Mastodon 4.0 have only v1, which carries the same field since
        3.4, or `max_toot_chars` on some forks)."""
        for path in ("/api/v2/instance", "/api/v1/instance"):
            try:
                body = await self.api.get_json(path, expect=dict)
            except SourceError:
                continue
            found = instance_char_limit(body)
            if found is not None:
                return found
        return None

    async def check(self) -> list[Check]:
        token = self.credentials.get("access_token")
        probe = "/api/v1/accounts/verify_credentials" if token else "/api/v2/instance"
        return await http_checks(self.api, self.credentials, probe)

    async def aclose(self) -> None:
        await self._stop_pumps()
        await self.api.aclose()
        if self.stream_api is not self.api:
            await self.stream_api.aclose()


BACKFILL_PAGES = 500
"""Pages of history per endpoint and backfill (20,000 items)."""


def snowflake_at(when: datetime) -> str:
    """The first Mastodon status id after `when`: as `max_id` (exclusive) it keeps every post
    made at `when` or before."""
    return str((int(when.timestamp() * 1000) + 1) << 16)


def instance_char_limit(instance: Mapping[str, Any]) -> int | None:
    configuration = instance.get("configuration")
    statuses = configuration.get("statuses") if isinstance(configuration, Mapping) else None
    found = statuses.get("max_characters") if isinstance(statuses, Mapping) else None
    if found is None:
        found = instance.get("max_toot_chars")
    return found if isinstance(found, int) and not isinstance(found, bool) and found > 0 else None


def body_items(endpoint: Endpoint, body: Any) -> list[Any]:
    if endpoint.kind == "search":
        statuses = body.get("statuses") if isinstance(body, dict) else None
        return statuses if isinstance(statuses, list) else []
    return body if isinstance(body, list) else []
