"""The crash matrix (issue 7, points 2 and 7): `smcc ingest` sending a reply is killed with
SIGKILL before the request, during it (the stand-in stored the status and kills the process
before answering), and after the answer but before the database says `sent`. A second
`smcc ingest` then takes the lease; in every case exactly one status exists on the (loopback)
Mastodon afterwards, and the outbox row ends `sent` with that status's id."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from loopback import LoopbackServer, Reply
from mastodon_standin import MastodonStandIn
from outbox_helpers import SOURCE, TOKEN, config_text, make_config, store_customer_post
from smcc.models import OutboxState, utcnow
from smcc.outbox import Outbox
from smcc.store import Store

CHILD = Path(__file__).with_name("outbox_child.py")


def _child(crash_at: str, config: Path, db: Path, keys: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SMCC_TEST_NO_KEYS": "0" if keys else "1",
        "SMCC_CONFIG": str(config),
        "SMCC_BRAND_MASTODON_ACCESS_TOKEN": TOKEN,
        "PYTHONPATH": os.pathsep.join([str(CHILD.parent), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, str(CHILD), crash_at, "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _state(db: Path, item_id: int) -> tuple[str, str | None, int]:
    with sqlite3.connect(db, timeout=5) as conn:
        row = conn.execute(
            "SELECT state, platform_id, attempts FROM outbox WHERE id = ?", (item_id,)
        ).fetchone()
    return row[0], row[1], row[2]


@pytest.fixture
def standin() -> Iterator[MastodonStandIn]:
    with LoopbackServer() as server:
        yield MastodonStandIn(server, TOKEN)


@pytest.mark.parametrize(
    "keys", [pytest.param(True, id="idempotency-key"), pytest.param(False, id="lookup")]
)
@pytest.mark.parametrize("crash_at", ["before_send", "during_send", "after_send"])
def test_sigkill_at_every_step_of_sending_posts_exactly_once(
    crash_at: str,
    keys: bool,
    standin: MastodonStandIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`lookup`: the platform forgets keys at once and the source does not rely on them (like X,
    Bluesky, Reddit), so only the lookup before a resend prevents a second post."""
    monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", TOKEN)
    if not keys:
        standin.key_ttl = 0.0
    config_path = tmp_path / "config.toml"
    config_path.write_text(config_text(standin.server.base_url), encoding="utf-8")
    db = tmp_path / "outbox.db"
    with Store.open(db) as store:
        mention_id = store_customer_post(store, standin, "nusantel down in Bandung")
        item = Outbox(store, make_config(standin.server.base_url)).reply(
            mention_id, "sorry {author}, engineers are on it"
        )
    assert item.id is not None

    child = _child("none" if crash_at == "during_send" else crash_at, config_path, db, keys)
    if crash_at == "during_send":

        def kill_then_drop(status: dict[str, Any]) -> Reply:
            os.kill(child.pid, signal.SIGKILL)  # the status is stored; the answer never leaves
            return Reply.reset()

        standin.after_store.append(kill_then_drop)
    _, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, err.decode()
    state, platform_id, attempts = _state(db, item.id)
    assert (state, platform_id, attempts) == ("sending", None, 1)
    assert len(standin.own_statuses()) == (0 if crash_at == "before_send" else 1)

    # The next holder of the lease finds the item in doubt and settles it.
    survivor = _child("none", config_path, db, keys)
    try:
        deadline = time.monotonic() + 60
        while _state(db, item.id)[0] != "sent":
            assert survivor.poll() is None, survivor.communicate()[1].decode()
            assert time.monotonic() < deadline, _state(db, item.id)
            time.sleep(0.05)
    finally:
        survivor.send_signal(signal.SIGTERM)
        _, err = survivor.communicate(timeout=30)
    assert survivor.returncode == 0, err.decode()

    own = standin.own_statuses()
    assert len(own) == 1, own
    state, platform_id, attempts = _state(db, item.id)
    assert (state, platform_id, attempts) == ("sent", own[0]["id"], 2)
    posts = standin.server.requests_to("/api/v1/statuses", "POST")
    assert {p.headers["idempotency-key"] for p in posts} == {item.idempotency_key}
    # With keys the survivor repeats the request; without, it finds the status and sends nothing.
    assert len(posts) == (1 if crash_at == "before_send" or not keys else 2)
    with Store.open(db) as store:
        done = store.outbox_item(item.id)
        assert done is not None
        assert done.state is OutboxState.SENT
        events = store.outbox_events(item.id)
        story = [e.action for e in events]
        found = next(e for e in events if e.action == "outbox_sent").detail["found_on_platform"]
        mention = store.get_mention(mention_id)
        assert mention is not None
        assert mention.status == "replied"
    assert story == [
        "outbox_created",
        "outbox_sending",
        "outbox_recovered",
        "outbox_sending",
        "outbox_sent",
        "replied",
    ]
    assert found is (not keys and crash_at != "before_send")


def test_ingest_sends_a_post_at_its_time_and_marks_a_long_missed_one(
    standin: MastodonStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`smcc ingest` holds the lease: a post due in 3 s goes out within 5 s of its time; a post
    due 2 h ago (while nothing ran) is marked missed at the start; one due 10 min ago goes out."""
    monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", TOKEN)
    config_path = tmp_path / "config.toml"
    config_path.write_text(config_text(standin.server.base_url), encoding="utf-8")
    db = tmp_path / "calendar.db"
    now = utcnow()
    with Store.open(db) as store:
        outbox = Outbox(store, make_config(standin.server.base_url))
        due = outbox.post(SOURCE, "Promo at three", now + timedelta(seconds=3))
        old = outbox.post(SOURCE, "Yesterday's promo", now - timedelta(hours=2))
        late = outbox.post(SOURCE, "This morning's promo", now - timedelta(minutes=10))
    child = _child("none", config_path, db, keys=True)
    try:
        deadline = time.monotonic() + 60
        while _state(db, due.id or 0)[0] != "sent":
            assert child.poll() is None, child.communicate()[1].decode()
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=30)
    with Store.open(db) as store:
        sent = store.outbox_item(due.id or 0)
        assert sent is not None
        assert sent.sent_at is not None
        assert sent.scheduled_at is not None
        assert 0 <= (sent.sent_at - sent.scheduled_at).total_seconds() < 5
        missed = store.outbox_item(old.id or 0)
        assert missed is not None
        assert missed.state is OutboxState.MISSED
        assert store.outbox_item(late.id or 0).state is OutboxState.SENT  # type: ignore[union-attr]
    texts = sorted(s["content"] for s in standin.own_statuses())
    assert texts == ["<p>Promo at three</p>", "<p>This morning&#x27;s promo</p>"]
