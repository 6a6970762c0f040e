"""The `reddit` source: Reddit's OAuth API over httpx (through `smcc.sources.http`).

Why not asyncpraw: it runs its own rate limiter that sleeps inside every call (the console could
not show "backing off until T"), fetches lazily on attribute access, and would bring a second HTTP
stack (aiohttp) with its own timeouts and errors beside the shared layer every other httpx source
uses. The handful of listing endpoints smcc reads are plain JSON.

Tokens come from `{auth_url}/api/v1/access_token` (default https://www.reddit.com) with the app's
`client_id` and `client_secret`, by the first grant whose credentials are set:
`refresh_token` (an installed app authorised once), `username` + `password` (a script app), else
`client_credentials` (app-only: reads subreddits and search, but no inbox and no replies). An
expired token (401) is replaced once per call. `x-ratelimit-*` headers feed the shared budget,
which waits for the reset rather than spend a used-up budget.

Every `interval` the source reads, newest first: new posts and new comments of the configured
`subreddits`, a search of all Reddit for each term, and the inbox's mentions and comment
replies (user grants only). The cursor keeps, per listing, the `created_utc` of the newest
item; a listing is paged back to that time and yielded whole, so a fault half way re-reads it
(the pipeline drops what it already has).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

from smcc.config import Brand, Config, RedditSourceConfig
from smcc.models import Author, Engagement, Mention
from smcc.sources.base import (
    Check,
    CheckStatus,
    Fetched,
    HealthState,
    HistoryPage,
    Source,
    SourceError,
)
from smcc.sources.http import Credentials, HttpApi, http_checks, shape_error
from smcc.sources.positions import dump_positions, load_positions, poll_round

OAUTH_API = "https://oauth.reddit.com"
AUTH_HOST = "https://www.reddit.com"
PAGE_SIZE = 100
MAX_PAGES = 10
BACKFILL_PAGES = 10
"""Reddit serves at most about 1,000 items of a listing, 100 a page."""
POST_IN_LINK = re.compile(r"/comments/([a-z0-9]+)/")


def thing_to_mention(thing: Mapping[str, Any], source: str) -> Mention | None:
    """A listing child (`t3` post or `t1` comment) as a Mention; None for other kinds."""
    kind, data = thing.get("kind"), thing.get("data")
    if kind not in ("t1", "t3"):
        return None
    if not isinstance(data, Mapping):
        raise ValueError(f"{kind} without data")
    name = str(data["name"])
    created = data.get("created_utc")
    if not isinstance(created, int | float):
        raise ValueError("no created_utc")
    reply_to: str | None
    conversation: str | None
    if kind == "t3":
        title, body = str(data.get("title") or ""), str(data.get("selftext") or "")
        text = f"{title}\n\n{body}" if body else title
        reply_to, conversation = None, name
    else:
        text = str(data["body"])
        reply_to = str(data["parent_id"]) if data.get("parent_id") else None
        conversation = str(data["link_id"]) if data.get("link_id") else None
    link = data.get("permalink") or data.get("context") or ""
    if kind == "t1" and conversation is None:
        # Inbox items carry no link_id; their context address names the post.
        post = POST_IN_LINK.search(link) if isinstance(link, str) else None
        conversation = f"t3_{post.group(1)}" if post else None
    score = data.get("score")
    comments = data.get("num_comments")
    return Mention(
        source=source,
        external_id=name,
        url=f"https://www.reddit.com{link}" if isinstance(link, str) and link else "",
        author=Author(
            handle=str(data.get("author") or "[deleted]"),
            external_id=str(data["author_fullname"]) if data.get("author_fullname") else None,
        ),
        text=text,
        created_at=datetime.fromtimestamp(float(created), tz=UTC),
        reply_to_id=reply_to,
        conversation_id=conversation,
        engagement=Engagement(
            likes=score if isinstance(score, int) and score > 0 else 0,
            replies=comments if isinstance(comments, int) and comments > 0 else 0,
        ),
        raw={
            "platform": "reddit",
            "kind": kind,
            "subreddit": data.get("subreddit"),
            "type": data.get("type"),
        },
    )


def listing_children(body: object, where: str) -> tuple[list[Mapping[str, Any]], str | None]:
    """The children and the `after` token of a Listing; SourceError when it is not one."""
    if not isinstance(body, Mapping) or body.get("kind") != "Listing":
        raise shape_error(where, "not a Listing")
    data = body.get("data")
    children = data.get("children") if isinstance(data, Mapping) else None
    if not isinstance(children, list):
        raise shape_error(where, "Listing without children")
    after = data.get("after") if isinstance(data, Mapping) else None
    return [c for c in children if isinstance(c, Mapping)], after if isinstance(
        after, str
    ) else None


def load_cursor(cursor: str | None) -> dict[str, float] | None:
    """The newest item time of every listing; {} for no cursor, None for one that cannot be read."""
    return load_positions(
        cursor, "newest", lambda v: float(v) if isinstance(v, int | float) else None
    )


def dump_cursor(newest: Mapping[str, float]) -> str:
    return dump_positions("newest", newest)


RATELIMIT_WAIT = 60.0
"""Seconds before another try after Reddit's RATELIMIT refusal (its text names minutes)."""


