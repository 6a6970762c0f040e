"""The `twitter` source: X/Twitter API v2 through tweepy's async client.

Listens by polling two kinds of timeline every `interval`:

* **recent search** for the configured terms (`query`, or every brand's and competitor's name,
  keywords, hashtags and handles), joined with OR into queries of at most 512 characters;
* the **mentions timeline** of each of the brand's own accounts (`accounts`, usernames).

Each timeline is read with `since_id`, newest first, following `next_token` to the end; only when
every page of a timeline is in hand is it yielded, with the cursor moved to the newest id. A fault
half-way through a timeline therefore re-reads it from the old `since_id`: nothing is lost, and
what is read twice is dropped by the pipeline's dedupe. The cursor is one opaque JSON string
holding the `since_id` of every timeline.

Credentials (never in config.toml, see `smcc.config.credential`): `bearer_token` (app-only, enough
to listen, or an OAuth 2.0 user token), and for replying and posting either that user token or the
OAuth 1.0a set `consumer_key`, `consumer_secret`, `access_token`, `access_token_secret`.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import aiohttp
from oauthlib.oauth1 import Client as OAuth1Client
from tweepy.asynchronous import AsyncClient
from yarl import URL

from smcc.config import Brand, SecretError, TwitterSourceConfig
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
from smcc.sources.http import RateBudget, auth_failure, budget_check
from smcc.sources.positions import dump_positions, load_positions

PUBLIC_API = "https://api.twitter.com"
"""Tweepy's host; OAuth 1.0a requests are signed for it even when sent through a proxy."""

MAX_QUERY = 512
"""Longest recent-search query of the standard access levels."""

PAGE_SIZE = 100
MAX_PAGES = 50
BACKFILL_PAGES = 100
"""Pages of history per timeline and backfill (10,000 posts)."""
RECENT_WINDOW = timedelta(days=7)
"""How far back recent search and the mentions timeline reach at the standard access levels."""
"""Pages read per timeline and poll; past that the poll stops and says so (5,000 posts)."""

_URL = re.compile(r"https?://\S+")

TWEET_FIELDS = [
    "author_id",
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "public_metrics",
    "lang",
]
USER_FIELDS = ["username", "name", "public_metrics", "verified"]
EXPANSIONS = ["author_id", "in_reply_to_user_id", "referenced_tweets.id"]

TWITTER_EPOCH_MS = 1288834974657
"""Snowflake ids carry their creation time in milliseconds since this moment (2010-11-04)."""

CREDENTIAL_FIELDS = (
    "bearer_token",
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
)


def snowflake_time(tweet_id: str) -> datetime | None:
    """When a post with this snowflake id was created (to the millisecond), or None."""
    if not tweet_id.isdigit():
        return None
    ms = (int(tweet_id) >> 22) + TWITTER_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


# ---------------------------------------------------------------------------------------------
# Parsing (pure functions over the API's JSON)


