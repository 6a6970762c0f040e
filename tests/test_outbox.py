"""The outbox against the Mastodon stand-in: states, audit story, exactly once under faults
in one process (the crash matrix across processes is in test_outbox_crash.py), text checks,
scheduling and approvals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from loopback import LoopbackServer, Reply
from mastodon_standin import MastodonStandIn
from outbox_helpers import SOURCE, TOKEN, make_config, settle, store_customer_post
from smcc import ingest
from smcc.config import Config, ConfigError, parse_config
from smcc.models import OutboxState, Status, utcnow
from smcc.outbox import Outbox, OutboxError, Sender, check_text, text_length
from smcc.sources import build_sources
from smcc.store import Store

S = OutboxState


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[MastodonStandIn]:
    monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", TOKEN)
    with LoopbackServer() as server:
        yield MastodonStandIn(server, TOKEN)


def setup(standin: MastodonStandIn, extra: str = "") -> tuple[Config, Store, Outbox, Sender, int]:
    config = make_config(standin.server.base_url, extra)
    store = Store.memory()
    mention_id = store_customer_post(store, standin, "nusantel down again?")
    return config, store, Outbox(store, config), Sender(store, config, holder="test:1"), mention_id


def posts(standin: MastodonStandIn) -> list[dict[str, Any]]:
    return standin.server.requests_to("/api/v1/statuses", "POST")  # type: ignore[return-value]


async def test_reply_goes_out_once_and_the_audit_log_tells_the_story(
    standin: MastodonStandIn,
) -> None:
    _config, store, outbox, sender, mid = setup(standin)
    item = outbox.reply(mid, "we are on it, {author}")
    assert item.state is S.QUEUED
    assert item.operator == "ayu"
    assert item.text == "we are on it, @dewi"
    done = await settle(sender, store, item.id or 0)
    own = standin.own_statuses()
    assert len(own) == 1
    assert done.state is S.SENT
    assert done.platform_id == own[0]["id"]
    assert done.attempts == 1
    assert own[0]["in_reply_to_id"] == store.get_mention(mid).external_id  # type: ignore[union-attr]
    request = standin.server.requests_to("/api/v1/statuses", "POST")[0]
    assert request.headers["idempotency-key"] == item.idempotency_key
    mention = store.get_mention(mid)
    assert mention is not None
    assert mention.status is Status.REPLIED
    first = store.conn.execute("SELECT first_response_at FROM mentions WHERE id = ?", (mid,))
    assert first.fetchone()[0] is not None
    story = [e.action for e in store.outbox_events(item.id or 0)]
    assert story == ["outbox_created", "outbox_sending", "outbox_sent", "replied"]
    await sender.aclose()


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda status: Reply.reset(), id="response-lost"),
        pytest.param(lambda status: Reply(delay=1.5), id="stall-past-timeout"),
        pytest.param(lambda status: Reply.json({"error": "boom"}, 502), id="5xx-after-storing"),
        pytest.param(lambda status: Reply(200, b'{"id": "1', {}), id="truncated-answer"),
    ],
)
async def test_an_ambiguous_failure_after_the_post_was_stored_never_posts_twice(
    standin: MastodonStandIn, fault: Any
) -> None:
    _config, store, outbox, sender, mid = setup(standin)
    standin.after_store.append(fault)
    item = outbox.reply(mid, "sorry, {author}, fixing it")
    done = await settle(sender, store, item.id or 0)
    own = standin.own_statuses()
    assert len(own) == 1, own
    assert done.state is S.SENT
    assert done.platform_id == own[0]["id"]
    assert done.attempts == 2
    keys = {r.headers["idempotency-key"] for r in standin.server.requests_to("/api/v1/statuses")}
    assert keys == {item.idempotency_key}
    actions = [e.action for e in store.outbox_events(item.id or 0)]
    assert actions[:4] == ["outbox_created", "outbox_sending", "outbox_retry", "outbox_sending"]
    retry = store.outbox_events(item.id or 0)[2]
    assert retry.detail["in_doubt"] is True
    await sender.aclose()


async def test_outside_the_key_window_the_sender_looks_before_sending_again(
    standin: MastodonStandIn,
) -> None:
    """The key is forgotten (Mastodon keeps it an hour): after a lost response the sender finds
    its own reply in the parent's context and records it, without a second POST."""
    standin.key_ttl = 0.0
    _config, store, outbox, sender, mid = setup(standin)
    source = sender.source(SOURCE)
    source.idempotency_window = timedelta(0)  # type: ignore[misc]
    standin.after_store.append(lambda status: Reply.reset())
    item = outbox.reply(mid, "looking into it")
    done = await settle(sender, store, item.id or 0)
    own = standin.own_statuses()
    assert len(own) == 1
    assert done.state is S.SENT
    assert done.platform_id == own[0]["id"]
    assert len(standin.server.requests_to("/api/v1/statuses", "POST")) == 1
    sent = [e for e in store.outbox_events(item.id or 0) if e.action == "outbox_sent"]
    assert sent[0].detail["found_on_platform"] is True
    await sender.aclose()


