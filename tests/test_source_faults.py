"""Fault injection per adapter (issue 6, point 7), through the real pipeline and store.

Each platform is a small fake on the loopback server that grows as it is polled; faults are
answered in place of some of its replies. Expected: the pipeline backs off (honouring
Retry-After), the source's health says why, it recovers when the server does, and the store ends
with every item exactly once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loopback import LoopbackServer, Reply, Request
from smcc.config import PipelineSettings, parse_config
from smcc.pipeline import Pipeline
from smcc.sources import build_source
from smcc.sources.base import Backoff, HealthState, Source, SourceHealth
from smcc.store import Store

TOKEN = "live-token-7a1f3c9e"
TOTAL = 24


class RecordingHealth(SourceHealth):
    """SourceHealth that remembers every state it was set to, with its reason."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[tuple[HealthState, str]] = []

    def set(self, state: HealthState, reason: str = "", until: datetime | None = None) -> None:
        self.history.append((state, reason))
        super().set(state, reason, until)


class QuickBackoff(Backoff):
    """The pipeline's backoff with test-sized delays; remembers what it was asked."""

    asked: list[float | None] = []  # noqa: RUF012 - shared on purpose: one list per test

    def __init__(self, base: float = 1.0, cap: float = 300.0) -> None:
        super().__init__(base=0.01, cap=0.05)

    def next_delay(self, retry_after: float | None = None) -> float:
        QuickBackoff.asked.append(retry_after)
        return super().next_delay(retry_after)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    QuickBackoff.asked = []
    monkeypatch.setattr("smcc.pipeline.Backoff", QuickBackoff)


FAULTS: dict[str, Reply] = {
    "429": Reply.json({"error": "Too many requests"}, 429, {"Retry-After": "1"}),
    "500": Reply.json({"error": "boom"}, 500),
    "502": Reply.text("<html>Bad Gateway</html>", "text/html", 502),
    "503": Reply(503, b"", {"Retry-After": "0"}),
    "reset": Reply.reset(),
    "stall": Reply(delay=0.8),
}
REASONS = {
    "429": "rate limited",
    "500": "server error",
    "502": "server error",
    "503": "server error",
    "reset": "connection failed",
    "stall": "no answer within 0.3s",
    "truncated": "not valid JSON",
    "wrong shape": "unexpected JSON",
}


class Plan:
    """Answers request number n (1-based) with the planned fault, else with `ok`."""

    def __init__(self, faults: dict[int, str], ok: Callable[[Request], Reply], bad: Any) -> None:
        self.faults, self.ok, self.bad = faults, ok, bad
        self.count = 0

    def __call__(self, request: Request) -> Reply:
        self.count += 1
        fault = self.faults.get(self.count)
        if fault is None:
            return self.ok(request)
        reply: Reply = self.bad(fault) if fault in ("truncated", "wrong shape") else FAULTS[fault]
        return reply


def settings() -> PipelineSettings:
    return PipelineSettings.model_validate(
        {"batch_size": 50, "batch_interval": "20ms", "queue_size": 500}
    )


async def run(source: Source, store: Store, limit: int | None = TOTAL) -> None:
    source.health = RecordingHealth()
    await Pipeline(store, [source], settings(), limit=limit).run()


def reasons(source: Source) -> str:
    assert isinstance(source.health, RecordingHealth)
    return "\n".join(r for s, r in source.health.history if s is HealthState.BACKING_OFF)


# ---------------------------------------------------------------------------------------------
# Mastodon


def status(n: int) -> dict[str, Any]:
    return {
        "id": str(100 + n),
        "created_at": (datetime(2026, 11, 23, 8, tzinfo=UTC) + timedelta(seconds=n)).isoformat(),
        "in_reply_to_id": None,
        "url": f"https://m.example/@a/{100 + n}",
        "content": f"<p>@brand sinyal hilang {n}</p>",
        "spoiler_text": "",
        "visibility": "public",
        "account": {"id": "7", "acct": "a@m.example", "display_name": "A", "followers_count": 3},
        "favourites_count": n,
        "reblogs_count": 0,
        "replies_count": 0,
    }


class FakeNotifications:
    """Mention notifications that answer min_id/limit; three new ones per answered poll."""

    def __init__(self, token: str = TOKEN) -> None:
        self.available = 3
        self.tokens = {token}

    def __call__(self, request: Request) -> Reply:
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return Reply.json({"error": "The access token is invalid"}, 401)
        min_id = int(request.query.get("min_id", ["0"])[0])
        limit = int(request.query["limit"][0])
        page = [
            {"id": str(n), "type": "mention", "status": status(n)}
            for n in range(min_id + 1, self.available + 1)
        ][:limit]
        self.available = min(TOTAL, self.available + 3)
        return Reply.json(list(reversed(page)))


def bad_json(fault: str) -> Reply:
    if fault == "truncated":
        return Reply(
            200, b'[{"id": "99", "type": "mention", "sta', {"Content-Type": "application/json"}
        )
    return Reply.json({"error": "maintenance"})


