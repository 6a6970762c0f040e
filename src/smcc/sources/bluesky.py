"""The `bluesky` source: the AT Protocol's XRPC API over httpx (through `smcc.sources.http`).

Signs in with an app password (`com.atproto.server.createSession`; the account is the config's
`handle`, the password the credential `app_password`) and keeps the session alive with
`com.atproto.server.refreshSession` when the access token expires. Listens by polling every
`interval`:

* `app.bsky.notification.listNotifications` for mentions, replies and quotes of the account;
* `app.bsky.feed.searchPosts` (sort=latest, `since`) for each configured term.

No public recording of `searchPosts` exists: its request and answer are built from the lexicon
(`app.bsky.feed.searchPosts`: `q`, `sort`, `since`, `limit`, `cursor` → `{posts: postView[],
cursor}`) and the post views in the AppView's own test snapshots, which share the `postView` shape.

The cursor is one JSON string: for each timeline the newest `indexedAt` seen. Every timeline is
read newest first until it reaches that time, and is yielded only when complete, so a fault half
way re-reads it (the pipeline drops what it already has).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

import httpx

from smcc.config import BlueskySourceConfig, Brand, Config
from smcc.models import Author, Engagement, Mention, utcnow
from smcc.sources.base import (
    Check,
    CheckStatus,
    Fetched,
    HealthState,
    HistoryPage,
    Source,
    SourceError,
    parse_time,
)
from smcc.sources.http import Credentials, HttpApi, http_checks, shape_error
from smcc.sources.jetstream import DEFAULT_URL as JETSTREAM_URL
from smcc.sources.jetstream import Jetstream, concerns, event_post, probe, resume_from
from smcc.sources.positions import Reader, dump_positions, load_positions, poll_round

PUBLIC_PDS = "https://bsky.social"
NOTIFICATION_REASONS = ("mention", "reply", "quote")
PAGE_SIZE = 100
MAX_PAGES = 20
BACKFILL_PAGES = 100
"""Pages of history per timeline and backfill (10,000 posts of a search)."""
EXPIRED = {"ExpiredToken", "InvalidToken"}


def post_url(handle: str, uri: str) -> str:
    """The bsky.app address of `at://did/app.bsky.feed.post/rkey`."""
    return f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"


def _ref(value: object) -> dict[str, str] | None:
    if isinstance(value, Mapping) and isinstance(value.get("uri"), str):
        return {"uri": value["uri"], "cid": str(value.get("cid", ""))}
    return None


def record_to_mention(
    *,
    uri: str,
    cid: str,
    author: Mapping[str, Any],
    record: Mapping[str, Any],
    source: str,
    counts: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Mention:
    """A post record (with its author view) as a Mention; raises on a record that is not one."""
    text = record.get("text")
    if not isinstance(text, str):
        raise ValueError("record has no text")
    created = parse_time(record.get("createdAt"))
    if created is None:
        raise ValueError("record has no valid createdAt")
    handle = str(author.get("handle") or author.get("did") or "")
    if not handle:
        raise ValueError("author has neither handle nor did")
    reply: Mapping[str, Any] = record.get("reply") or {}
    if not isinstance(reply, Mapping):
        raise ValueError("reply is not an object")
    parent, root = _ref(reply.get("parent")), _ref(reply.get("root"))
    counts = counts or {}

    def count(key: str) -> int:
        value = counts.get(key)
        return value if isinstance(value, int) and value >= 0 else 0

    return Mention(
        source=source,
        external_id=uri,
        url=post_url(handle, uri),
        author=Author(
            handle=handle,
            display_name=str(author.get("displayName") or ""),
            followers=count_of(author, "followersCount"),
            external_id=str(author["did"]) if author.get("did") else None,
        ),
        text=text,
        created_at=created,
        reply_to_id=parent["uri"] if parent else None,
        conversation_id=root["uri"] if root else uri,
        engagement=Engagement(
            likes=count("likeCount"),
            reposts=count("repostCount"),
            replies=count("replyCount"),
            quotes=count("quoteCount"),
        ),
        raw={
            "platform": "bluesky",
            "uri": uri,
            "cid": cid,
            # What a reply to this post needs: its thread's root (itself when it starts one).
            "root": root or {"uri": uri, "cid": cid},
            **(extra or {}),
        },
    )


def count_of(view: Mapping[str, Any], key: str) -> int:
    value = view.get(key)
    return value if isinstance(value, int) and value >= 0 else 0


def post_view_to_mention(post: Mapping[str, Any], source: str) -> Mention:
    """An `app.bsky.feed.defs#postView` (search results, threads, timelines) as a Mention."""
    author = post.get("author")
    record = post.get("record")
    if not isinstance(author, Mapping) or not isinstance(record, Mapping):
        raise ValueError("post view without author or record")
    return record_to_mention(
        uri=str(post["uri"]),
        cid=str(post.get("cid", "")),
        author=author,
        record=record,
        source=source,
        counts=post,
        extra={"indexed_at": post.get("indexedAt")},
    )


def notification_to_mention(item: Mapping[str, Any], source: str) -> Mention | None:
    """A notification of a mention, reply or quote as a Mention; None for the other reasons."""
    if item.get("reason") not in NOTIFICATION_REASONS:
        return None
    author, record = item.get("author"), item.get("record")
    if not isinstance(author, Mapping) or not isinstance(record, Mapping):
        raise ValueError("notification without author or record")
    return record_to_mention(
        uri=str(item["uri"]),
        cid=str(item.get("cid", "")),
        author=author,
        record=record,
        source=source,
        extra={"reason": item["reason"], "indexed_at": item.get("indexedAt")},
    )


def thread_to_mentions(thread: Mapping[str, Any], source: str) -> list[Mention]:
    """Every readable post of a `threadViewPost` (ancestors and replies), oldest first."""
    found: dict[str, Mention] = {}

    def walk(node: object) -> None:
        if not isinstance(node, Mapping):
            return
        post = node.get("post")
        if isinstance(post, Mapping):
            try:
                mention = post_view_to_mention(post, source)
            except (KeyError, ValueError):
                pass  # a deleted or blocked post is shown by the app as a placeholder
            else:
                found[mention.external_id] = mention
        walk(node.get("parent"))
        replies = node.get("replies")
        if isinstance(replies, list):
            for reply in replies:
                walk(reply)

    walk(thread)
    return sorted(found.values(), key=lambda m: m.created_at)


def jetstream_event_to_mention(event: Mapping[str, Any], source: str) -> Mention | None:
    """A Jetstream v1 `commit` event that creates a post, as a Mention (handle unknown: did)."""
    commit = event.get("commit")
    if event.get("kind") != "commit" or not isinstance(commit, Mapping):
        return None
    if commit.get("operation") != "create" or commit.get("collection") != "app.bsky.feed.post":
        return None
    did = str(event["did"])
    uri = f"at://{did}/app.bsky.feed.post/{commit['rkey']}"
    record = commit.get("record")
    if not isinstance(record, Mapping):
        raise ValueError("post commit without a record")
    return record_to_mention(
        uri=uri,
        cid=str(commit.get("cid", "")),
        author={"did": did},
        record=record,
        source=source,
        extra={"time_us": event.get("time_us")},
    )


def load_cursor(cursor: str | None) -> dict[str, str] | None:
    """The newest position of every timeline; {} for no cursor, None for one that cannot be read."""
    return load_positions(cursor, "seen", str)


def dump_cursor(seen: Mapping[str, str]) -> str:
    return dump_positions("seen", seen)


class BlueskySource(Source):
    type = "bluesky"
    can_reply: ClassVar[bool] = True
    can_post: ClassVar[bool] = True

    def __init__(
        self, name: str, config: BlueskySourceConfig, brands: Iterable[Brand], app: Config
    ) -> None:
        super().__init__(name)
        self.config = config
        terms = config.query or [t for b in brands for t in b.terms()]
        self.terms = list(dict.fromkeys(t for t in terms if t.strip()))
        self._app = app
        self._api: HttpApi | None = None
        self._did = ""
        self._refresh_jwt = ""

    # -- session

    def api(self) -> HttpApi:
        if self._api is None:
            self._api = HttpApi(
                self.name,
                self.config.base_url or PUBLIC_PDS,
                timeout=self.config.timeout.total_seconds(),
            )
        return self._api

    def _credentials(self) -> Credentials:
        creds = Credentials.lookup(self._app, self.name, ["app_password"])
        if not self.config.handle:
            raise SourceError(
                f"source '{self.name}': set `handle` (the account that signs in)", fatal=True
            )
        creds.require()
        return creds

    def _set_session(self, body: object) -> None:
        if not isinstance(body, Mapping) or not all(
            isinstance(body.get(k), str) for k in ("accessJwt", "refreshJwt", "did")
        ):
            raise shape_error("session", "no accessJwt/refreshJwt/did in the answer")
        api = self.api()
        api.add_secret(body["refreshJwt"])
        api.set_header("Authorization", f"Bearer {body['accessJwt']}")
        self._refresh_jwt, self._did = body["refreshJwt"], body["did"]

    async def login(self) -> None:
        creds = self._credentials()
        api = self.api()
        password = creds.get("app_password") or ""
        api.add_secret(password)
        api.set_header("Authorization", None)
        response = await api.request(
            "POST",
            "/xrpc/com.atproto.server.createSession",
            json_body={"identifier": self.config.handle, "password": password},
        )
        self._set_session(api.decode(response, dict))

    async def _refresh(self) -> None:
        """A new access token from the refresh token; a new session when that has expired too."""
        api = self.api()
        response = await api.request(
            "POST",
            "/xrpc/com.atproto.server.refreshSession",
            headers={"Authorization": f"Bearer {self._refresh_jwt}"},
            ok=(400, 401),
        )
        if response.status_code in (400, 401):
            await self.login()
            return
        self._set_session(api.decode(response, dict))

    async def call(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One authenticated XRPC call; an expired access token is refreshed once."""
        if not self._did:
            await self.login()
        api = self.api()
        for attempt in (1, 2):
            response = await api.request(
                method, f"/xrpc/{nsid}", params=params, json_body=body, ok=(400, 401)
            )
            if response.status_code in (400, 401):
                if attempt == 1 and _xrpc_error(response) in EXPIRED:
                    await self._refresh()
                    continue
                raise api.error_for(response)
            return api.decode(response, dict)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        if self._api is not None:
            await self._api.aclose()
            self._api = None

    # -- listening

    async def _page(
        self, nsid: str, key: str, params: dict[str, Any], cursor: str | None
    ) -> tuple[list[Any], str | None]:
        """One page of a paged XRPC list (`key`: its array) and the cursor to the next page."""
        if cursor:
            params = {**params, "cursor": cursor}
        body = await self.call("GET", nsid, params=params)
        items = body.get(key)
        if not isinstance(items, list):
            raise shape_error(nsid.rsplit(".", 1)[-1], f"`{key}` is not a list")
        following = body.get("cursor")
        return items, following if isinstance(following, str) else None

    async def _notification_page(self, cursor: str | None) -> tuple[list[Any], str | None]:
        params = {"limit": 50, "reasons": list(NOTIFICATION_REASONS)}
        return await self._page(
            "app.bsky.notification.listNotifications", "notifications", params, cursor
        )

    async def _notifications(self, since: str | None) -> tuple[list[Mention], str | None]:
        mentions: list[Mention] = []
        newest: str | None = None
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            items, cursor = await self._notification_page(cursor)
            reached = False
            for item in items:
                indexed = item.get("indexedAt") if isinstance(item, Mapping) else None
                if not isinstance(indexed, str):
                    self.health.warn("notification without indexedAt skipped")
                    continue
                newest = max(newest or indexed, indexed)
                if since and indexed < since:
                    reached = True
                    continue
                self._keep(mentions, lambda i=item: notification_to_mention(i, self.name))
            if reached or not cursor or not since:
                break
        return mentions, newest

    async def _search(self, term: str, since: str | None) -> tuple[list[Mention], str | None]:
        mentions: list[Mention] = []
        newest: str | None = None
        cursor: str | None = None
        params: dict[str, Any] = {"q": term, "sort": "latest", "limit": PAGE_SIZE}
        if since:
            params["since"] = since
        for _ in range(MAX_PAGES):
            posts, cursor = await self._page("app.bsky.feed.searchPosts", "posts", params, cursor)
            for post in posts:
                indexed = post.get("indexedAt") if isinstance(post, Mapping) else None
                if isinstance(indexed, str):
                    newest = max(newest or indexed, indexed)
                self._keep(mentions, lambda p=post: post_view_to_mention(p, self.name))
            if not cursor or not since or not posts:
                break
        return mentions, newest

    def _keep(self, out: list[Mention], parse: Any) -> None:
        try:
            mention = parse()
        except (KeyError, ValueError, TypeError) as exc:
            self.health.warn(f"unreadable post skipped ({type(exc).__name__}: {exc})")
            return
        if mention is not None:
            out.append(mention)

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        seen = load_cursor(cursor)
        if seen is None:
            self.health.warn("cursor unreadable; starting from the newest posts")
            seen = {}
        self._credentials()
        if self.config.jetstream:
            async for fetched in self._jetstream(seen):
                yield fetched
            return
        while True:
            timelines: list[tuple[str, Reader[str]]] = [("notifications", self._notifications)]
            timelines += [(f"search:{t}", partial(self._search, t)) for t in self.terms]
            async for fetched in poll_round(timelines, seen, "seen", self.health):
                yield fetched
            self.health.set(HealthState.CONNECTED)
            await asyncio.sleep(self.config.interval.total_seconds())

    # -- history

    backfill_limits = (
        "search reaches what the AppView has indexed (searchPosts since/until); "
        "notifications as far back as the account's list goes"
    )

    async def backfill(
        self, since: datetime, until: datetime, skip: Collection[str] = ()
    ) -> AsyncIterator[HistoryPage]:
        """Notifications paged back with their cursor until past `since`; each term searched
        with `since`/`until` (the lexicon's own window) and paged with its cursor."""
        self._credentials()
        if "notifications" not in skip:
            cursor: str | None = None
            for page_number in range(1, BACKFILL_PAGES + 1):
                items, cursor = await self._notification_page(cursor)
                mentions: list[Mention] = []
                for item in items:
                    self._keep(mentions, lambda i=item: notification_to_mention(i, self.name))
                times = [
                    t
                    for i in items
                    if isinstance(i, Mapping) and (t := parse_time(i.get("indexedAt"))) is not None
                ]
                done = (
                    not cursor
                    or not items
                    or (bool(times) and min(times) < since)
                    or page_number == BACKFILL_PAGES
                )
                yield HistoryPage("notifications", mentions, done)
                if done:
                    break
        window = {"since": _iso(since), "until": _iso(until)}
        for term in self.terms:
            key = f"search:{term}"
            if key in skip:
                continue
            cursor = None
            params = {"q": term, "sort": "latest", "limit": PAGE_SIZE, **window}
            for page_number in range(1, BACKFILL_PAGES + 1):
                posts, cursor = await self._page(
                    "app.bsky.feed.searchPosts", "posts", params, cursor
                )
                mentions = []
                for post in posts:
                    self._keep(mentions, lambda p=post: post_view_to_mention(p, self.name))
                done = not cursor or not posts or page_number == BACKFILL_PAGES
                yield HistoryPage(key, mentions, done)
                if done:
                    break

    # -- doctor

    async def check(self) -> list[Check]:
        """The app password present, the PDS reachable, a session created with it, and the
        session accepted by an authenticated call (the unread count: cheap, changes nothing)."""
        if not self.config.handle:
            return [
                Check(
                    "config",
                    CheckStatus.FAIL,
                    "no `handle` set (the account that signs in)",
                    f'set handle = "you.bsky.social" under [sources.{self.name}]',
                )
            ]
        credentials = Credentials.lookup(self._app, self.name, ["app_password"])
        checks = await http_checks(
            self.api(),
            credentials,
            "/xrpc/app.bsky.notification.getUnreadCount",
            sign_in=self.login,
        )
        if self.config.jetstream:
            url = self.config.jetstream_url or JETSTREAM_URL
            try:
                seen = await probe(url, self.config.timeout.total_seconds())
            except SourceError as exc:
                checks.append(Check("jetstream", CheckStatus.FAIL, str(exc), "check jetstream_url"))
            else:
                checks.append(Check("jetstream", CheckStatus.OK, seen))
        return checks

    async def _jetstream(self, seen: dict[str, str]) -> AsyncIterator[Fetched]:
        """Posts for the brand from Jetstream, from the stored time cursor (`seen["jetstream"]`).

        A batch is handed on as soon as it holds a post, else once a second to move the cursor
        past the network's other posts.
        """
        if not self._did:
            await self.login()  # the account's DID: its mentions, replies and quotes
        terms = [t.casefold() for t in self.terms]
        timeout = self.config.timeout.total_seconds()
        stream = Jetstream(self.config.jetstream_url, timeout=timeout, idle=max(3 * timeout, 1.0))
        stored = seen.get("jetstream")
        newest = int(stored) if stored and stored.isdigit() else None
        batch: list[Mention] = []
        handed = time.monotonic()
        async for event in stream.events(resume_from(stored)):
            if self.health.state is not HealthState.CONNECTED:
                self.health.set(HealthState.CONNECTED, "jetstream")
            stamp = event.get("time_us")
            if isinstance(stamp, int):
                newest = stamp if newest is None else max(newest, stamp)
            record = event_post(event)
            if record is not None and concerns(record, terms, self._did):
                self._keep(batch, lambda e=event: jetstream_event_to_mention(e, self.name))
            for warning in stream.warnings:
                self.health.warn(warning)
            stream.warnings.clear()
            now = time.monotonic()
            if newest is not None and (batch or now - handed >= 1.0):
                seen["jetstream"] = str(newest)
                self.health.fetched += len(batch)
                yield Fetched(batch, dump_cursor(seen))
                batch, handed = [], now

    # -- thread, reply, post

    async def thread(self, mention: Mention) -> list[Mention]:
        body = await self.call(
            "GET",
            "app.bsky.feed.getPostThread",
            params={"uri": mention.external_id, "depth": 10, "parentHeight": 80},
        )
        thread = body.get("thread")
        if not isinstance(thread, Mapping):
            raise shape_error("getPostThread", "`thread` is not an object")
        return thread_to_mentions(thread, self.name)

    async def _create(self, text: str, reply: Mapping[str, Any] | None) -> str:
        if not self._did:
            await self.login()
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": utcnow().isoformat().replace("+00:00", "Z"),
        }
        if reply:
            record["reply"] = reply
        body = await self.call(
            "POST",
            "com.atproto.repo.createRecord",
            body={"repo": self._did, "collection": "app.bsky.feed.post", "record": record},
        )
        if not isinstance(body.get("uri"), str):
            raise shape_error("createRecord", "no uri in the answer")
        return str(body["uri"])

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        # createRecord takes no idempotency key; the outbox checks for the post before a retry.
        view = await self._live_post(mention.external_id)
        cid = str(view.get("cid") or mention.raw.get("cid", ""))
        if not cid:
            raise SourceError(f"cannot reply to {mention.external_id}: its cid is unknown")
        parent = {"uri": mention.external_id, "cid": cid}
        record = view.get("record")
        reply = record.get("reply") if isinstance(record, Mapping) else None
        root = (
            (_ref(reply.get("root")) if isinstance(reply, Mapping) else None)
            or _ref(mention.raw.get("root"))
            or parent
        )
        return await self._create(text, {"root": root, "parent": parent})

    async def _live_post(self, uri: str) -> Mapping[str, Any]:
        """The AppView's view of the post `uri`; a refusal (404) when it is gone. The PDS stores
        a reply whatever its parent, so a reply to a deleted post would be "sent" and seen by
        nobody: getPosts leaves out posts that were deleted (or that we may not see)."""
        body = await self.call("GET", "app.bsky.feed.getPosts", params={"uris": [uri]})
        posts = body.get("posts")
        if not isinstance(posts, list):
            raise shape_error("getPosts", "`posts` is not a list")
        for post in posts:
            if isinstance(post, Mapping) and post.get("uri") == uri:
                return post
        raise SourceError(
            f"the post to reply to is gone: deleted, or not visible to this account ({uri})",
            status=404,
        )

    async def post(self, text: str, idempotency_key: str) -> str:
        return await self._create(text, None)

    async def find_sent(self, text: str, parent: Mention | None, since: datetime) -> str | None:
        """Our post (a reply to `parent`, or a top-level post) with this text since `since`,
        among the newest 50 records of our repo (`com.atproto.repo.listRecords`, newest first):
        the outbox asks before it sends again, since createRecord takes no idempotency key."""
        if not self._did:
            await self.login()
        body = await self.call(
            "GET",
            "com.atproto.repo.listRecords",
            params={"repo": self._did, "collection": "app.bsky.feed.post", "limit": 50},
        )
        records = body.get("records")
        if not isinstance(records, list):
            raise shape_error("listRecords", "no records array")
        wanted = " ".join(text.split())
        for record in records:
            value = record.get("value") if isinstance(record, Mapping) else None
            if not isinstance(value, Mapping) or not isinstance(record.get("uri"), str):
                continue
            reply = value.get("reply")
            answered = reply.get("parent") if isinstance(reply, Mapping) else None
            answered_uri = answered.get("uri") if isinstance(answered, Mapping) else None
            if answered_uri != (parent.external_id if parent is not None else None):
                continue
            try:
                created = datetime.fromisoformat(str(value.get("createdAt")).replace("Z", "+00:00"))
            except ValueError:
                continue
            if created.tzinfo is None or created < since:
                continue
            if " ".join(str(value.get("text") or "").split()) == wanted:
                return str(record["uri"])
        return None


def _iso(when: datetime) -> str:
    """A datetime as the lexicon's `datetime` format (UTC, Z)."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _xrpc_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