def _users_by_id(payload: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    includes = payload.get("includes")
    users = includes.get("users") if isinstance(includes, Mapping) else None
    if not isinstance(users, list):
        return {}
    return {str(u["id"]): u for u in users if isinstance(u, Mapping) and "id" in u}


def _count(metrics: object, key: str) -> int:
    value = metrics.get(key) if isinstance(metrics, Mapping) else None
    return value if isinstance(value, int) and value >= 0 else 0


def tweet_to_mention(
    tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], source: str
) -> Mention:
    """One v2 tweet object (with the `includes.users` of its answer) as a Mention.

    Fields the answer lacks (when the expansions were not granted) are left empty rather than
    guessed, except the time, which a snowflake id always carries.
    """
    tweet_id = str(tweet["id"])
    text = tweet["text"]
    if not isinstance(text, str):
        raise ValueError("text is not a string")
    author_id = str(tweet["author_id"]) if tweet.get("author_id") else None
    user = users.get(author_id, {}) if author_id else {}
    username = user.get("username") if isinstance(user.get("username"), str) else None
    created = tweet.get("created_at")
    created_at = (
        datetime.fromisoformat(created) if isinstance(created, str) else snowflake_time(tweet_id)
    )
    if created_at is None:
        raise ValueError("no created_at and the id is not a snowflake")
    refs = tweet.get("referenced_tweets")
    reply_to = None
    if isinstance(refs, list):
        reply_to = next(
            (
                str(r["id"])
                for r in refs
                if isinstance(r, Mapping) and r.get("type") == "replied_to"
            ),
            None,
        )
    metrics = tweet.get("public_metrics")
    conversation = tweet.get("conversation_id")
    return Mention(
        source=source,
        external_id=tweet_id,
        url=(
            f"https://x.com/{username}/status/{tweet_id}"
            if username
            else f"https://x.com/i/web/status/{tweet_id}"
        ),
        author=Author(
            handle=username or (f"id:{author_id}" if author_id else "unknown"),
            display_name=str(user.get("name") or ""),
            followers=_count(user.get("public_metrics"), "followers_count"),
            verified=user.get("verified") is True,
            external_id=author_id,
        ),
        # v2 text escapes &, < and > as HTML entities.
        text=html.unescape(text),
        created_at=created_at,
        reply_to_id=reply_to,
        conversation_id=str(conversation) if conversation else None,
        engagement=Engagement(
            likes=_count(metrics, "like_count"),
            reposts=_count(metrics, "retweet_count"),
            replies=_count(metrics, "reply_count"),
            quotes=_count(metrics, "quote_count"),
        ),
        raw={"platform": "twitter", "tweet": dict(tweet)},
    )


@dataclass(frozen=True)
class Page:
    mentions: list[Mention]
    newest_id: str | None
    next_token: str | None
    problems: list[str]
    """Posts of the page that could not be read (kept out, reported in health)."""


def parse_page(payload: object, source: str) -> Page:
    """A v2 timeline answer (`data` list, `includes`, `meta`); SourceError when it is not one."""
    if not isinstance(payload, Mapping):
        raise SourceError("X answered with JSON of an unexpected shape (not an object)")
    data = payload.get("data", [])
    meta = payload.get("meta", {})
    if not isinstance(data, list) or not isinstance(meta, Mapping):
        raise SourceError("X answered with JSON of an unexpected shape (data is not a list)")
    if "data" not in payload and "errors" in payload and "meta" not in payload:
        raise SourceError(f"X answered with errors only: {_api_errors(payload)}")
    users = _users_by_id(payload)
    mentions, problems = [], []
    for item in data:
        try:
            if not isinstance(item, Mapping):
                raise ValueError("not an object")
            mentions.append(tweet_to_mention(item, users, source))
        except (KeyError, ValueError, TypeError) as exc:
            where = item.get("id", "?") if isinstance(item, Mapping) else "?"
            problems.append(f"post {where}: unreadable ({type(exc).__name__}: {exc})")
    newest = meta.get("newest_id")
    token = meta.get("next_token")
    return Page(
        mentions,
        str(newest) if newest else None,
        str(token) if token else None,
        problems,
    )


def _api_errors(payload: Mapping[str, Any]) -> str:
    errors = payload.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, Mapping):
            return str(first.get("detail") or first.get("message") or first.get("title") or first)
    for key in ("detail", "title", "error"):
        if isinstance(payload.get(key), str):
            return str(payload[key])
    return "no detail given"


def search_queries(terms: Iterable[str], limit: int = MAX_QUERY) -> list[str]:
    """Terms joined with OR into as few queries as fit `limit`, retweets left out."""
    suffix = " -is:retweet"
    parts: list[str] = []
    seen: set[str] = set()
    for term in terms:
        term = term.strip()
        if not term or term.lower() in seen:
            continue
        seen.add(term.lower())
        if term[0] in "@#$":
            parts.append(term.replace('"', ""))
        else:
            parts.append('"' + term.replace('"', "") + '"' if " " in term else term)
    queries: list[str] = []
    current: list[str] = []
    for part in parts:
        candidate = [*current, part]
        if current and len("(" + " OR ".join(candidate) + ")" + suffix) > limit:
            queries.append("(" + " OR ".join(current) + ")" + suffix)
            current = [part]
        else:
            current = candidate
    if current:
        queries.append("(" + " OR ".join(current) + ")" + suffix)
    return queries