def api_errors(errors: object) -> str:
    """Reddit's `api_type=json` errors (`[[CODE, message, field], …]`) as one line:
    "that comment has been deleted (DELETED_COMMENT)"."""
    if not isinstance(errors, list):
        return str(errors)
    said = []
    for error in errors:
        if isinstance(error, list | tuple) and len(error) >= 2:
            said.append(f"{error[1]} ({error[0]})")
        else:
            said.append(str(error))
    return "; ".join(said)


class RedditSource(Source):
    type = "reddit"
    can_reply: ClassVar[bool] = True

    def __init__(
        self, name: str, config: RedditSourceConfig, brands: Iterable[Brand], app: Config
    ) -> None:
        super().__init__(name)
        self.config = config
        terms = config.query or [t for b in brands for t in b.terms()]
        self.terms = list(dict.fromkeys(t for t in terms if t.strip()))
        self.subreddits = [s.removeprefix("r/").strip("/") for s in config.subreddits]
        self._app = app
        self._api: HttpApi | None = None
        self._auth: HttpApi | None = None
        self._token = ""
        self.user_grant = False

    # -- auth

    def _credentials(self) -> Credentials:
        creds = Credentials.lookup(
            self._app,
            self.name,
            ["client_id", "client_secret"],
            ["refresh_token", "username", "password"],
        )
        creds.require()
        return creds

    def _apis(self) -> tuple[HttpApi, HttpApi]:
        if self._api is None or self._auth is None:
            timeout = self.config.timeout.total_seconds()
            ua = self.config.user_agent
            self._api = HttpApi(
                self.name, self.config.base_url or OAUTH_API, timeout=timeout, user_agent=ua
            )
            self._auth = HttpApi(
                self.name, self.config.auth_url or AUTH_HOST, timeout=timeout, user_agent=ua
            )
        return self._api, self._auth

    async def authenticate(self) -> None:
        creds = self._credentials()
        api, auth = self._apis()
        for secret in creds.secrets():
            api.add_secret(secret)
            auth.add_secret(secret)
        if creds.get("refresh_token"):
            grant = {"grant_type": "refresh_token", "refresh_token": creds.get("refresh_token")}
        elif creds.get("username") and creds.get("password"):
            grant = {
                "grant_type": "password",
                "username": creds.get("username"),
                "password": creds.get("password"),
            }
        else:
            grant = {"grant_type": "client_credentials"}
        self.user_grant = grant["grant_type"] != "client_credentials"
        # The token endpoint takes the app's id and secret as HTTP Basic auth.
        auth.client.auth = (creds.get("client_id") or "", creds.get("client_secret") or "")
        response = await auth.request("POST", "/api/v1/access_token", data=grant)
        body = auth.decode(response, dict)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            detail = body.get("error") if isinstance(body.get("error"), str) else "no access_token"
            raise SourceError(f"reddit refused the token request ({detail})", fatal=True)
        self._token = token
        api.set_header("Authorization", f"bearer {token}")

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Any:
        """One API call with `raw_json=1`; an expired token (401) is replaced once."""
        if not self._token:
            await self.authenticate()
        api, _ = self._apis()
        for attempt in (1, 2):
            response = await api.request(
                method, path, params={**(params or {}), "raw_json": 1}, data=data, ok=(401,)
            )
            if response.status_code == 401:
                if attempt == 1:
                    await self.authenticate()
                    continue
                raise api.error_for(response)
            return api.decode(response)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        for api in (self._api, self._auth):
            if api is not None:
                await api.aclose()
        self._api = self._auth = None

    # -- listening

    def listings(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(cursor key, path, params) of every listing this source reads."""
        out: list[tuple[str, str, dict[str, Any]]] = []
        if self.subreddits:
            subs = "+".join(self.subreddits)
            out.append((f"new:{subs}", f"/r/{subs}/new", {}))
            out.append((f"comments:{subs}", f"/r/{subs}/comments", {}))
        for term in self.terms:
            params = {"q": term, "sort": "new", "restrict_sr": "false", "type": "link"}
            out.append((f"search:{term}", "/r/all/search", params))
        if self.user_grant:
            # Username mentions, and replies to the account's own comments (its conversations).
            out.append(("mentions", "/message/mentions", {}))
            out.append(("comment_replies", "/message/comments", {}))
        return out

    def _read(self, child: Mapping[str, Any]) -> Mention | None:
        """A listing child as a Mention; None (with a health warning) when it is unreadable."""
        try:
            return thing_to_mention(child, self.name)
        except (KeyError, ValueError, TypeError) as exc:
            self.health.warn(f"unreadable item skipped ({type(exc).__name__}: {exc})")
            return None

    async def read_listing(
        self, path: str, params: Mapping[str, Any], since: float | None
    ) -> tuple[list[Mention], float | None]:
        mentions: list[Mention] = []
        newest: float | None = None
        after: str | None = None
        for _ in range(MAX_PAGES):
            query = {**params, "limit": PAGE_SIZE}
            if after:
                query["after"] = after
            children, after = listing_children(await self.call("GET", path, params=query), path)
            reached = False
            for child in children:
                data = child.get("data")
                created = data.get("created_utc") if isinstance(data, Mapping) else None
                if isinstance(created, int | float):
                    newest = max(newest or created, float(created))
                    if since is not None and created < since:
                        reached = True
                        continue
                mention = self._read(child)
                if mention is not None:
                    mentions.append(mention)
            if reached or not after or since is None:
                break
        return mentions, newest

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        newest = load_cursor(cursor)
        if newest is None:
            self.health.warn("cursor unreadable; starting from the newest posts")
            newest = {}
        self._credentials()
        if not self.subreddits and not self.terms:
            raise SourceError("nothing to listen for: set `subreddits` or `query`", fatal=True)
        while True:
            if not self._token:
                await self.authenticate()
            timelines = [(k, partial(self.read_listing, p, q)) for k, p, q in self.listings()]
            async for fetched in poll_round(timelines, newest, "newest", self.health):
                yield fetched
            self.health.set(HealthState.CONNECTED)
            await asyncio.sleep(self.config.interval.total_seconds())

    # -- history

    backfill_limits = (
        "each listing reaches back about 1,000 items (Reddit's own limit); "
        "inbox mentions only with a user token"
    )

    async def backfill(
        self, since: datetime, until: datetime, skip: Collection[str] = ()
    ) -> AsyncIterator[HistoryPage]:
        """Every listing paged back with `after` until it passes `since` or Reddit stops."""
        self._credentials()
        if not self.subreddits and not self.terms:
            raise SourceError("nothing to listen for: set `subreddits` or `query`", fatal=True)
        if not self._token:
            await self.authenticate()
        oldest_wanted = since.timestamp()
        for key, path, params in self.listings():
            if key in skip:
                continue
            after: str | None = None
            for page_number in range(1, BACKFILL_PAGES + 1):
                query = {**params, "limit": PAGE_SIZE, "after": after}
                children, after = listing_children(await self.call("GET", path, params=query), path)
                mentions: list[Mention] = []
                oldest: float | None = None
                for child in children:
                    data = child.get("data")
                    created = data.get("created_utc") if isinstance(data, Mapping) else None
                    if isinstance(created, int | float):
                        oldest = min(oldest if oldest is not None else created, float(created))
                    mention = self._read(child)
                    if mention is not None:
                        mentions.append(mention)
                done = (
                    not after
                    or not children
                    or (oldest is not None and oldest < oldest_wanted)
                    or page_number == BACKFILL_PAGES
                )
                self.health.fetched += len(mentions)
                yield HistoryPage(key, mentions, done)
                if done:
                    break

    # -- doctor

    async def check(self) -> list[Check]:
        """The app's id and secret present, a token granted by the auth host, the token
        accepted by the API (one item of the first listing), the budget, and which grant it is
        (app-only reads no inbox and cannot reply)."""
        if not self.subreddits and not self.terms:
            return [
                Check(
                    "config",
                    CheckStatus.FAIL,
                    "nothing to listen for",
                    "set `subreddits` or `query`, or add brands",
                )
            ]
        credentials = Credentials.lookup(
            self._app,
            self.name,
            ["client_id", "client_secret"],
            ["refresh_token", "username", "password"],
        )
        api, auth = self._apis()
        _, path, params = self.listings()[0]
        checks = await http_checks(
            api,
            credentials,
            path,
            params={**params, "limit": 1, "raw_json": 1},
            sign_in=self.authenticate,
            sign_in_api=auth,
        )
        if self._token and not self.user_grant:
            env = Credentials.env_name(self.name, "refresh_token")
            checks.append(
                Check(
                    "grant",
                    CheckStatus.WARN,
                    "app-only token: no inbox mentions, cannot reply",
                    f"set {env} (or username and password of a script app)",
                )
            )
        elif self._token:
            checks.append(Check("grant", CheckStatus.OK, "user token: inbox read, replies allowed"))
        return checks

    # -- thread and reply

    async def thread(self, mention: Mention) -> list[Mention]:
        """The post and its comments (as far as one request returns them), oldest first."""
        link = mention.conversation_id or mention.external_id
        body = await self.call("GET", f"/comments/{link.removeprefix('t3_')}", params={})
        if not isinstance(body, list):
            raise shape_error("comments", "not a pair of Listings")
        found: list[Mention] = []

        def walk(listing: object) -> None:
            children, _ = listing_children(listing, "comments")
            for child in children:
                try:
                    item = thing_to_mention(child, self.name)
                except (KeyError, ValueError, TypeError):
                    continue
                if item is not None:
                    found.append(item)
                data = child.get("data")
                replies = data.get("replies") if isinstance(data, Mapping) else None
                if isinstance(replies, Mapping):
                    walk(replies)

        for listing in body:
            walk(listing)
        return sorted(found, key=lambda m: m.created_at)

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        # /api/comment takes no idempotency key; the outbox checks for the reply before a retry.
        body = await self.call(
            "POST",
            "/api/comment",
            data={"api_type": "json", "thing_id": mention.external_id, "text": text},
        )
        result = body.get("json") if isinstance(body, Mapping) else None
        if not isinstance(result, Mapping):
            raise shape_error("/api/comment", "no `json` object")
        errors = result.get("errors")
        if errors:
            said = f"reddit refused the reply: {api_errors(errors)}"
            if any(isinstance(e, list) and e and e[0] == "RATELIMIT" for e in errors):
                # "you are doing that too much": nothing was posted; try again later.
                raise SourceError(said, retry_after=RATELIMIT_WAIT)
            # Any other refusal stays one (a deleted, locked or archived parent): fatal, so the
            # outbox fails the item at once instead of trying again.
            raise SourceError(said, fatal=True)
        things = result.get("data", {}).get("things")
        if not isinstance(things, list) or not things:
            raise shape_error("/api/comment", "no new comment in the answer")
        return str(things[0]["data"]["name"])

    async def find_sent(self, text: str, parent: Mention | None, since: datetime) -> str | None:
        """Our comment answering `parent` with this text since `since`, among the account's
        newest 100 comments (`/user/NAME/comments`): the outbox asks before it sends again
        after an attempt whose outcome is unknown (/api/comment takes no idempotency key)."""
        if parent is None:
            raise NotImplementedError(f"source {self.name!r} (reddit) does not post")
        me = await self.call("GET", "/api/v1/me")
        name = me.get("name") if isinstance(me, Mapping) else None
        if not isinstance(name, str) or not name:
            raise shape_error("/api/v1/me", "no account name (needs a user grant)")
        path = f"/user/{name}/comments"
        body = await self.call("GET", path, params={"limit": 100, "sort": "new"})
        wanted = " ".join(text.split())
        children, _ = listing_children(body, path)
        for child in children:
            data = child.get("data") if isinstance(child, Mapping) else None
            if not isinstance(data, Mapping) or data.get("parent_id") != parent.external_id:
                continue
            created = data.get("created_utc")
            if not isinstance(created, int | float):
                continue
            if datetime.fromtimestamp(created, tz=UTC) < since:
                continue
            if " ".join(str(data.get("body") or "").split()) == wanted:
                return str(data.get("name") or f"t1_{data.get('id')}")
        return None
