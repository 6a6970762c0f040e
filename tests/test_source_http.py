"""The shared HTTP layer of the platform adapters, against the loopback server."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from loopback import LoopbackServer, Reply
from smcc.config import parse_config
from smcc.sources.base import CheckStatus, SourceError
from smcc.sources.http import (
    REDACTED,
    USER_AGENT,
    Credentials,
    HttpApi,
    RateBudget,
    http_checks,
    parse_reset,
    parse_retry_after,
    redact_url,
)

TOKEN = "tok-4f1c9e0b7d2a-SECRET"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def api(server: LoopbackServer, timeout: float = 1.0) -> HttpApi:
    return HttpApi(
        "brand-mastodon",
        server.base_url,
        timeout=timeout,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


async def test_get_json_sends_user_agent_auth_and_params() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/api/v1/x", Reply.json([{"id": "1"}]))
        client = api(server)
        body = await client.get_json("/api/v1/x", params={"limit": 40, "x": None, "on": True})
        await client.aclose()
    assert body == [{"id": "1"}]
    sent = server.requests[0]
    assert sent.headers["user-agent"] == USER_AGENT
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.query == {"limit": ["40"], "on": ["true"]}
    assert client.last_ok is not None
    assert client.last_status == 200


def _in(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("make_headers", "expected"),
    [
        (lambda: {"Retry-After": "7"}, 7.0),
        (lambda: {"Retry-After": format_datetime(_in(30), True)}, 30.0),
        (lambda: {"x-rate-limit-reset": str(int(_in(60).timestamp()))}, 60.0),
        (lambda: {"X-RateLimit-Reset": "12.0", "X-RateLimit-Remaining": "0"}, 12.0),
        (lambda: {"X-RateLimit-Reset": _in(90).isoformat()}, 90.0),
    ],
    ids=["retry-after-seconds", "retry-after-date", "reset-epoch", "reset-seconds", "reset-iso"],
)
async def test_429_becomes_a_source_error_with_retry_after(
    make_headers: Callable[[], dict[str, str]], expected: float
) -> None:
    headers = make_headers()
    with LoopbackServer() as server:
        server.route("GET", "/x", Reply.json({"error": "Too many requests"}, 429, headers))
        client = api(server)
        with pytest.raises(SourceError) as caught:
            await client.get_json("/x")
        await client.aclose()
    err = caught.value
    assert not err.fatal
    assert err.retry_after == pytest.approx(expected, abs=2.0)
    assert "rate limited" in str(err)
    assert "429" in str(err)
    assert "Too many requests" in str(err)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_retryable(status: int) -> None:
    with LoopbackServer() as server:
        server.route("GET", "/x", Reply.text("<html>oops</html>", "text/html", status))
        client = api(server)
        with pytest.raises(SourceError) as caught:
            await client.get_json("/x")
        await client.aclose()
    assert not caught.value.fatal
    assert f"server error (GET {server.base_url}/x: {status}" in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_credentials_are_fatal(status: int) -> None:
    with LoopbackServer() as server:
        server.route("GET", "/x", Reply.json({"error": "The access token is invalid"}, status))
        client = api(server)
        with pytest.raises(SourceError) as caught:
            await client.get_json("/x")
        await client.aclose()
    assert caught.value.fatal
    assert str(caught.value).startswith("credentials rejected (")
    assert "The access token is invalid" in str(caught.value)


async def test_connection_reset_and_stall() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/drop", Reply.reset())
        server.route("GET", "/stall", Reply(delay=0.6))
        client = api(server, timeout=0.2)
        with pytest.raises(SourceError, match="connection failed"):
            await client.get_json("/drop")
        with pytest.raises(SourceError, match=r"no answer within 0.2s \(ReadTimeout\)"):
            await client.get_json("/stall")
        await client.aclose()


@pytest.mark.parametrize(
    ("body", "expect", "message"),
    [
        (b'[{"id": "1"}, {"id": "2', list, "not valid JSON"),
        (b"", list, "empty body"),
        (b"<html>maintenance</html>", None, "not valid JSON"),
        (b'{"error": "nope"}', list, "an object where an array was expected"),
        (b'[{"id": "1"}]', dict, "an array where an object was expected"),
    ],
)
async def test_broken_and_wrong_shape_json(
    body: bytes, expect: type[object] | None, message: str
) -> None:
    with LoopbackServer() as server:
        server.route("GET", "/x", Reply(200, body, {"Content-Type": "application/json"}))
        client = api(server)
        with pytest.raises(SourceError) as caught:
            await client.get_json("/x", expect=expect)
        await client.aclose()
    assert not caught.value.fatal
    assert message in str(caught.value)


async def test_budget_is_recorded_and_an_exhausted_budget_waits_without_asking() -> None:
    reset = datetime.now(UTC) + timedelta(seconds=120)
    with LoopbackServer() as server:
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.isoformat(),
        }
        server.route("GET", "/x", Reply.json([], headers=headers))
        client = api(server)
        assert await client.get_json("/x") == []
        assert (client.budget.limit, client.budget.remaining) == (300, 0)
        assert "0/300 left" in client.budget.describe()
        with pytest.raises(SourceError, match="rate limit used up") as caught:
            await client.get_json("/x")
        await client.aclose()
    assert caught.value.retry_after == pytest.approx(120, abs=2)
    assert len(server.requests) == 1  # the second call never reached the server


def test_reddit_style_budget() -> None:
    budget = RateBudget()
    headers = httpx.Headers(
        {"x-ratelimit-used": "2", "x-ratelimit-remaining": "598.0", "x-ratelimit-reset": "312"}
    )
    budget.update(headers, NOW)
    assert (budget.limit, budget.remaining) == (600, 598)
    assert budget.reset_at == NOW + timedelta(seconds=312)
    assert budget.exhausted_for(NOW) is None


def test_header_time_formats() -> None:
    assert parse_retry_after("3", NOW) == 3.0
    assert parse_retry_after("Mon, 23 Nov 2026 12:00:45 GMT", NOW) == 45.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_reset("1795435200", NOW) == datetime.fromtimestamp(1795435200, UTC)
    assert parse_reset("2026-11-23T12:05:00.000Z", NOW) == NOW + timedelta(minutes=5)
    assert parse_reset("60", NOW) == NOW + timedelta(seconds=60)
    assert parse_reset("later", NOW) is None


def test_redact_url() -> None:
    url = "https://u:pw@h.example/api?q=kopi&access_token=abc&client_secret=s&limit=5"
    assert redact_url(url) == (
        f"https://h.example/api?q=kopi&access_token={REDACTED}&client_secret={REDACTED}&limit=5"
    )


async def test_secrets_never_appear_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    with LoopbackServer() as server:
        # A server that echoes the token back in its error message, and a URL carrying it.
        server.route("GET", "/echo", Reply.json({"error": f"bad token {TOKEN}"}, 401))
        server.route("GET", "/fail", Reply.json({"error": f"Bearer {TOKEN} x"}, 500))
        server.route("GET", "/drop", Reply.reset())
        client = api(server, timeout=0.3)
        for path in ("/echo", "/fail", "/drop"):
            with pytest.raises(SourceError) as caught:
                await client.get_json(path, params={"access_token": TOKEN, "q": "kopi"})
            errors.append(str(caught.value))
        await client.aclose()
    assert all(TOKEN not in e for e in errors), errors
    assert all("kopi" in e for e in errors)  # the rest of the URL is still there to debug
    assert TOKEN not in caplog.text
    assert "/echo" in caplog.text  # the requests were logged, redacted


def test_credentials_missing_is_one_fatal_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", raising=False)
    config = parse_config('[sources.brand-mastodon]\ntype = "mastodon"\n')
    creds = Credentials.lookup(config, "brand-mastodon", ["access_token"])
    assert creds.missing == ("access_token",)
    with pytest.raises(SourceError) as caught:
        creds.require()
    assert caught.value.fatal
    assert str(caught.value) == (
        "credentials missing: set SMCC_BRAND_MASTODON_ACCESS_TOKEN "
        "(or access_token under [brand-mastodon] in the secrets file)"
    )
    monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", TOKEN)
    creds = Credentials.lookup(config, "brand-mastodon", ["access_token"])
    creds.require()
    assert creds.get("access_token") == TOKEN
    assert TOKEN not in repr(creds)


def test_unreadable_secrets_file_is_credentials_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", raising=False)
    path = tmp_path / "secrets.toml"
    path.write_text(f'[brand-mastodon]\naccess_token = "{TOKEN}"\n')
    path.chmod(0o644)
    config = parse_config(f'secrets_file = "{path}"\n[sources.brand-mastodon]\ntype = "mastodon"\n')
    creds = Credentials.lookup(config, "brand-mastodon", ["access_token"])
    with pytest.raises(SourceError, match="readable by others; run: chmod 600") as caught:
        creds.require()
    assert TOKEN not in str(caught.value)
    path.chmod(0o600)
    assert Credentials.lookup(config, "brand-mastodon", ["access_token"]).get("access_token")


async def drain(events: AsyncIterator[tuple[str, str]], into: list[tuple[str, str]]) -> None:
    async for item in events:
        into.append(item)


async def test_sse_events_yield_then_raise_when_the_stream_ends_or_stalls() -> None:
    with LoopbackServer() as server:
        server.route(
            "GET",
            "/api/v1/streaming/user",
            Reply.sse([("update", '{"id": "1"}'), ("notification", '{"id": "2"}')]),
            times=1,
        )

        def silent(_request: object) -> Reply:
            def chunks() -> Iterator[bytes]:
                yield b":)\n\n"
                time.sleep(0.8)
                yield b"event: update\ndata: {}\n\n"

            return Reply(headers={"Content-Type": "text/event-stream"}, stream=chunks())

        server.route("GET", "/api/v1/streaming/user", silent)
        client = api(server)
        got: list[tuple[str, str]] = []
        with pytest.raises(SourceError, match="stream ended by the server"):
            await drain(client.sse_events("/api/v1/streaming/user", idle_timeout=1), got)
        assert got == [("update", '{"id": "1"}'), ("notification", '{"id": "2"}')]
        with pytest.raises(SourceError, match=r"stream silent for 0.3s"):
            await drain(client.sse_events("/api/v1/streaming/user", idle_timeout=0.3), got)
        await client.aclose()
    assert len(got) == 2


async def test_sse_events_refused_with_status() -> None:
    with LoopbackServer() as server:
        server.route("GET", "/s", Reply.json({"error": "nope"}, 401))
        client = api(server)
        with pytest.raises(SourceError, match="credentials rejected") as caught:
            await drain(client.sse_events("/s", idle_timeout=1), [])
        await client.aclose()
    assert caught.value.fatal


async def test_http_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", raising=False)
    config = parse_config('[sources.brand-mastodon]\ntype = "mastodon"\n')
    missing = Credentials.lookup(config, "brand-mastodon", ["access_token"])
    with LoopbackServer() as server:
        server.route(
            "GET", "/me", Reply.json({"error": "The access token is invalid"}, 401), times=1
        )
        server.route("GET", "/me", Reply.json({}, headers={"X-RateLimit-Remaining": "299"}))
        client = api(server)
        no_creds = await http_checks(client, missing, "/me")
        rejected = await http_checks(client, None, "/me")
        fine = await http_checks(client, None, "/me")
        await client.aclose()
    assert [(c.what, c.status) for c in no_creds] == [("credentials", CheckStatus.FAIL)]
    assert (
        no_creds[0].fix == "export SMCC_BRAND_MASTODON_ACCESS_TOKEN=… or add it to the secrets file"
    )
    assert [(c.what, c.status) for c in rejected] == [
        ("endpoint", CheckStatus.OK),
        ("auth", CheckStatus.FAIL),
        ("rate limit", CheckStatus.OK),
    ]
    assert [c.status for c in fine] == [CheckStatus.OK] * 3
    assert fine[2].detail == "299 left"
    unreachable = HttpApi("x", "http://127.0.0.1:9", timeout=0.5)
    down = await http_checks(unreachable, None, "/me")
    await unreachable.aclose()
    assert [(c.what, c.status) for c in down] == [("endpoint", CheckStatus.FAIL)]
    assert "check base_url" in down[0].fix
