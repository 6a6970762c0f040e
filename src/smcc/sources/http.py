"""The HTTP behaviour every httpx-based adapter shares (issue 6, point 6), written once.

- :func:`make_client`: an ``httpx.AsyncClient`` with a timeout on every request, smcc's
  User-Agent and the source's ``base_url``.
- :class:`HttpApi`: one ``request`` / ``get_json`` that turns every way a platform can fail — 429
  (``Retry-After`` in seconds or as an HTTP date, ``X-RateLimit-Reset`` / ``x-rate-limit-reset`` as
  epoch seconds, seconds from now or an ISO time), 5xx, dropped connections, timeouts, truncated or
  garbage JSON, JSON of the wrong shape — into :class:`~smcc.sources.base.SourceError`, with
  ``retry_after`` when the server said when to come back, and ``fatal=True`` for 401/403
  ("credentials rejected"). It records the remaining rate-limit budget (:class:`RateBudget`) for
  ``smcc doctor`` and refuses to spend a budget the server says is used up until it resets.
- :meth:`HttpApi.sse_events`: a server-sent-events stream whose end, drop or silence raises.
- :func:`http_checks`: what `smcc doctor` asks of any HTTP source.
- :class:`Credentials`: the one place a source's required credentials are looked up; a missing one
  becomes the fatal health "credentials missing: set SMCC_<NAME>_<FIELD> …".

Secrets never reach error text or logs: every message passes :meth:`HttpApi.redact`, which blanks
the source's credential values, ``Authorization``-style values and query parameters whose name
says secret (token, secret, password, key, signature, code).
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from smcc import __version__
from smcc.config import Config, SecretError, _env_name, credential
from smcc.models import utcnow
from smcc.sources.base import Check, CheckStatus, SourceError

log = logging.getLogger(__name__)

USER_AGENT = f"smcc/{__version__} (social media command center)"

SECRET_PARAM = re.compile(r"token|secret|password|passwd|key|signature|code|auth", re.IGNORECASE)
"""Query parameters whose values are blanked in anything smcc prints or logs."""

REDACTED = "[redacted]"


def make_client(
    base_url: str,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    user_agent: str = USER_AGENT,
) -> httpx.AsyncClient:
    """An AsyncClient whose every request times out after `timeout` seconds (each phase)."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent, "Accept": "application/json", **(headers or {})},
        follow_redirects=True,
    )