async def test_a_lookup_that_finds_nothing_sends_exactly_once(standin: MastodonStandIn) -> None:
    standin.key_ttl = 0.0
    _config, store, outbox, sender, mid = setup(standin)
    sender.source(SOURCE).idempotency_window = timedelta(0)  # type: ignore[misc]
    standin.before_store.append(lambda request: Reply.reset())  # lost before it took effect
    item = outbox.reply(mid, "looking into it")
    done = await settle(sender, store, item.id or 0)
    own = standin.own_statuses()
    assert len(own) == 1
    assert done.state is S.SENT
    assert done.platform_id == own[0]["id"]
    assert len(standin.server.requests_to(f"/api/v1/statuses/{done.in_reply_to}/context")) == 1
    await sender.aclose()


async def test_a_reply_to_a_deleted_post_fails_cleanly(standin: MastodonStandIn) -> None:
    _config, store, outbox, sender, mid = setup(standin)
    mention = store.get_mention(mid)
    assert mention is not None
    standin.deleted.add(mention.external_id)
    item = outbox.reply(mid, "hello?")
    done = await settle(sender, store, item.id or 0)
    assert done.state is S.FAILED
    assert done.attempts == 1
    assert "does not appear to exist" in (done.last_error or "")
    assert standin.own_statuses() == []
    assert store.get_mention(mid).status is Status.NEW  # type: ignore[union-attr]
    await sender.aclose()