def default_terms(brands: Iterable[Brand]) -> list[str]:
    return [term for brand in brands for term in brand.terms()]


# ---------------------------------------------------------------------------------------------
# Transport: tweepy's endpoints, our HTTP


class XClient(AsyncClient):  # type: ignore[misc]  # tweepy has no type hints
    """Tweepy's AsyncClient with its one transport method replaced.

    Tweepy builds every v2 endpoint's route and parameters and then calls `request(method,
    route, ...)`, whose stock version (tweepy 4.14–4.17) hard-codes `https://api.twitter.com`,
    logs the Authorization header at DEBUG level, and turns a non-JSON error body into a crash.
    This `request` sends to `base_url` (a proxy, or the loopback server of the tests), logs
    nothing, and maps every failure to a SourceError with the wait the API asked for. OAuth 1.0a
    requests are signed for the public host, so a transparent proxy forwards a valid signature.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float,
        credentials: Mapping[str, str | None],
        on_headers: Callable[[str, Mapping[str, str]], None] | None = None,
    ) -> None:
        super().__init__(**credentials, return_type=dict)
        self.base_url = (base_url or PUBLIC_API).rstrip("/")
        self.timeout = timeout
        self.on_headers = on_headers
        self.session: aiohttp.ClientSession | None = None
        self.last_status: int | None = None
        """The HTTP status of the last answer (None: no answer came), for `smcc doctor`."""

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self.session

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def _signed(
        self, method: str, route: str, params: Mapping[str, Any] | None
    ) -> tuple[URL, dict[str, str]]:
        signer = OAuth1Client(
            self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret
        )
        url = str(URL(PUBLIC_API + route).with_query(sorted((params or {}).items())))
        signed_url, headers, _ = signer.sign(url, method, headers={})
        # oauthlib signs with colons percent-encoded; aiohttp would send them raw.
        before, _, query = signed_url.partition("?")
        sent = self.base_url + before[len(PUBLIC_API) :]
        return URL(f"{sent}?{query.replace(':', '%3A')}" if query else sent, encoded=True), headers

    async def request(
        self,
        method: str,
        route: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        user_auth: bool = False,
    ) -> Any:
        self.last_status = None
        headers = {"User-Agent": self.user_agent}
        url: URL | str
        if user_auth:
            url, auth = self._signed(method, route, params)
            headers.update(auth)
            params = None
        else:
            if not self.bearer_token:
                raise SourceError("credentials missing: bearer_token", fatal=True)
            url = self.base_url + route
            headers["Authorization"] = f"Bearer {self.bearer_token}"
        try:
            async with self._session().request(
                method, url, params=params, json=json, headers=headers
            ) as response:
                body = await response.read()
                status, reason, got = response.status, response.reason, response.headers
                self.last_status = status
        except TimeoutError:
            # The request may have reached X (and a post been made): the outbox looks first.
            raise SourceError(
                f"X did not answer within {self.timeout:g}s ({route})", ambiguous=True
            ) from None
        except aiohttp.ClientError as exc:
            raise SourceError(
                f"connection to X failed ({type(exc).__name__}; {route})",
                ambiguous=not isinstance(exc, aiohttp.ClientConnectorError),
            ) from None
        if self.on_headers is not None:
            self.on_headers(route, got)
        if not 200 <= status < 300:
            raise _status_error(status, reason or "", got, body, route)
        try:
            return _Answer(_json_loads(body))
        except ValueError:
            raise SourceError(f"X answered with invalid JSON ({route})") from None


@dataclass(frozen=True)
class _Answer:
    """What tweepy's `_make_request` expects back from `request`: something with `json()`."""

    data: Any

    async def json(self) -> Any:
        return self.data


