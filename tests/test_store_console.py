"""The store's console block: queues, feed, atomic claims, status and triage changes, selection."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from console_seed import NOW, mention_id, seeded_store
from smcc.models import Status
from smcc.store import MentionFilter, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return seeded_store(tmp_path / "console.db")


def test_queue_is_sorted_by_sla_due_and_counts_open_items(store: Store) -> None:
    items = store.queue(1)
    assert [i.author_handle for i in items] == ["dewi", "citra", "budi", "gita"]
    assert [i.sla_due for i in items] == sorted(i.sla_due for i in items if i.sla_due)
    assert store.queue_counts() == {1: 4, 2: 1, 3: 2}
    store.set_status(items[0].id, Status.DISMISSED, "ayu")
    assert store.queue_counts()[1] == 3
    assert [i.author_handle for i in store.queue(1)] == ["citra", "budi", "gita"]


def test_queue_filters_and_mine(store: Store) -> None:
    assert store.queue(1, MentionFilter(departments=["support"])) == []
    target = mention_id(store, "t1-warn")
    store.claim(target, "ayu")
    assert [i.id for i in store.queue(1, claimed_by="ayu")] == [target]
    assert store.queue_counts(claimed_by="ayu") == {1: 1, 2: 0, 3: 0}


def test_latest_items_after_an_id_oldest_first(store: Store) -> None:
    latest = store.latest_items(limit=3)
    assert [i.id for i in latest] == [5, 6, 7]
    assert [i.id for i in store.latest_items(6)] == [7]
    assert store.latest_items(7) == []


def test_claim_writes_the_event_and_refuses_a_second_operator(store: Store) -> None:
    target = mention_id(store, "t1-late")
    before = store.changes()
    result = store.claim(target, "ayu")
    assert result.ok
    assert result.claimed_by == "ayu"
    after = store.changes()
    assert after["mentions"] > before["mentions"]
    assert after["events"] > before["events"]
    again = store.claim(target, "ayu")
    assert again.ok  # one's own claim: a no-op, no second event
    refused = store.claim(target, "budi")
    assert not refused.ok
    assert refused.claimed_by == "ayu"
    assert refused.reason == "already claimed by ayu"
    events = store.events(target)
    assert [(e.actor, e.action) for e in events] == [("ayu", "claim")]
    mention = store.get_mention(target)
    assert mention is not None
    assert mention.status is Status.CLAIMED


def test_contested_claim_across_connections_has_exactly_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "contest.db"
    seeded_store(path).close()
    stores = [Store.open(path) for _ in range(4)]
    target = mention_id(stores[0], "t1-ok")
    barrier = threading.Barrier(len(stores))
    results = []

    def claim(i: int) -> None:
        barrier.wait()
        results.append(stores[i].claim(target, f"op{i}"))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r.ok]
    assert len(winners) == 1
    winner = winners[0].claimed_by
    assert all(r.claimed_by == winner for r in results)
    assert [e.actor for e in stores[0].events(target)] == [winner]
    for s in stores:
        s.close()


def test_status_changes_follow_the_allowed_transitions(store: Store) -> None:
    target = mention_id(store, "t2-a")
    assert store.set_status(target, Status.ESCALATED, "ayu", action="escalate").ok
    assert store.claimed_by(target) is None  # escalated: open for whoever takes it over
    assert store.claim(target, "budi").ok
    refused = store.set_status(target, Status.DISMISSED, "ayu")
    assert not refused.ok
    assert refused.reason == "already claimed by budi"
    assert store.set_status(target, Status.NEW, "budi", action="release").ok
    assert store.claimed_by(target) is None
    assert store.set_status(target, Status.DISMISSED, "ayu", action="dismiss").ok
    bad = store.set_status(target, Status.ESCALATED, "ayu")
    assert not bad.ok
    assert bad.reason == "a dismissed mention cannot be escalated"
    actions = [(e.actor, e.action) for e in reversed(store.events(target))]
    assert actions == [
        ("ayu", "escalate"),
        ("budi", "claim"),
        ("budi", "release"),
        ("ayu", "dismiss"),
    ]
    assert not store.set_status(999, Status.DISMISSED, "ayu").ok


def test_retriage_records_before_and_after(store: Store) -> None:
    target = mention_id(store, "t3-a")
    due = NOW.replace(hour=9)
    result = store.retriage(target, "ayu", tier=1, department="support", sla_due=due)
    assert result.ok
    mention = store.get_mention(target)
    assert mention is not None
    assert mention.triage is not None
    assert (mention.triage.tier, mention.triage.department) == (1, "support")
    assert mention.triage.sla_due == due
    (event,) = store.events(target)
    assert event.action == "route"
    assert event.detail == {"tier": [3, 1], "department": ["social", "support"]}
    store.retriage(target, "ayu", tier=2, sla_due=None)
    assert store.events(target)[0].action == "tier"
    assert not store.retriage(999, "ayu", tier=1).ok


def test_selection_is_shared_per_operator(store: Store) -> None:
    assert store.selection("ayu") is None
    before = store.changes()["selection"]
    store.set_selection("ayu", 3)
    store.set_selection("budi", 5)
    assert store.selection("ayu") == 3
    assert store.changes()["selection"] == before + 2
    store.set_selection("ayu", None)
    assert store.selection("ayu") is None


def test_author_history_and_thread(store: Store) -> None:
    assert store.author_mention_count("demo", "budi") == 1
    assert store.author_mention_count("demo", "nobody") == 0
    thread = store.thread("demo", "c1")
    assert [i.author_handle for i in thread] == ["budi", "gita"]


def test_queue_pages_read_the_open_index_in_order() -> None:
    """Schema v4: a queue page comes from the partial index of open mentions, without a sort of
    every open mention of the tier (bench/console.py measures 88 ms → 1.3 ms at 1M mentions)."""
    store = Store.memory()
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    store.queue(1)
    store.conn.set_trace_callback(None)
    (sql,) = [s for s in statements if "ORDER BY" in s]
    plan = " | ".join(row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql))
    assert "mentions_open" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