def mastodon(base_url: str, monkeypatch: pytest.MonkeyPatch, token: str = TOKEN) -> Source:
    monkeypatch.setenv("SMCC_M_ACCESS_TOKEN", token)
    config = parse_config(
        f"[sources.m]\ntype = 'mastodon'\nbase_url = '{base_url}'\nstreaming = false\n"
        "hashtags = []\ninterval = '20ms'\ntimeout = '300ms'\n"
    )
    return build_source("m", config.sources["m"], config)


async def test_mastodon_survives_every_fault(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    plan = {2: "429", 3: "500", 5: "502", 6: "503", 8: "reset", 9: "stall", 11: "truncated"}
    plan[12] = "wrong shape"
    fake = FakeNotifications()
    store = Store.memory()
    with LoopbackServer() as server:
        server.route("GET", "/api/v1/notifications", Plan(plan, fake, bad_json))
        source = mastodon(server.base_url, monkeypatch)
        await run(source, store)
    ids = [external_id for _, external_id in store.keys("m")]
    assert sorted(ids, key=int) == [str(100 + n) for n in range(1, TOTAL + 1)]  # each once
    seen = reasons(source)
    for fault in plan.values():
        assert REASONS[fault] in seen, fault
    assert 1.0 in QuickBackoff.asked  # Retry-After: 1 was honoured
    assert source.health.errors == len(plan)
    assert json.loads(store.cursor("m") or "") == {"notifications": str(TOTAL)}
    assert TOKEN not in seen
    assert "/api/v1/notifications" in caplog.text  # requests and failures were logged …
    assert TOKEN not in caplog.text  # … without the token


async def test_mastodon_expired_token_fails_then_resumes_with_a_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeNotifications()
    store = Store.memory()
    with LoopbackServer() as server:
        answered = 0

        def expiring(request: Request) -> Reply:
            nonlocal answered
            answered += 1
            if answered == 4:
                fake.tokens = {"renewed-token-42"}  # the old token expires now
            return fake(request)

        server.route("GET", "/api/v1/notifications", expiring)
        first = mastodon(server.base_url, monkeypatch)
        await run(first, store, limit=None)
        assert first.health.state is HealthState.FAILING
        assert first.health.reason.startswith("credentials rejected (GET ")
        assert "The access token is invalid" in first.health.reason
        assert TOKEN not in first.health.reason
        stored_before = len(store.keys("m"))
        assert 0 < stored_before < TOTAL
        second = mastodon(server.base_url, monkeypatch, token="renewed-token-42")
        await run(second, store, limit=TOTAL - stored_before)
    ids = [external_id for _, external_id in store.keys("m")]
    assert sorted(ids, key=int) == [str(100 + n) for n in range(1, TOTAL + 1)]


# ---------------------------------------------------------------------------------------------
# RSS


class FakeFeed:
    """An RSS feed that gains two items per answered fetch."""

    def __init__(self) -> None:
        self.available = 2

    def body(self) -> bytes:
        items = "".join(
            f"<item><guid>https://b.example/{n}</guid><title>Post {n}</title>"
            f"<description>kopi {n}</description></item>"
            for n in range(self.available, 0, -1)
        )
        return f"<rss version='2.0'><channel><title>B</title>{items}</channel></rss>".encode()

    def __call__(self, request: Request) -> Reply:
        reply = Reply.text(self.body(), "application/rss+xml")
        self.available = min(TOTAL, self.available + 2)
        return reply


def bad_feed(fault: str) -> Reply:
    if fault == "truncated":
        return Reply.text(b"<rss version='2.0'><channel><title>B</ti", "application/rss+xml")
    return Reply.json({"error": "maintenance"})


async def test_rss_survives_every_fault() -> None:
    plan = {2: "429", 3: "500", 5: "502", 6: "503", 8: "reset", 9: "stall", 11: "truncated"}
    plan[12] = "wrong shape"
    fake = FakeFeed()
    store = Store.memory()
    with LoopbackServer() as server:
        server.route("GET", "/feed", Plan(plan, fake, bad_feed))
        config = parse_config(
            f"[sources.news]\ntype = 'rss'\nfeeds = ['{server.base_url}/feed']\n"
            "interval = '20ms'\ntimeout = '300ms'\n"
        )
        source = build_source("news", config.sources["news"], config)
        await run(source, store)
    ids = sorted(int(e.rsplit("/", 1)[-1]) for _, e in store.keys("news"))
    assert ids == list(range(1, TOTAL + 1))
    seen = reasons(source) + "\n".join(source.health.warnings)
    for fault in ("429", "500", "502", "503", "reset", "stall"):
        assert REASONS[fault] in seen, fault
    assert "SAXParseException" in seen or "not an RSS" in seen  # the truncated document
    assert "JSON without an 'items' array" in seen  # the wrong-shape one
    # Retry-After: 1 was honoured (what is left of it when every feed is failing).
    assert any(a is not None and 0.9 < a <= 1.0 for a in QuickBackoff.asked)