def _comparable(text: str) -> str:
    """Text as X gives it back (entities escaped, links as t.co) made comparable to ours."""
    return " ".join(_URL.sub("<url>", html.unescape(text)).split())


def _json_loads(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"))


def _status_error(
    status: int, reason: str, headers: Mapping[str, str], body: bytes, route: str
) -> SourceError:
    try:
        payload = _json_loads(body)
        detail = _api_errors(payload) if isinstance(payload, Mapping) else ""
    except ValueError:
        detail = ""
    what = f"X answered {status} {reason} ({route})" + (f": {detail}" if detail else "")
    if status == 429:
        return SourceError(
            f"rate limited: {what}",
            retry_after=rate_limit_wait(headers, default=60.0),
            status=status,
        )
    if status >= 500 or status == 408:
        return SourceError(
            what, retry_after=_retry_after(headers), ambiguous=status >= 500, status=status
        )
    if status == 401:
        return CredentialsRejected(what)
    # 400 (a query X refuses), 403 (access level), 404: waiting will not change the answer.
    return SourceError(what, fatal=True, status=status)


class CredentialsRejected(SourceError):
    """401: the token was revoked or has expired."""


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def rate_limit_wait(
    headers: Mapping[str, str], *, default: float, now: float | None = None
) -> float:
    """Seconds until `x-rate-limit-reset` (epoch seconds), else Retry-After, else `default`."""
    reset = headers.get("x-rate-limit-reset")
    if reset and reset.strip().isdigit():
        return max(1.0, int(reset) - (time.time() if now is None else now) + 1)
    after = _retry_after(headers)
    return after if after is not None else default


# ---------------------------------------------------------------------------------------------
# The source


class TwitterSource(Source):
    type = "twitter"
    can_reply: ClassVar[bool] = True
    can_post: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        config: TwitterSourceConfig,
        brands: Iterable[Brand],
        credentials: Callable[[str], str | None],
    ) -> None:
        super().__init__(name)
        self.config = config
        self.queries = search_queries(config.query or default_terms(brands))
        self.accounts = [a.lstrip("@") for a in config.accounts]
        self._credential = credentials
        self._credentials: dict[str, str | None] = {}
        self._client: XClient | None = None
        self._account_ids: dict[str, str] = {}
        self.budgets: dict[str, RateBudget] = {}
        """The latest rate-limit headers per endpoint route, for `smcc doctor`."""

    # -- credentials and client

    def _read_credentials(self) -> dict[str, str | None]:
        try:
            return {f: self._credential(f) for f in CREDENTIAL_FIELDS}
        except SecretError as exc:
            raise SourceError(f"credentials unreadable: {exc}", retry_after=60.0) from None

    def _user_auth(self) -> bool:
        """Whether writes are signed with OAuth 1.0a (else the bearer token is a user token)."""
        creds = self._credentials or self._read_credentials()
        return all(creds.get(f) for f in CREDENTIAL_FIELDS[1:])

    def client(self) -> XClient:
        if self._client is None:
            self._credentials = self._read_credentials()
            self._client = XClient(
                base_url=self.config.base_url,
                timeout=self.config.timeout.total_seconds(),
                credentials=self._credentials,
                on_headers=self._note_budget,
            )
        return self._client

    async def _renew_client(self) -> bool:
        """After a 401: use the credentials as they are now; True if they changed."""
        fresh = self._read_credentials()
        if fresh == self._credentials:
            return False
        if self._client is not None:
            await self._client.aclose()
        self._client = None
        return True

    def _note_budget(self, route: str, headers: Mapping[str, str]) -> None:
        # X announces one budget per endpoint (and per token), so each route keeps its own.
        self.budgets.setdefault(route, RateBudget()).update(headers)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """One API call; a 401 is retried once when the credentials were changed meanwhile."""
        for attempt in (1, 2):
            try:
                return await getattr(self.client(), method)(*args, **kwargs)
            except CredentialsRejected as exc:
                if attempt == 1 and await self._renew_client():
                    continue
                # Not fatal: a token put into the environment or the secrets file is picked up
                # at the next attempt, so the source recovers without a restart.
                raise SourceError(
                    f"credentials rejected: {exc} — set a valid token in "
                    f"SMCC_{self.name.upper().replace('-', '_')}_BEARER_TOKEN or the secrets file",
                    retry_after=300.0,
                ) from None
        raise AssertionError("unreachable")

    # -- listening

    async def _resolve_accounts(self) -> None:
        missing = [a for a in self.accounts if a.lower() not in self._account_ids]
        if not missing:
            return
        payload = await self._call("get_users", usernames=missing, user_fields=["username"])
        users = payload.get("data") if isinstance(payload, Mapping) else None
        if not isinstance(users, list):
            raise SourceError("X answered the account lookup with JSON of an unexpected shape")
        for user in users:
            if isinstance(user, Mapping) and "id" in user and "username" in user:
                self._account_ids[str(user["username"]).lower()] = str(user["id"])
        for account in missing:
            if account.lower() not in self._account_ids:
                self.health.warn(f"account @{account} not found on X; its mentions are not read")
                self._account_ids[account.lower()] = ""

    def timelines(self) -> list[tuple[str, str, str]]:
        """(cursor key, method, query or user id) of every timeline this source reads."""
        out = [(f"search:{q}", "search_recent_tweets", q) for q in self.queries]
        for account in self.accounts:
            user_id = self._account_ids.get(account.lower())
            if user_id:
                out.append((f"mentions:{account.lower()}", "get_users_mentions", user_id))
        return out

    async def read_timeline(self, method: str, target: str, since_id: str | None) -> Page:
        """Every page newer than `since_id` (only the newest page when there is none)."""
        token_param = "next_token" if method == "search_recent_tweets" else "pagination_token"
        mentions: list[Mention] = []
        problems: list[str] = []
        newest: str | None = None
        token: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {
                "max_results": PAGE_SIZE,
                "tweet_fields": TWEET_FIELDS,
                "user_fields": USER_FIELDS,
                "expansions": EXPANSIONS,
            }
            if since_id:
                params["since_id"] = since_id
            if token:
                params[token_param] = token
            payload = await self._call(method, target, **params)
            page = parse_page(payload, self.name)
            mentions.extend(page.mentions)
            problems.extend(page.problems)
            newest = newest or page.newest_id
            token = page.next_token
            if not token or not since_id:
                break
        else:
            self.health.warn(f"more than {MAX_PAGES} pages new since the last poll; older skipped")
        return Page(mentions, newest, None, problems)

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        since = load_cursor(cursor)
        if since is None:
            self.health.warn("cursor unreadable; starting from the newest posts")
            since = {}
        if not self.queries and not self.accounts:
            raise SourceError(
                "nothing to listen for: set `query` or `accounts`, or add brands", fatal=True
            )
        if not self._read_credentials().get("bearer_token"):
            raise SourceError(
                "credentials missing: bearer_token (set "
                f"SMCC_{self.name.upper().replace('-', '_')}_BEARER_TOKEN or the secrets file)",
                fatal=True,
            )
        while True:
            await self._resolve_accounts()
            for key, method, target in self.timelines():
                page = await self.read_timeline(method, target, since.get(key))
                for problem in page.problems:
                    self.health.warn(problem)
                if page.newest_id:
                    since[key] = page.newest_id
                self.health.fetched += len(page.mentions)
                yield Fetched(page.mentions, dump_cursor(since))
            self.health.set(HealthState.CONNECTED)
            await asyncio.sleep(self.config.interval.total_seconds())

    # -- history

    backfill_limits = (
        "recent search and the mentions timeline reach back 7 days at the standard access "
        "levels (full-archive search needs Pro or Enterprise access); older history is not "
        "fetched"
    )

    async def backfill(
        self, since: datetime, until: datetime, skip: Collection[str] = ()
    ) -> AsyncIterator[HistoryPage]:
        """Each timeline read with `start_time`/`end_time` (clamped to what X serves: the
        last 7 days, ending 10 seconds ago) and paged back with its next token."""
        if not self.queries and not self.accounts:
            raise SourceError(
                "nothing to listen for: set `query` or `accounts`, or add brands", fatal=True
            )
        if not self._read_credentials().get("bearer_token"):
            raise SourceError("credentials missing: bearer_token", fatal=True)
        now = datetime.now(UTC)
        earliest = now - RECENT_WINDOW + timedelta(minutes=1)
        latest = now - timedelta(seconds=10)
        start, end = max(since, earliest), min(until, latest)
        if since < earliest:
            self.health.warn(
                f"X serves the last 7 days only: history before {earliest:%Y-%m-%d %H:%M}Z "
                "is not fetched"
            )
        if start >= end:
            return
        await self._resolve_accounts()
        for key, method, target in self.timelines():
            if key in skip:
                continue
            token_param = "next_token" if method == "search_recent_tweets" else "pagination_token"
            token: str | None = None
            for page_number in range(1, BACKFILL_PAGES + 1):
                params: dict[str, Any] = {
                    "max_results": PAGE_SIZE,
                    "tweet_fields": TWEET_FIELDS,
                    "user_fields": USER_FIELDS,
                    "expansions": EXPANSIONS,
                    "start_time": start,
                    "end_time": end,
                }
                if token:
                    params[token_param] = token
                page = parse_page(await self._call(method, target, **params), self.name)
                for problem in page.problems:
                    self.health.warn(problem)
                token = page.next_token
                done = not token or page_number == BACKFILL_PAGES
                self.health.fetched += len(page.mentions)
                yield HistoryPage(key, page.mentions, done)
                if done:
                    break

    # -- doctor

    async def check(self) -> list[Check]:
        """Credentials present, X reachable, the bearer token accepted (one recent search of
        10 posts, or the account lookup when only `accounts` are set), the endpoint's budget."""
        env = f"SMCC_{self.name.upper().replace('-', '_')}_BEARER_TOKEN"
        if not self.queries and not self.accounts:
            return [
                Check(
                    "config",
                    CheckStatus.FAIL,
                    "nothing to listen for",
                    "set `query` or `accounts`, or add brands",
                )
            ]
        try:
            creds = self._read_credentials()
        except SourceError as exc:
            return [Check("credentials", CheckStatus.FAIL, str(exc), "see the error")]
        if not creds.get("bearer_token"):
            return [
                Check(
                    "credentials",
                    CheckStatus.FAIL,
                    "credentials missing: bearer_token",
                    f"export {env}=… or add bearer_token to the secrets file",
                )
            ]
        writes = (
            "replies signed with the OAuth 1.0a set"
            if self._user_auth()
            else "replies need the bearer token to be an OAuth 2.0 user token"
        )
        present = ", ".join(f for f in CREDENTIAL_FIELDS if creds.get(f))
        checks = [Check("credentials", CheckStatus.OK, f"present ({present}); {writes}")]
        client = self.client()
        if self.queries:
            route, what = "/2/tweets/search/recent", "recent search"
            call = client.search_recent_tweets(self.queries[0], max_results=10)
        else:
            route, what = "/2/users/by", "account lookup"
            call = client.get_users(usernames=self.accounts[:100])
        try:
            await call
        except SourceError as exc:
            if client.last_status is None:
                base = self.config.base_url or PUBLIC_API
                checks.append(
                    Check(
                        "endpoint",
                        CheckStatus.FAIL,
                        str(exc),
                        f"check base_url ({base}) and the network",
                    )
                )
                return checks
            checks.append(
                Check("endpoint", CheckStatus.OK, f"reachable (HTTP {client.last_status})")
            )
            failure = auth_failure(exc, client.last_status)
            if client.last_status in (401, 403) and failure.status is CheckStatus.FAIL:
                fix = (
                    f"renew the bearer token ({env})"
                    if client.last_status == 401
                    else "the app's access level must allow this endpoint"
                )
                failure = Check("auth", CheckStatus.FAIL, failure.detail, fix)
            checks.append(failure)
        else:
            checks.append(
                Check("endpoint", CheckStatus.OK, f"reachable (HTTP {client.last_status})")
            )
            checks.append(Check("auth", CheckStatus.OK, f"bearer token accepted by {what}"))
        checks.append(budget_check(self.budgets.get(route, RateBudget()), f"rate limit ({what})"))
        return checks

    # -- thread, reply, post

    async def thread(self, mention: Mention) -> list[Mention]:
        """The conversation `mention` belongs to, oldest first (recent search: last 7 days)."""
        conversation = mention.conversation_id or mention.external_id
        found: dict[str, Mention] = {}
        root = await self._call(
            "get_tweet",
            conversation,
            tweet_fields=TWEET_FIELDS,
            user_fields=USER_FIELDS,
            expansions=EXPANSIONS,
        )
        if isinstance(root, Mapping) and isinstance(root.get("data"), Mapping):
            found[conversation] = tweet_to_mention(root["data"], _users_by_id(root), self.name)
        page = await self.read_timeline(
            "search_recent_tweets", f"conversation_id:{conversation}", None
        )
        for item in page.mentions:
            found[item.external_id] = item
        return sorted(found.values(), key=lambda m: m.created_at)

    async def _create(self, text: str, reply_to: str | None) -> str:
        params: dict[str, Any] = {"text": text, "user_auth": self._user_auth()}
        if reply_to:
            params["in_reply_to_tweet_id"] = reply_to
        payload = await self._call("create_tweet", **params)
        data = payload.get("data") if isinstance(payload, Mapping) else None
        if not isinstance(data, Mapping) or "id" not in data:
            raise SourceError("X accepted the post but its answer holds no id")
        return str(data["id"])

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        # X has no idempotency key: the outbox must not retry a send whose outcome is unknown
        # without first looking for the post (its text and in_reply_to) on the account.
        return await self._create(text, mention.external_id)

    async def post(self, text: str, idempotency_key: str) -> str:
        return await self._create(text, None)

    async def find_sent(self, text: str, parent: Mention | None, since: datetime) -> str | None:
        """Our post (a reply to `parent`, or a post answering nothing) with this text since
        `since`, among the account's posts since then (`GET /2/users/:id/tweets`): the outbox
        asks before it sends again, since X takes no idempotency key."""
        user_auth = self._user_auth()
        me = await self._call("get_me", user_auth=user_auth)
        data = me.get("data") if isinstance(me, Mapping) else None
        if not isinstance(data, Mapping) or "id" not in data:
            raise SourceError("X answered users/me with JSON of an unexpected shape")
        payload = await self._call(
            "get_users_tweets",
            str(data["id"]),
            max_results=100,
            start_time=since,
            tweet_fields=["created_at", "referenced_tweets"],
            user_auth=user_auth,
        )
        tweets = payload.get("data") if isinstance(payload, Mapping) else None
        if tweets is None:
            return None  # X leaves `data` out when there is nothing
        if not isinstance(tweets, list):
            raise SourceError("X answered the account's posts with JSON of an unexpected shape")
        wanted = _comparable(text)
        for tweet in tweets:
            if not isinstance(tweet, Mapping) or "id" not in tweet:
                continue
            refs = tweet.get("referenced_tweets") or []
            answered = next(
                (
                    str(r.get("id"))
                    for r in refs
                    if isinstance(r, Mapping) and r.get("type") == "replied_to"
                ),
                None,
            )
            if answered != (parent.external_id if parent is not None else None):
                continue
            said = _comparable(str(tweet.get("text") or ""))
            # X puts the @handles of a reply's thread in front of its text.
            if said == wanted or said.endswith(" " + wanted):
                return str(tweet["id"])
        return None


def load_cursor(cursor: str | None) -> dict[str, str] | None:
    """The since_id of every timeline; {} for no cursor, None for one that cannot be read."""
    return load_positions(
        cursor, "since_id", lambda v: str(v) if isinstance(v, str | int) else None
    )


def dump_cursor(since: Mapping[str, str]) -> str:
    return dump_positions("since_id", since)
