"""A Mastodon server's own character limit: read from its instance document, learned by the
sender, used by the composer's and `smcc reply`'s checks, and enforced before sending."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from loopback import LoopbackServer, shared_data
from mastodon_standin import MastodonStandIn
from outbox_helpers import SOURCE, TOKEN, make_config, settle, store_customer_post
from smcc.models import OutboxState
from smcc.outbox import Outbox, OutboxError, Sender, char_limit
from smcc.sources.mastodon import instance_char_limit
from smcc.store import Store


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[MastodonStandIn]:
    monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", TOKEN)
    with LoopbackServer() as server:
        yield MastodonStandIn(server, TOKEN)


def test_the_limit_in_a_real_instance_document() -> None:
    # Mastodon.py's recorded session, which includes a real `GET /api/v2/instance` answer.
    recorded = shared_data("api", "mastodon", "decoded", "test_hashtag_tl.decoded.json")
    exchanges = json.loads(recorded.read_text())
    instance = next(e["body"] for e in exchanges if "/api/v2/instance" in e["uri"])
    assert instance_char_limit(instance) == 500


def test_older_and_odd_instance_documents() -> None:
    assert instance_char_limit({"max_toot_chars": 5000}) == 5000  # forks (glitch-soc, Pleroma)
    assert instance_char_limit({"configuration": {"statuses": {"max_characters": 0}}}) is None
    assert instance_char_limit({"configuration": {"statuses": {"max_characters": "9"}}}) is None
    assert instance_char_limit({"configuration": []}) is None
    assert instance_char_limit({}) is None


async def test_a_server_allowing_more_lets_longer_replies_through(
    standin: MastodonStandIn,
) -> None:
    standin.max_chars = 5000
    config = make_config(standin.server.base_url)
    store = Store.memory()
    mid = store_customer_post(store, standin, "nusantel, a long question")
    long_text = "word " * 140  # 700 characters: over the default 500
    with pytest.raises(OutboxError, match="allows 500"):
        Outbox(store, config).reply(mid, long_text)
    sender = Sender(store, config, holder="t:1")
    try:
        await sender.learn_limits()
        assert store.learned_char_limits() == {SOURCE: 5000}
        assert char_limit(config, SOURCE, store.learned_char_limits()) == ("mastodon", 5000)
        item = Outbox(store, config).reply(mid, long_text)
        done = await settle(sender, store, item.id or 0)
    finally:
        await sender.aclose()
    assert done.state is OutboxState.SENT
    assert len(standin.own_statuses()) == 1


async def test_a_server_allowing_less_fails_the_item_before_posting(
    standin: MastodonStandIn,
) -> None:
    standin.max_chars = 100
    config = make_config(standin.server.base_url)
    store = Store.memory()
    mid = store_customer_post(store, standin, "nusantel, a question")
    item = Outbox(store, config).reply(mid, "x" * 150)  # fits the configured 500
    sender = Sender(store, config, holder="t:1")
    try:
        done = await settle(sender, store, item.id or 0)
    finally:
        await sender.aclose()
    assert done.state is OutboxState.FAILED
    assert done.attempts == 1
    assert "allows 100" in (done.last_error or "")
    assert standin.server.requests_to("/api/v1/statuses", "POST") == []
    # the next reply is refused when it is written, before it reaches the outbox
    with pytest.raises(OutboxError, match="allows 100"):
        Outbox(store, config).reply(mid, "y" * 150)


def test_a_limit_set_for_the_source_by_name_beats_the_learned_one() -> None:
    config = make_config("http://127.0.0.1:9", f"char_limits = {{ {SOURCE} = 800 }}")
    assert char_limit(config, SOURCE, {SOURCE: 5000}) == ("mastodon", 800)
    by_type = make_config("http://127.0.0.1:9", "char_limits = { mastodon = 800 }")
    assert char_limit(by_type, SOURCE, {SOURCE: 5000}) == ("mastodon", 5000)
    assert char_limit(by_type, SOURCE) == ("mastodon", 800)