async def test_a_refused_connection_is_retried_and_not_in_doubt(
    standin: MastodonStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config, store, outbox, sender, mid = setup(standin)
    item = outbox.reply(mid, "hi")
    # A port nobody listens on: the connection is refused, the request never left.
    closed = LoopbackServer()
    dead_url = closed.base_url
    closed._httpd.server_close()
    source = sender.source(SOURCE)
    real = source.api.client.base_url  # type: ignore[attr-defined]
    source.api.client.base_url = dead_url  # type: ignore[attr-defined]
    await sender.send_due()
    queued = store.outbox_item(item.id or 0)
    assert queued is not None
    assert queued.state is S.QUEUED
    assert not queued.in_doubt
    assert "connection failed" in (queued.last_error or "")
    source.api.client.base_url = real  # type: ignore[attr-defined]
    done = await settle(sender, store, item.id or 0)
    assert done.state is S.SENT
    assert len(standin.own_statuses()) == 1
    await sender.aclose()


async def test_a_crash_mid_send_is_recovered_in_doubt_by_the_next_sender(
    standin: MastodonStandIn,
) -> None:
    """In one process: an item left `sending` by another holder comes back in doubt; the resend
    with the same key finds the status the dead sender made."""
    config, store, outbox, sender, mid = setup(standin)
    item = outbox.reply(mid, "on it")
    claimed = store.outbox_claim(item.id or 0, "other-host:99", utcnow())
    assert claimed is not None
    assert claimed.state is S.SENDING
    # The dead sender's request reached the platform.
    dead = Sender(store, config, holder="other-host:99")
    mention = store.get_mention(mid)
    assert mention is not None
    first_id = await dead.source(SOURCE).reply(mention, item.text, item.idempotency_key)
    await dead.aclose()
    await sender.start()
    recovered = store.outbox_item(item.id or 0)
    assert recovered is not None
    assert recovered.state is S.QUEUED
    assert recovered.in_doubt
    done = await settle(sender, store, item.id or 0)
    assert done.state is S.SENT
    assert done.platform_id == first_id
    assert len(standin.own_statuses()) == 1
    await sender.aclose()


# ---------------------------------------------------------------------------------------------
# Checks before anything is stored


def test_text_checks_refuse_with_one_clear_line(standin: MastodonStandIn) -> None:
    _config, store, outbox, _sender, mid = setup(standin)
    with pytest.raises(OutboxError, match="empty"):
        outbox.reply(mid, "   ")
    with pytest.raises(OutboxError, match=r"placeholder \{order\} left unfilled"):
        outbox.reply(mid, "your order {order} is late")
    with pytest.raises(OutboxError, match="allows 500; shorten it by 7"):
        outbox.reply(mid, "x" * 501)  # "@dewi " (6) + 501 = 507
    with pytest.raises(OutboxError, match="no template named 'nope'"):
        outbox.reply(mid, template="nope")
    assert store.outbox_items() == []


def test_platform_lengths() -> None:
    assert text_length("mastodon", "see https://example.com/" + "a" * 100) == 4 + 23
    assert text_length("twitter", "日本語") == 6
    assert text_length("twitter", "hi 👍🏽") == 5
    assert text_length("bluesky", "👨‍👩‍👧" * 300) == 300
    assert text_length("bluesky", "e\u0301" * 3) == 3


def test_limits_per_platform() -> None:
    from smcc.config import parse_config

    config = parse_config(
        "[sources.x]\ntype = 'twitter'\n[sources.sky]\ntype = 'bluesky'\n"
        "[outbox]\nchar_limits = { sky = 10 }\n"
    )
    check_text(config, "x", "a" * 280)
    with pytest.raises(OutboxError, match="281 characters where x \\(twitter\\) allows 280"):
        check_text(config, "x", "a" * 281)
    check_text(config, "sky", "👍🏽" * 10)
    with pytest.raises(OutboxError, match="11 graphemes"):
        check_text(config, "sky", "👍🏽" * 11)


def test_template_in_the_mentions_language(standin: MastodonStandIn) -> None:
    _config, store, outbox, _sender, mid = setup(standin)
    store.conn.execute(
        "UPDATE mentions SET language = 'id', brand = 'Nusantel' WHERE id = ?", (mid,)
    )
    item = outbox.reply(mid, template="thanks")
    assert item.text == "Terima kasih, @dewi! Senang Anda menyukai Nusantel. — ayu"


# ---------------------------------------------------------------------------------------------
# Scheduled posts, approvals


async def test_a_scheduled_post_goes_out_at_its_time(standin: MastodonStandIn) -> None:
    _config, store, outbox, sender, _mid = setup(standin)
    at = utcnow() + timedelta(seconds=0.6)
    item = outbox.post(SOURCE, "Promo hari ini", at)
    assert await sender.send_due() == 0
    task = asyncio.create_task(sender.run())
    deadline = time.monotonic() + 5
    while store.outbox_item(item.id or 0).state is not S.SENT:  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    done = store.outbox_item(item.id or 0)
    assert done is not None
    assert done.sent_at is not None
    assert abs((done.sent_at - at).total_seconds()) < 1.0
    assert [s["in_reply_to_id"] for s in standin.own_statuses()] == [None]


async def test_a_post_missed_long_ago_is_marked_missed_a_recent_one_goes_out(
    standin: MastodonStandIn,
) -> None:
    _config, store, outbox, sender, _mid = setup(standin, 'missed_after = "30m"')
    old = outbox.post(SOURCE, "yesterday's promo", utcnow() - timedelta(hours=2))
    recent = outbox.post(SOURCE, "this morning's promo", utcnow() - timedelta(minutes=10))
    await sender.start()
    assert store.outbox_item(old.id or 0).state is S.MISSED  # type: ignore[union-attr]
    done = await settle(sender, store, recent.id or 0)
    assert done.state is S.SENT
    assert len(standin.own_statuses()) == 1
    moved = outbox.move(old.id or 0, utcnow())
    assert moved.state is S.QUEUED
    assert (await settle(sender, store, old.id or 0)).state is S.SENT
    await sender.aclose()


async def test_approval_reject_back_to_author_then_approve(standin: MastodonStandIn) -> None:
    config, store, outbox, sender, mid = setup(
        standin, '[outbox.approval]\noperators = ["ayu"]\napprovers = ["budi"]'
    )
    item = outbox.reply(mid, "we refund you 1000%")
    assert item.state is S.PENDING_APPROVAL
    assert await sender.send_due() == 0
    with pytest.raises(OutboxError, match="ayu is not an approver"):
        outbox.approve(item.id or 0)
    budi = Outbox(store, config, "budi")
    rejected = budi.reject(item.id or 0, "no promises on amounts")
    assert rejected.state is S.DRAFT
    assert rejected.comment == "no promises on amounts"
    resubmitted = outbox.submit(item.id or 0, "we will look into a refund, {author}")
    assert resubmitted.state is S.PENDING_APPROVAL
    approved = budi.approve(item.id or 0, "ok")
    assert approved.state is S.QUEUED
    assert approved.approved_by == "budi"
    done = await settle(sender, store, item.id or 0)
    assert done.state is S.SENT
    assert done.approved_by == "budi"
    assert done.operator == "ayu"
    actions = [e.action for e in store.outbox_events(item.id or 0)]
    assert actions[:5] == [
        "outbox_created",
        "outbox_rejected",
        "outbox_submitted",
        "outbox_approved",
        "outbox_sending",
    ]
    await sender.aclose()


def test_cancel_only_before_sending(standin: MastodonStandIn) -> None:
    _config, _store, outbox, _sender, _mid = setup(standin)
    item = outbox.post(SOURCE, "later", utcnow() + timedelta(hours=1))
    assert outbox.cancel(item.id or 0).state is S.CANCELLED
    with pytest.raises(OutboxError, match="is cancelled; it cannot be cancelled"):
        outbox.cancel(item.id or 0)


async def test_a_reply_on_the_demo_platform_joins_the_thread(tmp_path: Path) -> None:
    """The embedded set-up: `smcc` ingests the demo and sends in the same process; a reply
    published through the outbox comes back in the demo stream as the brand's post in the
    mention's thread."""
    config = parse_config(
        "[[brands]]\nname = 'Nusantel'\nkeywords = ['nusantel']\n"
        "[sources.demo]\nrate = 20\nseed = 5\n[pipeline]\nbatch_interval = '50ms'\n"
    )
    store = Store.open(tmp_path / "demo.db")
    run = ingest.prepare(config, store, build_sources(config))
    task = asyncio.create_task(ingest.run(run))
    try:
        deadline = time.monotonic() + 20
        while store.count_mentions() == 0:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        parent = next(store.iter_mentions())
        item = Outbox(store, config).reply(parent.id or 0, "thanks, {author}!")
        own: list[Any] = []
        while not own:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
            done = store.outbox_item(item.id or 0)
            assert done is not None
            if done.state is S.SENT:
                own = [
                    m for m in store.iter_mentions() if m.external_id == f"own-{done.platform_id}"
                ]
        assert own[0].reply_to_id == parent.external_id
        assert own[0].conversation_id == (parent.conversation_id or parent.external_id)
        assert own[0].text == f"thanks, @{parent.author.handle}!"
        assert store.get_mention(parent.id or 0).status is Status.REPLIED  # type: ignore[union-attr]
    finally:
        run.stop()
        await task
        store.close()


def test_approval_by_tier_and_department(standin: MastodonStandIn) -> None:
    _config, store, outbox, _sender, mid = setup(
        standin, "[outbox.approval]\ntiers = [1]\ndepartments = ['legal']"
    )
    assert outbox.reply(mid, "a").state is S.QUEUED  # not triaged: no tier, no department
    store.conn.execute("UPDATE mentions SET tier = 1, department = 'social' WHERE id = ?", (mid,))
    assert outbox.reply(mid, "b").state is S.PENDING_APPROVAL
    store.conn.execute("UPDATE mentions SET tier = 2, department = 'legal' WHERE id = ?", (mid,))
    assert outbox.reply(mid, "c").state is S.PENDING_APPROVAL
    store.conn.execute("UPDATE mentions SET tier = 2, department = 'social' WHERE id = ?", (mid,))
    assert outbox.reply(mid, "d").state is S.QUEUED


def test_a_macro_naming_an_unknown_canned_reply_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("[macros.m]\nsteps = [{ reply = 'nope' }]\n")
    assert "config.toml:2: macros.m.steps[0].reply: no canned reply of that name" in str(
        caught.value.problems[0]
    )
    with pytest.raises(ConfigError, match="exactly one of"):
        parse_config("[macros.m]\nsteps = [{ tag = 'a', status = 'dismissed' }]\n")
    with pytest.raises(ConfigError, match=r"macros\.m\.key: 'ctrl\+' is not a key; write e\.g\."):
        parse_config("[macros.m]\nkey = 'ctrl+'\nsteps = [{ tag = 'a' }]\n")
    keys = "".join(
        f"[macros.m{i}]\nkey = '{key}'\nsteps = [{{ tag = 'a' }}]\n"
        for i, key in enumerate(("Ctrl+O", "F5", "X"))
    )
    assert [m.key for m in parse_config(keys).macros.values()] == ["ctrl+o", "f5", "X"]


async def test_a_sender_that_lost_the_item_to_another_records_nothing(
    standin: MastodonStandIn,
) -> None:
    """Fencing: once another holder has taken an item over (recovered it), the old sender's late
    outcome changes nothing — the new holder settles it."""
    _, store, outbox, _, mid = setup(standin)
    item = outbox.reply(mid, "on it")
    assert store.outbox_claim(item.id or 0, "old:1", utcnow()) is not None
    assert [i.id for i in store.outbox_recover("new:2")] == [item.id]
    assert store.outbox_sent(item.id or 0, "old:1", "999", utcnow()) is None
    after = store.outbox_item(item.id or 0)
    assert after is not None
    assert after.state is S.QUEUED
    assert after.in_doubt
    assert after.platform_id is None


def test_writes_table_matches_the_adapters() -> None:
    from smcc.outbox import WRITES
    from smcc.sources.bluesky import BlueskySource
    from smcc.sources.demo import DemoSource
    from smcc.sources.mastodon import MastodonSource
    from smcc.sources.reddit import RedditSource
    from smcc.sources.replay import ReplaySource
    from smcc.sources.rss import RssSource
    from smcc.sources.twitter import TwitterSource

    for cls in (
        BlueskySource,
        DemoSource,
        MastodonSource,
        RedditSource,
        ReplaySource,
        RssSource,
        TwitterSource,
    ):
        can = tuple(k for k, ok in (("reply", cls.can_reply), ("post", cls.can_post)) if ok)
        assert WRITES.get(cls.type, ()) == can, cls.type
    assert text_length("mastodon", "@dewi@mastodon.social hi") == len("@dewi hi")