# ---------------------------------------------------------------------------------------------
# Rate-limit headers


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    """The first non-blank of `names` (httpx's and aiohttp's headers look up any case)."""
    for name in names:
        value: str | None = headers.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def parse_retry_after(value: str, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP date."""
    now = now or utcnow()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_reset(value: str, now: datetime | None = None) -> datetime | None:
    """When a rate-limit window resets, from an X-RateLimit-Reset value.

    Platforms disagree: X/Twitter sends epoch seconds, Reddit seconds from now (``"312.0"``),
    Mastodon an ISO 8601 time. A number above 10^9 is taken as epoch seconds.
    """
    now = now or utcnow()
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    if number > 1e9:
        return datetime.fromtimestamp(number, UTC)
    return now + timedelta(seconds=max(0.0, number))


@dataclass
class RateBudget:
    """The rate-limit budget the server last announced (for `smcc doctor` and pacing).

    Read from ``x-ratelimit-*`` (Mastodon, Reddit), ``x-rate-limit-*`` (X) or the IETF draft's
    ``ratelimit-*`` (Bluesky's PDS and AppView).
    """

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    seen_at: datetime | None = None

    def update(self, headers: Mapping[str, str], now: datetime | None = None) -> None:
        now = now or utcnow()
        limit = _header(headers, "x-ratelimit-limit", "x-rate-limit-limit", "ratelimit-limit")
        remaining = _header(
            headers, "x-ratelimit-remaining", "x-rate-limit-remaining", "ratelimit-remaining"
        )
        reset = _header(headers, "x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset")
        if limit is None and remaining is None and reset is None:
            return
        used = _header(headers, "x-ratelimit-used")
        self.limit = _int(limit)
        self.remaining = _int(remaining)
        if self.limit is None and self.remaining is not None and used is not None:
            # Reddit sends used + remaining, not the limit.
            used_n = _int(used)
            self.limit = None if used_n is None else used_n + self.remaining
        self.reset_at = parse_reset(reset, now) if reset is not None else None
        self.seen_at = now

    def exhausted_for(self, now: datetime | None = None) -> float | None:
        """Seconds until the reset when nothing remains of the budget, else None."""
        if self.remaining is None or self.remaining > 0 or self.reset_at is None:
            return None
        wait = (self.reset_at - (now or utcnow())).total_seconds()
        return wait if wait > 0 else None

    def describe(self) -> str:
        if self.remaining is None:
            return "not announced"
        of = f"/{self.limit}" if self.limit is not None else ""
        reset = f", resets {self.reset_at:%H:%M:%S}Z" if self.reset_at else ""
        return f"{self.remaining}{of} left{reset}"


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Credentials


@dataclass(frozen=True)
class Credentials:
    """The credential fields one source needs, looked up once through `smcc.config.credential`.

    Values are held here and handed to the HTTP layer only as secrets to redact; `__repr__`
    never shows them.
    """

    source: str
    values: Mapping[str, str] = field(repr=False)
    missing: tuple[str, ...] = ()
    problem: str = ""
    """Why the secrets file could not be read (already free of secrets)."""

    @classmethod
    def lookup(
        cls, config: Config, source: str, required: Iterable[str], optional: Iterable[str] = ()
    ) -> Credentials:
        required = tuple(required)
        values: dict[str, str] = {}
        missing: list[str] = []
        try:
            for name in required:
                value = credential(config, source, name)
                if value:
                    values[name] = value
                else:
                    missing.append(name)
            for name in optional:
                value = credential(config, source, name)
                if value:
                    values[name] = value
        except SecretError as exc:
            return cls(source, {}, required, str(exc))
        return cls(source, values, tuple(missing))

    @staticmethod
    def env_name(source: str, name: str) -> str:
        return _env_name(source, name)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def require(self) -> None:
        """Raise the fatal 'credentials missing' SourceError unless every required one is set."""
        if self.problem:
            raise SourceError(f"credentials missing: {self.problem}", fatal=True)
        if self.missing:
            names = " and ".join(self.env_name(self.source, m) for m in self.missing)
            fields = ", ".join(self.missing)
            raise SourceError(
                f"credentials missing: set {names} (or {fields} under [{self.source}] "
                "in the secrets file)",
                fatal=True,
            )

    def secrets(self) -> list[str]:
        return [v for v in self.values.values() if v]


# ---------------------------------------------------------------------------------------------
# Redaction


def redact_url(url: str | httpx.URL) -> str:
    """The URL with secret-looking query parameter values and userinfo blanked."""
    parts = urlsplit(str(url))
    query = urlencode(
        [
            (k, REDACTED if SECRET_PARAM.search(k) else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]",
    )
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


_KNOWN_SECRETS: set[str] = set()
"""Every secret an HttpApi was given, for the log filter on httpx's own loggers."""


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given and every registered secret blanked (longest first)."""
    for secret in sorted({*secrets, *_KNOWN_SECRETS}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Blanks secrets in the records of httpx/httpcore, which log full request URLs at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                redact_text(redact_url(a)) if isinstance(a, httpx.URL) else _redact_arg(a)
                for a in args
            )
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)


def _redact_arg(value: object) -> object:
    if isinstance(value, str):
        return redact_text(redact_url(value) if _URL.match(value) else value)
    return value


# httpx logs every request's full URL (query included) at INFO on this logger.
logging.getLogger("httpx").addFilter(RedactingFilter())


# ---------------------------------------------------------------------------------------------
# Requests


class HttpApi:
    """One source's HTTP client: requests with timeouts, failures as SourceError, the budget.

    `secrets` are values to blank in every message (the source's tokens); the headers passed to
    the client are treated as secret too when named Authorization or Cookie.
    """

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        user_agent: str = USER_AGENT,
    ) -> None:
        self.source = source
        self.timeout = timeout
        self.budget = RateBudget()
        self.last_status: int | None = None
        self.last_ok: datetime | None = None
        self._secrets: list[str] = []
        for secret in secrets:
            self.add_secret(secret)
        for name, value in (headers or {}).items():
            if name.lower() in ("authorization", "cookie", "x-api-key"):
                self.add_secret(value)
        self.client = make_client(base_url, timeout=timeout, headers=headers, user_agent=user_agent)

    def add_secret(self, value: str) -> None:
        """Blank `value` (and its bearer-less part) in every message from now on."""
        for part in (value, value.split(" ", 1)[-1]):
            if part and len(part) >= 4 and part not in self._secrets:
                self._secrets.append(part)
                _KNOWN_SECRETS.add(part)

    def set_header(self, name: str, value: str | None) -> None:
        """Set (or with None, remove) a default header, e.g. a refreshed Authorization."""
        if value is None:
            self.client.headers.pop(name, None)
            return
        if name.lower() in ("authorization", "cookie", "x-api-key"):
            self.add_secret(value)
        self.client.headers[name] = value

    def redact(self, text: str) -> str:
        return redact_text(text, self._secrets)

    def _where(self, method: str, url: str | httpx.URL) -> str:
        return self.redact(f"{method} {redact_url(url)}")

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        ok: Iterable[int] = (),
    ) -> httpx.Response:
        """Send one request; return a 2xx (or one of `ok`) response, else raise SourceError."""
        wait = self.budget.exhausted_for()
        if wait is not None:
            raise SourceError(
                f"rate limit used up ({self.budget.describe()}); waiting for the reset",
                retry_after=wait,
            )
        request = self.client.build_request(
            method,
            path,
            params=_clean_params(params),
            json=json_body,
            data=data,
            headers=headers,
            timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        where = self._where(method, request.url)
        log.debug("%s: %s", self.source, where)
        try:
            response = await self.client.send(request)
        except httpx.TimeoutException as exc:
            raise SourceError(
                f"{where}: no answer within {timeout or self.timeout:g}s ({type(exc).__name__})",
                ambiguous=_maybe_sent(exc),
            ) from None
        except httpx.TransportError as exc:
            raise SourceError(
                f"{where}: connection failed ({type(exc).__name__}: {self.redact(str(exc))})",
                ambiguous=_maybe_sent(exc),
            ) from None
        self.last_status = response.status_code
        self.budget.update(response.headers)
        status = response.status_code
        if 200 <= status < 300 or status in set(ok):
            self.last_ok = utcnow()
            return response
        await response.aread()
        raise self._status_error(where, response)

    def error_for(self, response: httpx.Response) -> SourceError:
        """The SourceError `request` raises for `response`, for one that `ok=` let through
        so that the caller could look at it first (an expired token to refresh)."""
        return self._status_error(
            self._where(response.request.method, response.request.url), response
        )

    def _status_error(self, where: str, response: httpx.Response) -> SourceError:
        status = response.status_code
        detail = self._detail(response)
        label = f"{where}: {status} {response.reason_phrase}".rstrip() + detail
        if status in (401, 403):
            return SourceError(f"credentials rejected ({label})", fatal=True, status=status)
        retry_after = self._retry_after(response)
        if status == 429:
            return SourceError(f"rate limited ({label})", retry_after=retry_after, status=status)
        if status >= 500:
            # A server error may come after the server acted (a post stored, the answer failed).
            return SourceError(
                f"server error ({label})", retry_after=retry_after, ambiguous=True, status=status
            )
        return SourceError(f"request refused ({label})", retry_after=retry_after, status=status)

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = _header(response.headers, "retry-after")
        if value is not None:
            seconds = parse_retry_after(value)
            if seconds is not None:
                return seconds
        reset = self.budget.reset_at
        if response.status_code == 429 and reset is not None:
            return max(0.0, (reset - utcnow()).total_seconds())
        return None

    def _detail(self, response: httpx.Response) -> str:
        """The server's own short error message, if it sent one (redacted, one line)."""
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            return ""
        message: Any = None
        if isinstance(body, dict):
            message = body.get("error_description") or body.get("error") or body.get("message")
            if isinstance(message, dict):
                message = message.get("message")
            elif isinstance(body.get("error"), str) and isinstance(body.get("message"), str):
                # XRPC: `error` is a code (AuthenticationRequired), `message` says why.
                message = f"{body['error']}: {body['message']}"
        if not isinstance(message, str) or not message.strip():
            return ""
        one_line = " ".join(message.split())[:200]
        return f": {self.redact(one_line)}"

    async def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        expect: type[Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """GET `path` and decode its JSON; `expect=list` / `dict` checks the top-level shape."""
        response = await self.request("GET", path, params=params, timeout=timeout)
        return self.decode(response, expect)

    def decode(self, response: httpx.Response, expect: type[Any] | None = None) -> Any:
        """The JSON body of `response`, or a SourceError saying how it is broken."""
        where = self._where(response.request.method, response.request.url)
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            size = len(response.content)
            what = "empty body" if not size else f"not valid JSON ({size} bytes; {exc})"
            raise SourceError(f"{where}: {self.redact(what)}") from None
        if expect is not None and not isinstance(body, expect):
            raise SourceError(
                f"{where}: unexpected JSON: {_json_type(body)} where "
                f"{'an array' if expect is list else 'an object'} was expected"
            )
        return body

    async def sse_events(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        idle_timeout: float,
        on_open: Callable[[], None] | None = None,
    ) -> AsyncIterator[tuple[str, str]]:
        """(event, data) pairs of a server-sent-events stream, until it fails.

        `idle_timeout` is how long the stream may stay silent (heartbeats count) before it is
        taken as dead. The stream ending, dropping or stalling raises SourceError, so a caller
        always learns that it must fall back (e.g. to polling) — a stream never just stops.
        `on_open` is called once the server has accepted the stream (before any event), so a
        caller can poll for what came before without leaving a gap.
        """
        request = self.client.build_request(
            "GET",
            path,
            params=_clean_params(params),
            headers={"Accept": "text/event-stream"},
            timeout=httpx.Timeout(self.timeout, read=idle_timeout),
        )
        where = self._where("GET", request.url)
        log.debug("%s: stream %s", self.source, where)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise SourceError(f"{where}: no answer within {self.timeout:g}s ({exc!r})") from None
        except httpx.TransportError as exc:
            raise SourceError(
                f"{where}: connection failed ({type(exc).__name__}: {self.redact(str(exc))})"
            ) from None
        try:
            self.last_status = response.status_code
            self.budget.update(response.headers)
            if not 200 <= response.status_code < 300:
                await response.aread()
                raise self._status_error(where, response)
            self.last_ok = utcnow()
            if on_open is not None:
                on_open()
            event, data = "message", list[str]()
            async for line in response.aiter_lines():
                if not line:
                    if data:
                        yield event, "\n".join(data)
                    event, data = "message", []
                elif line.startswith(":"):
                    continue  # a comment: the server's heartbeat
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "event":
                        event = value
                    elif name == "data":
                        data.append(value)
            raise SourceError(f"{where}: stream ended by the server")
        except httpx.TimeoutException:
            raise SourceError(f"{where}: stream silent for {idle_timeout:g}s") from None
        except httpx.TransportError as exc:
            raise SourceError(
                f"{where}: stream dropped ({type(exc).__name__}: {self.redact(str(exc))})"
            ) from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()


async def http_checks(
    api: HttpApi,
    credentials: Credentials | None,
    probe: str,
    *,
    params: Mapping[str, Any] | None = None,
    sign_in: Callable[[], Awaitable[object]] | None = None,
    sign_in_api: HttpApi | None = None,
) -> list[Check]:
    """The checks `smcc doctor` runs on an HTTP source: credentials present, the endpoint
    reachable, auth accepted, and the rate-limit budget the answer announced.

    Auth is proven by `sign_in` when the platform has one (a session or token request, sent
    through `sign_in_api`, default `api`), then by GET `probe`, an endpoint that needs the
    credentials. The first step that fails says what to fix and ends the checks.
    """
    checks: list[Check] = []
    if credentials is not None:
        try:
            credentials.require()
        except SourceError as exc:
            checks.append(Check("credentials", CheckStatus.FAIL, str(exc), _fix(str(exc))))
            return checks
        names = ", ".join(credentials.values) or "none needed"
        checks.append(Check("credentials", CheckStatus.OK, f"present ({names})"))

    async def get_probe() -> object:
        return await api.request("GET", probe, params=params)

    steps: list[tuple[HttpApi, Callable[[], Awaitable[object]]]] = []
    if sign_in is not None:
        steps.append((sign_in_api or api, sign_in))
    steps.append((api, get_probe))
    reached: set[str] = set()
    for used, step in steps:
        used.last_status = None
        host = str(used.client.base_url)
        try:
            await step()
        except SourceError as exc:
            if used.last_status is None:
                checks.append(
                    Check(
                        "endpoint",
                        CheckStatus.FAIL,
                        str(exc),
                        f"check base_url ({used.client.base_url}) and the network",
                    )
                )
                return checks
            if host not in reached:
                checks.append(_reachable(used, len(steps) > 1))
            checks.append(auth_failure(exc, used.last_status))
            checks.append(budget_check(api.budget))
            return checks
        if host not in reached:
            reached.add(host)
            checks.append(_reachable(used, len(steps) > 1))
    how = "signed in, and accepted" if sign_in is not None else "accepted"
    checks.append(Check("auth", CheckStatus.OK, f"{how} by GET {probe}"))
    checks.append(budget_check(api.budget))
    return checks


def _reachable(api: HttpApi, name_host: bool) -> Check:
    where = f", {api.client.base_url.host}" if name_host else ""
    return Check("endpoint", CheckStatus.OK, f"reachable (HTTP {api.last_status}{where})")


def auth_failure(exc: SourceError, status: int) -> Check:
    """The doctor line for a request the server answered with an error."""
    if status in (401, 403) or exc.fatal:
        return Check("auth", CheckStatus.FAIL, str(exc), "renew the token or app password")
    if status == 429:
        return Check("auth", CheckStatus.WARN, str(exc), "wait for the reset")
    return Check("auth", CheckStatus.FAIL, str(exc), "see the error")


def budget_check(budget: RateBudget, what: str = "rate limit") -> Check:
    """The doctor line for a rate-limit budget: a used-up one is a warning (wait, then it works)."""
    if budget.remaining is None:
        return Check(what, CheckStatus.OK, "no budget announced")
    if budget.remaining == 0:
        return Check(what, CheckStatus.WARN, budget.describe(), "wait for the reset")
    return Check(what, CheckStatus.OK, budget.describe())


def _fix(message: str) -> str:
    match = re.search(r"set (SMCC_\S+)", message)
    if match:
        return f"export {match.group(1)}=… or add it to the secrets file"
    if "chmod" in message:
        return message.rsplit("run: ", 1)[-1]
    return "see the error"


def _maybe_sent(exc: httpx.TransportError) -> bool:
    """Whether a failed request may have reached the server: not when the connection was never
    made (refused, or no connection within the timeout, or none free in the pool)."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def shape_error(where: str, problem: str) -> SourceError:
    """A SourceError for JSON whose top level is right but whose content is not."""
    return SourceError(f"{where}: unexpected JSON: {problem}")


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number" if isinstance(value, int | float) else type(value).__name__


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop None values; booleans as the lower-case words APIs expect."""
    if params is None:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
