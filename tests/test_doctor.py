"""`smcc doctor` against the loopback server: what holds, what to fix, and the exit status."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from loopback import LoopbackServer, Reply
from smcc.cli import main
from smcc.config import parse_config

TOKEN = "doctor-token-3b9d2e"


def write_config(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        "[sources.demo]\n"
        f"[sources.masto]\ntype = 'mastodon'\nbase_url = '{base_url}'\n"
        f"[sources.news]\ntype = 'rss'\nfeeds = ['{base_url}/feed.xml']\n"
        f"[sources.old]\ntype = 'replay'\npath = 'x.jsonl'\nenabled = false\n{extra}",
        encoding="utf-8",
    )
    return path


def doctor(path: Path, *args: str) -> tuple[int, list[dict[str, str]]]:
    result = CliRunner().invoke(main, ["doctor", "--config", str(path), "--json", *args])
    return result.exit_code, json.loads(result.output)


def rows(found: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(r["source"], r["check"], r["status"]) for r in found]


def serve(server: LoopbackServer) -> None:
    server.route(
        "GET",
        "/api/v1/accounts/verify_credentials",
        lambda r: (
            Reply.json(
                {"id": "1", "acct": "brand"},
                headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299"},
            )
            if r.headers.get("authorization") == f"Bearer {TOKEN}"
            else Reply.json({"error": "The access token is invalid"}, 401)
        ),
    )
    server.route(
        "GET",
        "/feed.xml",
        Reply.text(
            b"<rss version='2.0'><channel><item><guid>1</guid></item></channel></rss>",
            "application/rss+xml",
        ),
    )


def test_all_good(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMCC_MASTO_ACCESS_TOKEN", TOKEN)
    with LoopbackServer() as server:
        serve(server)
        code, found = doctor(write_config(tmp_path, server.base_url))
    assert code == 0
    assert rows(found) == [
        ("demo", "source", "ok"),
        ("masto", "credentials", "ok"),
        ("masto", "endpoint", "ok"),
        ("masto", "auth", "ok"),
        ("masto", "rate limit", "ok"),
        ("news", f"feed {server.base_url}/feed.xml", "ok"),
        ("old", "enabled", "skipped"),
    ]
    assert found[4]["detail"] == "299/300 left"


def test_what_is_wrong_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMCC_MASTO_ACCESS_TOKEN", "expired-token-000")
    with LoopbackServer() as server:
        serve(server)
        path = write_config(tmp_path, server.base_url)
        code, found = doctor(path)
        result = CliRunner().invoke(main, ["doctor", "--config", str(path)])
    assert code == 1
    by_check = {(r["source"], r["check"]): r for r in found}
    assert by_check[("masto", "auth")]["status"] == "fail"
    assert by_check[("masto", "auth")]["fix"] == "renew the token or app password"
    assert "expired-token-000" not in result.output
    assert result.exit_code == 1
    assert "renew" in result.output


def test_missing_credentials_and_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMCC_MASTO_ACCESS_TOKEN", raising=False)
    path = write_config(tmp_path, "http://127.0.0.1:9")
    code, found = doctor(path, "--source", "masto", "--source", "news", "--timeout", "5")
    assert code == 1
    assert rows(found) == [
        ("masto", "credentials", "fail"),
        ("news", "feed http://127.0.0.1:9/feed.xml", "fail"),
    ]
    assert found[0]["fix"] == "export SMCC_MASTO_ACCESS_TOKEN=… or add it to the secrets file"
    assert "connection failed" in found[1]["detail"]


TOML_LINE = re.compile(r"^# (\[|\]|\s+[\"{]|[a-z_]+\s*=)")
"""A commented-out line of TOML: a table, a key, or an item of a multi-line array."""


def test_documented_source_sections_parse_when_uncommented() -> None:
    """The commented-out [sources.…] examples in config.toml are valid once uncommented."""
    text = (Path(__file__).resolve().parents[1] / "config.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# [sources."))
    block: list[str] = []
    for line in lines[start:]:
        if line.startswith("# ----"):
            break
        if TOML_LINE.match(line):
            block.append(line[2:])
    config = parse_config("\n".join(block))
    assert {s.type for s in config.sources.values()} >= {"mastodon", "rss", "replay"}
