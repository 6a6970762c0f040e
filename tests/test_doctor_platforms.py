"""`smcc doctor` for the twitter, bluesky and reddit sources against one loopback server:
a good token, a missing credential, a rejected token and an unreachable host, with the exit
status, what to fix, and no secret in the output."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from loopback import LoopbackServer, Reply, Request
from smcc.cli import main
from smcc.sources.base import CheckStatus, Fetched, Source

X_TOKEN = "AAAA-doctor-bearer-77f0c1d2"
BSKY_PASSWORD = "abcd-efgh-ijkl-mnop"
BSKY_ACCESS = "eyJ-access-jwt-5e1d"
BSKY_REFRESH = "eyJ-refresh-jwt-9a2b"
RD_ID, RD_SECRET, RD_REFRESH = "rd-client-id-31", "rd-client-secret-8c4e", "rd-refresh-6d0f"
RD_ACCESS = "rd-access-token-2f7a"
GOOD_ENV = {
    "SMCC_X_BEARER_TOKEN": X_TOKEN,
    "SMCC_BSKY_APP_PASSWORD": BSKY_PASSWORD,
    "SMCC_RD_CLIENT_ID": RD_ID,
    "SMCC_RD_CLIENT_SECRET": RD_SECRET,
    "SMCC_RD_REFRESH_TOKEN": RD_REFRESH,
}
SECRETS = [*GOOD_ENV.values(), BSKY_ACCESS, BSKY_REFRESH, RD_ACCESS]


def write_config(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"[sources.x]\ntype = 'twitter'\nbase_url = '{base_url}'\nquery = ['kopi']\n"
        f"[sources.bsky]\ntype = 'bluesky'\nbase_url = '{base_url}'\nhandle = 'brand.test'\n"
        f"[sources.rd]\ntype = 'reddit'\nbase_url = '{base_url}'\nauth_url = '{base_url}'\n"
        "subreddits = ['kopi']\n",
        encoding="utf-8",
    )
    return path


def set_env(monkeypatch: pytest.MonkeyPatch, **changes: str | None) -> None:
    for name, value in {**GOOD_ENV, **changes}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def serve(server: LoopbackServer) -> None:
    reset = str(int(time.time()) + 600)

    def x_search(r: Request) -> Reply:
        if r.headers.get("authorization") != f"Bearer {X_TOKEN}":
            return Reply.json(
                {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}, 401
            )
        return Reply.json(
            {"meta": {"result_count": 0}},
            headers={
                "x-rate-limit-limit": "450",
                "x-rate-limit-remaining": "449",
                "x-rate-limit-reset": reset,
            },
        )

    def bsky_session(r: Request) -> Reply:
        if r.json() != {"identifier": "brand.test", "password": BSKY_PASSWORD}:
            return Reply.json(
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                401,
            )
        return Reply.json(
            {"accessJwt": BSKY_ACCESS, "refreshJwt": BSKY_REFRESH, "did": "did:plc:brand"}
        )

    def bsky_unread(r: Request) -> Reply:
        if r.headers.get("authorization") != f"Bearer {BSKY_ACCESS}":
            return Reply.json({"error": "AuthMissing"}, 401)
        return Reply.json(
            {"count": 3},
            headers={
                "ratelimit-limit": "3000",
                "ratelimit-remaining": "2990",
                "ratelimit-reset": reset,
            },
        )

    def rd_token(r: Request) -> Reply:
        basic = base64.b64encode(f"{RD_ID}:{RD_SECRET}".encode()).decode()
        if r.headers.get("authorization") != f"Basic {basic}":
            return Reply.json({"message": "Unauthorized", "error": 401}, 401)
        return Reply.json({"access_token": RD_ACCESS, "token_type": "bearer", "scope": "*"})

    def rd_new(r: Request) -> Reply:
        if r.headers.get("authorization") != f"bearer {RD_ACCESS}":
            return Reply.json({"message": "Unauthorized", "error": 401}, 401)
        return Reply.json(
            {"kind": "Listing", "data": {"children": [], "after": None}},
            headers={
                "x-ratelimit-used": "4",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": "120",
            },
        )

    server.route("GET", "/2/tweets/search/recent", x_search)
    server.route("POST", "/xrpc/com.atproto.server.createSession", bsky_session)
    server.route("GET", "/xrpc/app.bsky.notification.getUnreadCount", bsky_unread)
    server.route("POST", "/api/v1/access_token", rd_token)
    server.route("GET", "/r/kopi/new", rd_new)


def doctor(path: Path, *args: str) -> tuple[int, list[dict[str, str]], str]:
    """Exit code, the --json rows, and the table as printed (both checked for secrets)."""
    runner = CliRunner()
    as_json = runner.invoke(main, ["doctor", "--config", str(path), "--json", *args])
    table = runner.invoke(main, ["doctor", "--config", str(path), *args])
    assert as_json.exit_code == table.exit_code
    for secret in SECRETS:
        assert secret not in as_json.output
        assert secret not in table.output
    return as_json.exit_code, json.loads(as_json.output), table.output


def by_check(found: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["source"], r["check"]): r for r in found}


def statuses(found: list[dict[str, str]], source: str) -> list[tuple[str, str]]:
    return [(r["check"], r["status"]) for r in found if r["source"] == source]


def test_good_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)
    with LoopbackServer() as server:
        serve(server)
        code, found, table = doctor(write_config(tmp_path, server.base_url))
    assert code == 0, table  # reddit's used-up budget is a warning, not a failure
    assert statuses(found, "x") == [
        ("credentials", "ok"),
        ("endpoint", "ok"),
        ("auth", "ok"),
        ("rate limit (recent search)", "ok"),
    ]
    assert statuses(found, "bsky") == [
        ("credentials", "ok"),
        ("endpoint", "ok"),
        ("auth", "ok"),
        ("rate limit", "ok"),
    ]
    assert statuses(found, "rd") == [
        ("credentials", "ok"),
        ("endpoint", "ok"),
        ("auth", "ok"),
        ("rate limit", "warn"),
        ("grant", "ok"),
    ]
    rows = by_check(found)
    assert rows[("x", "rate limit (recent search)")]["detail"].startswith("449/450 left")
    assert rows[("bsky", "rate limit")]["detail"].startswith("2990/3000 left")
    assert rows[("rd", "rate limit")]["detail"].startswith("0/4 left")
    assert rows[("rd", "rate limit")]["fix"] == "wait for the reset"
    assert "signed in" in rows[("bsky", "auth")]["detail"]


def test_missing_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(
        monkeypatch,
        SMCC_X_BEARER_TOKEN=None,
        SMCC_BSKY_APP_PASSWORD=None,
        SMCC_RD_CLIENT_SECRET=None,
    )
    with LoopbackServer() as server:
        serve(server)
        code, found, _ = doctor(write_config(tmp_path, server.base_url))
        asked = list(server.requests)
    assert code == 1
    assert [(r["source"], r["check"], r["status"]) for r in found] == [
        ("x", "credentials", "fail"),
        ("bsky", "credentials", "fail"),
        ("rd", "credentials", "fail"),
    ]
    rows = by_check(found)
    assert "SMCC_X_BEARER_TOKEN" in rows[("x", "credentials")]["fix"]
    assert rows[("bsky", "credentials")]["fix"].startswith("export SMCC_BSKY_APP_PASSWORD=")
    assert rows[("rd", "credentials")]["fix"].startswith("export SMCC_RD_CLIENT_SECRET=")
    assert asked == []  # nothing is sent without the credentials


def test_rejected_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = {
        "SMCC_X_BEARER_TOKEN": "AAAA-revoked-bearer-000",
        "SMCC_BSKY_APP_PASSWORD": "wrong-app-pass-111",
        "SMCC_RD_CLIENT_SECRET": "wrong-rd-secret-222",
    }
    set_env(monkeypatch, **wrong)
    with LoopbackServer() as server:
        serve(server)
        code, found, table = doctor(write_config(tmp_path, server.base_url))
    assert code == 1
    for source in ("x", "bsky", "rd"):
        assert statuses(found, source)[:3] == [
            ("credentials", "ok"),
            ("endpoint", "ok"),
            ("auth", "fail"),
        ]
    rows = by_check(found)
    assert rows[("x", "auth")]["fix"] == "renew the bearer token (SMCC_X_BEARER_TOKEN)"
    assert "401" in rows[("x", "auth")]["detail"]
    assert "Invalid identifier or password" in rows[("bsky", "auth")]["detail"]
    assert rows[("rd", "auth")]["fix"] == "renew the token or app password"
    for value in wrong.values():
        assert value not in table
        assert value not in json.dumps(found)


def test_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)
    code, found, _ = doctor(write_config(tmp_path, "http://127.0.0.1:9"), "--timeout", "5")
    assert code == 1
    assert [(r["source"], r["check"], r["status"]) for r in found] == [
        ("x", "credentials", "ok"),
        ("x", "endpoint", "fail"),
        ("bsky", "credentials", "ok"),
        ("bsky", "endpoint", "fail"),
        ("rd", "credentials", "ok"),
        ("rd", "endpoint", "fail"),
    ]
    rows = by_check(found)
    assert rows[("x", "endpoint")]["fix"] == "check base_url (http://127.0.0.1:9) and the network"
    assert "connection failed" in rows[("bsky", "endpoint")]["detail"]


def test_app_only_reddit_grant_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, SMCC_RD_REFRESH_TOKEN=None)
    with LoopbackServer() as server:
        serve(server)
        code, found, _ = doctor(write_config(tmp_path, server.base_url), "--source", "rd")
    assert code == 0
    grant = by_check(found)[("rd", "grant")]
    assert grant["status"] == "warn"
    assert grant["fix"].startswith("set SMCC_RD_REFRESH_TOKEN")


class Unchecked(Source):
    """A network source that does not say how to check it."""

    type = "someday"

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        yield Fetched([], None)


async def test_a_source_without_checks_is_not_reported_ok() -> None:
    checks = await Unchecked("later").check()
    assert [c.status for c in checks] == [CheckStatus.WARN]
    assert "not checked" in checks[0].detail


def test_replay_file_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f"[sources.old]\ntype = 'replay'\npath = '{tmp_path / 'gone.jsonl'}'\n", encoding="utf-8"
    )
    code, found, _ = doctor(path)
    assert code == 1
    assert (found[0]["check"], found[0]["status"]) == ("file", "fail")
    (tmp_path / "gone.jsonl").write_text("", encoding="utf-8")
    code, found, _ = doctor(path)
    assert (code, found[0]["status"]) == (0, "ok")
