"""Tests for smcc.store: the SQLite Store, its schema, search, counters, leases and refusals."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from smcc.models import (
    Alert,
    AlertKind,
    Author,
    Engagement,
    Event,
    Mention,
    Sentiment,
    Status,
    Triage,
)
from smcc.store import MentionFilter, Store, StoreError, prepare_batch, process_identity
from smcc.store.schema import APPLICATION_ID, LATEST, MIGRATIONS, TOPICS
from smcc.store.store import BUSY_TIMEOUT_MS, ts

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def mention(
    external_id: str,
    *,
    source: str = "demo",
    text: str = "hello nusantel",
    handle: str = "alice",
    display_name: str = "Alice",
    followers: int = 10,
    at: datetime | None = None,
    language: str | None = "en",
    brand: str | None = "Nusantel",
    tier: int | None = 3,
    department: str = "social",
    sentiment: float | None = None,
    status: Status = Status.NEW,
) -> Mention:
    triage = Triage.model_validate({"tier": tier, "department": department}) if tier else None
    return Mention(
        source=source,
        external_id=external_id,
        author=Author(handle=handle, display_name=display_name, followers=followers),
        text=text,
        language=language,
        created_at=at or T0,
        brand=brand,
        sentiment=Sentiment(score=sentiment),
        triage=triage,
        status=status,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "smcc.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store.open(db_path)
    yield s
    s.close()


def scalar(conn: sqlite3.Connection, sql: str) -> Any:
    return conn.execute(sql).fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Opening


def test_file_database_settings(store: Store, db_path: Path) -> None:
    assert scalar(store.conn, "PRAGMA journal_mode") == "wal"
    assert scalar(store.conn, "PRAGMA busy_timeout") == BUSY_TIMEOUT_MS == 10_000
    assert scalar(store.conn, "PRAGMA application_id") == APPLICATION_ID == 0x736D6363
    assert scalar(store.conn, "PRAGMA foreign_keys") == 1
    assert scalar(store.conn, "PRAGMA synchronous") == 1  # NORMAL
    rows = [tuple(r) for r in store.conn.execute("SELECT version, name FROM schema_version")]
    assert rows == [
        (1, "initial schema"),
        (2, "question and influence signals"),
        (3, "alerts with severity 1-10 and keywords; per-minute term rollups"),
        (4, "a partial index of open mentions in queue order"),
        (5, "outbox sending state: in doubt, attempt times, sender, comment"),
        (6, "mention count per author instead of an index on mentions(author_id)"),
    ]
    assert LATEST == 6
    assert store.schema_version() == LATEST
    # the settings that live in the file are seen by any other connection
    other = sqlite3.connect(db_path)
    try:
        assert scalar(other, "PRAGMA journal_mode") == "wal"
        assert scalar(other, "PRAGMA application_id") == APPLICATION_ID
    finally:
        other.close()


def test_memory_store_works() -> None:
    with Store.memory() as s:
        assert s.schema_version() == LATEST
        assert s.insert_batch([mention("1")]).inserted == 1
        assert s.count_mentions() == 1


def test_create_false_refuses_a_missing_database(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(StoreError) as info:
        Store.open(path, create=False)
    assert str(info.value) == f"{path}: no such database; run `smcc ingest` first"
    assert not path.exists()


def test_create_makes_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "smcc.db"
    with Store.open(path) as s:
        assert s.schema_version() == LATEST
    assert path.is_file()


def test_empty_file_becomes_a_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with pytest.raises(StoreError, match="empty file, not an smcc database"):
        Store.open(path, create=False)
    assert path.read_bytes() == b""
    with Store.open(path) as s:
        assert s.schema_version() == LATEST
    assert path.read_bytes().startswith(b"SQLite format 3\x00")


def sidecars(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def test_refuses_a_text_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(info.value) == f"{path}: not an SQLite database; point --db at an smcc database"
    assert path.read_bytes() == before
    assert sidecars(path) == []


def test_refuses_another_programs_database_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.execute("INSERT INTO invoices (amount) VALUES (12.5)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(info.value) == (
        f"{path}: an SQLite database of another program, not an smcc database; "
        "choose another --db path"
    )
    assert path.read_bytes() == before
    assert sidecars(path) == []


def test_refuses_a_newer_schema_unchanged(db_path: Path) -> None:
    with Store.open(db_path) as s:
        s.insert_batch([mention("1")])
    conn = sqlite3.connect(db_path)
    conn.execute(
        "INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 'x')",
        (LATEST + 1,),
    )
    conn.commit()
    conn.close()
    assert sidecars(db_path) == []
    before = db_path.read_bytes()
    with pytest.raises(StoreError) as info:
        Store.open(db_path)
    assert str(info.value) == (
        f"{db_path}: written by a newer smcc (schema version {LATEST + 1}, this smcc knows up "
        f"to {LATEST}); upgrade smcc to use it"
    )
    assert db_path.read_bytes() == before


def test_reopening_does_not_migrate_again_and_keeps_data(db_path: Path) -> None:
    with Store.open(db_path) as s:
        s.insert_batch([mention("1"), mention("2")], {"demo": "c2"})
        applied = [tuple(r) for r in s.conn.execute("SELECT * FROM schema_version")]
    with Store.open(db_path) as s:
        assert [tuple(r) for r in s.conn.execute("SELECT * FROM schema_version")] == applied
        assert len(applied) == LATEST
        assert s.keys() == [("demo", "1"), ("demo", "2")]
        assert s.cursor("demo") == "c2"
        assert s.changes()["mentions"] == 1
    # two stores open at once on the same file
    with Store.open(db_path) as a, Store.open(db_path) as b:
        assert a.schema_version() == b.schema_version() == LATEST
        assert scalar(a.conn, "SELECT count(*) FROM schema_version") == LATEST


def test_a_file_open_in_this_process_is_not_probed_again(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-only probe runs on a file's first open in a process only (see `_open_here`)."""
    import smcc.store.store as store_module

    probes: list[Path] = []
    real_probe = store_module._check_existing

    def probe(path: Path) -> None:
        probes.append(path)
        real_probe(path)

    monkeypatch.setattr(store_module, "_check_existing", probe)
    Store.open(db_path).close()  # creates the file: nothing to probe yet
    assert probes == []
    first = Store.open(db_path)
    assert probes == [db_path]
    with Store.open(db_path), first.another():
        assert probes == [db_path]  # open here already: checked when it was first opened
    first.close()
    Store.open(db_path).close()  # nothing of this process holds it any more: probed again
    assert probes == [db_path, db_path]


# ---------------------------------------------------------------------------------------------
# Mentions


def test_insert_batch_counts_duplicates(store: Store) -> None:
    first = store.insert_batch([mention("1"), mention("2"), mention("1"), mention("3")])
    assert (first.inserted, first.duplicates, first.first_id) == (3, 1, 1)
    # same external id on another source is another mention
    second = store.insert_batch([mention("2"), mention("4"), mention("2", source="other")])
    assert (second.inserted, second.duplicates, second.first_id) == (2, 1, 4)
    only_dupes = store.insert_batch([mention("1"), mention("4")])
    assert (only_dupes.inserted, only_dupes.duplicates, only_dupes.first_id) == (0, 2, None)
    assert store.keys() == [
        ("demo", "1"),
        ("demo", "2"),
        ("demo", "3"),
        ("demo", "4"),
        ("other", "2"),
    ]
    assert store.keys("other") == [("other", "2")]
    assert store.count_mentions() == 5
    # the first copy is kept
    stored = store.get_mention(1)
    assert stored is not None
    assert stored.external_id == "1"


def test_insert_batch_stores_cursors(store: Store) -> None:
    store.insert_batch([mention("1")], {"demo": "page-1"})
    assert store.cursor("demo") == "page-1"
    store.insert_batch([], {"demo": "page-2", "other": None})
    assert store.cursors() == {"demo": "page-2", "other": None}
    assert store.cursor("nope") is None


class ExplodingCursors(dict[str, str | None]):
    """A cursors dict that fails when the store reads it, after the mentions are written."""

    def items(self) -> Any:
        raise RuntimeError("cursor source broke")


def _bad_tier_mention() -> Mention:
    m = mention("bad")
    # a tier the database's CHECK refuses, bypassing validation: fails inside the mentions insert
    bad_tier: Any = 4
    m.triage = Triage.model_construct(
        tier=bad_tier, department="x", tags=[], rule="r", explanation=""
    )
    return m


@pytest.mark.parametrize("failure", ["cursors", "check-constraint"])
def test_insert_batch_is_one_transaction(store: Store, failure: str) -> None:
    store.insert_batch([mention("1", followers=10)], {"demo": "c1"})
    changes = store.changes()
    rollups = store.rollups(T0 - timedelta(days=1))
    batch = [mention("2", handle="bob"), mention("3", followers=99)]
    cursors: dict[str, str | None]
    if failure == "cursors":
        cursors = ExplodingCursors(demo="c2")
        expected: type[Exception] = RuntimeError
    else:
        batch.append(_bad_tier_mention())
        cursors = {"demo": "c2"}
        expected = sqlite3.IntegrityError
    with pytest.raises(expected):
        store.insert_batch(batch, cursors)
    assert store.keys() == [("demo", "1")]
    assert store.cursor("demo") == "c1"
    assert store.changes() == changes
    assert store.rollups(T0 - timedelta(days=1)) == rollups
    assert [tuple(r) for r in store.conn.execute("SELECT handle, followers FROM authors")] == [
        ("alice", 10)
    ]
    assert [m.external_id for m in store.search("hello")] == ["1"]
    # the store is usable afterwards (no transaction left open)
    assert not store.conn.in_transaction
    result = store.insert_batch([mention("2")], {"demo": "c2"})
    assert result.inserted == 1
    assert store.cursor("demo") == "c2"


def full_mention() -> Mention:
    jakarta = timezone(timedelta(hours=7))
    return Mention(
        source="brand_mastodon",
        external_id="109876543210",
        url="https://mastodon.example/@budi/109876543210",
        author=Author(
            handle="budi@mastodon.example",
            display_name="Budi Santoso ☕",
            followers=51234,
            verified=True,
            external_id="acct-77",
        ),
        text='Sinyal hilang lagi di Bandung 😡, "parah"\nkapan beres? #nusantel',
        language="id",
        lang_confidence=0.93,
        created_at=datetime(2026, 11, 23, 15, 4, 5, 123456, tzinfo=jakarta),
        received_at=datetime(2026, 11, 23, 8, 4, 6, tzinfo=UTC),
        reply_to_id="109876500000",
        conversation_id="conv-42",
        engagement=Engagement(likes=5, reposts=2, replies=7, quotes=1),
        brand="Nusantel",
        sentiment=Sentiment(score=-0.75, label="negative", analyzer="lexicon-id"),
        triage=Triage(
            tier=1,
            department="network",
            sla_due=datetime(2026, 11, 23, 8, 14, 5, tzinfo=UTC),
            tags=["outage", "bandung", "ошибка"],
            rule="outage",
            explanation="any: 'sinyal hilang'; sentiment -0.75 < -0.3",
            score=10.5,
        ),
        status=Status.ESCALATED,
        raw={"id": "109876543210", "nested": {"list": [1, 2.5, None, "ü"]}, "ok": True},
    )


def test_round_trips_every_field(store: Store) -> None:
    original = full_mention()
    bare = mention("bare", tier=None, language=None, brand=None)
    result = store.insert_batch([original, bare])
    assert result.first_id == 1
    got = store.get_mention(1)
    assert got is not None
    assert got.id == 1
    assert got.model_dump(exclude={"id"}) == original.model_dump(exclude={"id"})
    # every timestamp comes back UTC-aware, at the same instant
    assert got.triage is not None
    assert got.triage.sla_due is not None
    for value in (got.created_at, got.received_at, got.triage.sla_due):
        assert value.utcoffset() == timedelta(0)
    assert got.created_at == datetime(2026, 11, 23, 8, 4, 5, 123456, tzinfo=UTC)
    got_bare = store.get_mention(2)
    assert got_bare is not None
    assert got_bare.triage is None
    assert got_bare.model_dump(exclude={"id"}) == bare.model_dump(exclude={"id"})
    assert [m.model_dump() for m in store.iter_mentions()] == [
        got.model_dump(),
        got_bare.model_dump(),
    ]
    assert store.get_mention(3) is None


def test_rows_hold_every_time_as_ts_writes_it() -> None:
    # prepare_batch reuses the text of the second before: times in that second, the next one,
    # earlier ones, whole seconds, other days and other zones must all come out as `ts` has it.
    base = T0 + timedelta(microseconds=123_456)
    times = [
        base,
        base + timedelta(microseconds=1),
        base + timedelta(microseconds=876_543),
        base + timedelta(microseconds=876_544),
        base - timedelta(microseconds=1),
        T0,
        T0 - timedelta(days=400, microseconds=7),
        (base + timedelta(microseconds=10)).astimezone(timezone(timedelta(hours=7))),
        base + timedelta(microseconds=20),
        base + timedelta(days=1, microseconds=30),
        datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
    ]
    batch = [mention(str(i), handle=f"h{i}") for i in range(len(times))]
    for m, at in zip(batch, times, strict=True):
        m.created_at = at  # as it is: the zone too
        m.received_at = at
    rows = prepare_batch(batch).mentions
    assert [(r[10], r[11]) for r in rows] == [(ts(t), ts(t)) for t in times]
    assert ts(times[2]) == "2026-11-23T08:00:00.999999+00:00"
    assert ts(times[7]) == "2026-11-23T08:00:00.123466+00:00"


def test_iter_mentions_in_chunks(store: Store) -> None:
    store.insert_batch([mention(str(i), at=T0 + timedelta(seconds=i)) for i in range(7)])
    ids = [m.id for m in store.iter_mentions(chunk=2)]
    assert ids == [1, 2, 3, 4, 5, 6, 7]
    last_three = store.iter_mentions(MentionFilter(since=T0 + timedelta(seconds=4)), chunk=2)
    assert [m.external_id for m in last_three] == ["4", "5", "6"]


def author_row(store: Store, handle: str = "alice") -> tuple[Any, ...]:
    row = store.conn.execute(
        "SELECT display_name, followers, first_seen, last_seen FROM authors WHERE handle = ?",
        (handle,),
    ).fetchone()
    return tuple(row)


def test_author_upsert_keeps_the_newest_data(store: Store) -> None:
    t1, t2, t3 = T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    store.insert_batch([mention("2", at=t2, followers=200, display_name="Alice B")])
    store.insert_batch([mention("1", at=t1, followers=100, display_name="Alice A")])
    assert author_row(store)[:2] == ("Alice B", 200)
    store.insert_batch([mention("3", at=t3, followers=300, display_name="Alice C")])
    name, followers, first_seen, last_seen = author_row(store)
    assert (name, followers) == ("Alice C", 300)
    assert first_seen.startswith("2026-11-23T09:00")
    assert last_seen.startswith("2026-11-23T10:00")
    assert scalar(store.conn, "SELECT count(*) FROM authors") == 1
    # every mention of the author shows the author's current data
    assert {m.author.followers for m in store.iter_mentions()} == {300}
    # the same handle on another source is another author
    store.insert_batch([mention("1", source="other", followers=5)])
    assert scalar(store.conn, "SELECT count(*) FROM authors") == 2


def test_author_upsert_within_one_batch_keeps_the_newest_data(store: Store) -> None:
    # Platforms page newest-first (Mastodon, Twitter), so a batch often runs backwards in time.
    store.insert_batch(
        [
            mention("2", at=T0 + timedelta(hours=1), followers=200),
            mention("1", at=T0, followers=100),
        ]
    )
    assert author_row(store)[1] == 200


def test_author_mention_count_counts_each_stored_mention_once(store: Store) -> None:
    later = T0 + timedelta(hours=1)
    store.insert_batch([mention("1"), mention("2", at=later), mention("3", handle="bob")])
    assert store.author_mention_count("demo", "alice") == 2
    # re-sent mentions (also twice within one batch) and an older one from a backfill
    result = store.insert_batch(
        [
            mention("2", at=later),
            mention("4", at=T0 - timedelta(days=1), followers=1),
            mention("4", at=T0 - timedelta(days=1), followers=1),
            mention("3", handle="bob"),
        ]
    )
    assert (result.inserted, result.duplicates) == (1, 3)
    assert store.author_mention_count("demo", "alice") == 3
    assert store.author_mention_count("demo", "bob") == 1
    assert store.author_mention_count("other", "alice") == 0
    assert author_row(store)[1] == 10  # the older mention did not overwrite the profile
    counted = store.conn.execute(
        "SELECT a.handle, a.mention_count, count(m.id) FROM authors a "
        "LEFT JOIN mentions m ON m.author_id = a.id GROUP BY a.id"
    ).fetchall()
    assert all(row[1] == row[2] for row in counted), [tuple(r) for r in counted]


# ---------------------------------------------------------------------------------------------
# Full-text search


@pytest.fixture
def searchable(store: Store) -> Store:
    store.insert_batch(
        [
            mention("1", text="I love the café at Kopi Senja", handle="rina", display_name="Rina"),
            mention(
                "2",
                text="Связь не работает уже час",
                handle="ivan_p",
                display_name="Иван Петров",
            ),
            mention("3", text='he said "AND" * then a:b (ok)', handle="zz", display_name="Zed"),
            mention("4", text="Nothing to see", handle="bob", display_name="Bobby Tables"),
        ]
    )
    return store


def found(store: Store, query: str) -> list[str]:
    return [m.external_id for m in store.search(query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("love", ["1"]),
        ("kopi senja", ["1"]),
        ("LOVE", ["1"]),
        ("cafe", ["1"]),
        ("CAFÉ", ["1"]),
        ("связь", ["2"]),
        ("СВЯЗЬ", ["2"]),
        ("работает", ["2"]),
        ("rina", ["1"]),
        ("ivan_p", ["2"]),
        ("петров", ["2"]),
        ("Bobby", ["4"]),
        ("tables", ["4"]),
        ("nothing here", []),
        ("senja love", ["1"]),
    ],
)
def test_search_finds_text_and_author(searchable: Store, query: str, expected: list[str]) -> None:
    assert found(searchable, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("AND", ["3"]),
        ("a:b", ["3"]),
        ("*", []),
        ("(ok)", ["3"]),
        ("NEAR(", []),
        ("OR", []),
        ("NOT", []),
        ("-love", ["1"]),
        ("^love", ["1"]),
        ('"AND"', ["3"]),
        ('said "AND', ["3"]),
        ("caf*", []),
        ("'", []),
        ('"', []),
        ('""', []),
        ("", []),
        ("   ", []),
    ],
)
def test_search_takes_input_literally(searchable: Store, query: str, expected: list[str]) -> None:
    assert found(searchable, query) == expected


def test_search_limit(store: Store) -> None:
    store.insert_batch([mention(str(i), text=f"outage number {i}") for i in range(5)])
    assert len(store.search("outage", limit=3)) == 3
    assert sorted(found(store, "outage")) == ["0", "1", "2", "3", "4"]


# ---------------------------------------------------------------------------------------------
# Change counter


def test_change_counter(store: Store, db_path: Path) -> None:
    assert store.changes() == dict.fromkeys(TOPICS, 0)
    store.insert_batch([mention("1")])
    assert store.changes()["mentions"] == 1
    assert store.changes()["cursors"] == 0
    store.insert_batch([mention("1")])  # duplicates only
    assert store.changes()["mentions"] == 1
    store.insert_batch([], {"demo": "c"})
    assert (store.changes()["mentions"], store.changes()["cursors"]) == (1, 1)
    store.insert_batch([mention("2")], {"demo": "d"})
    assert (store.changes()["mentions"], store.changes()["cursors"]) == (2, 2)
    with Store.open(db_path) as reader:
        seen = reader.changes()
        assert seen["mentions"] == 2
        store.insert_batch([mention("3")])
        assert reader.changes()["mentions"] == 3
        store.add_event(Event(actor="ayu", action="claim"))
        store.open_alert(Alert(kind=AlertKind.VOLUME_SPIKE, description="spike"))
        now = reader.changes()
        # an alert writes its own audit event
        assert (now["events"], now["alerts"]) == (seen["events"] + 2, seen["alerts"] + 1)
        assert now["outbox"] == seen["outbox"] == 0


# ---------------------------------------------------------------------------------------------
# Rollups and stats


def test_rollups_add_up_across_batches(store: Store) -> None:
    minute = T0 + timedelta(seconds=5)
    store.insert_batch(
        [
            mention("1", at=minute, tier=1, sentiment=-0.5, language="id"),
            mention("2", at=minute + timedelta(seconds=30), tier=1, sentiment=0.25, language="id"),
            mention("3", at=minute, tier=2, language="id"),
            mention("4", at=minute + timedelta(minutes=1), tier=1, language="id"),
        ]
    )
    store.insert_batch(
        [
            mention("1", at=minute, tier=1, sentiment=-0.5, language="id"),  # duplicate
            mention("5", at=minute + timedelta(seconds=50), tier=1, sentiment=0.75, language="id"),
            mention("6", at=minute, source="rss", tier=None, brand=None, language=None),
        ]
    )
    rows = store.rollups(T0)
    by_key = {
        (r["minute"], r["source"], r["brand"], r["language"], r["tier"]): (
            r["count"],
            r["sentiment_sum"],
            r["sentiment_n"],
        )
        for r in rows
    }
    assert by_key == {
        ("2026-11-23T08:00", "demo", "Nusantel", "id", 1): (3, 0.5, 3),
        ("2026-11-23T08:00", "demo", "Nusantel", "id", 2): (1, 0.0, 0),
        ("2026-11-23T08:01", "demo", "Nusantel", "id", 1): (1, 0.0, 0),
        ("2026-11-23T08:00", "rss", "", "", 0): (1, 0.0, 0),
    }
    assert sum(r["count"] for r in rows) == store.count_mentions() == 6
    assert [r["minute"] for r in store.rollups(T0 + timedelta(minutes=1))] == ["2026-11-23T08:01"]


def _rollups_from_mentions(store: Store) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The rollups recomputed in SQL from the stored mentions (as the writer once did)."""
    return {
        tuple(r[:5]): (r[5], pytest.approx(r[6]), r[7])
        for r in store.conn.execute(
            "SELECT substr(created_at, 1, 16), source, coalesce(brand, ''), "
            "coalesce(language, ''), coalesce(tier, 0), count(*), coalesce(sum(sentiment), 0), "
            "count(sentiment) FROM mentions GROUP BY 1, 2, 3, 4, 5"
        )
    }


def _rollups_stored(store: Store) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {
        tuple(r[:5]): tuple(r[5:])
        for r in store.conn.execute(
            "SELECT minute, source, brand, language, tier, count, sentiment_sum, sentiment_n "
            "FROM rollups"
        )
    }


def test_rollups_count_a_key_repeated_in_a_batch_once(store: Store) -> None:
    """Rollups are summed before the write (prepare_batch); when the database keeps only some
    rows of a batch (a key given twice, or stored before) they count exactly the rows kept:
    the first of a repeated key, as INSERT … ON CONFLICT DO NOTHING keeps it."""
    minute = T0 + timedelta(seconds=5)
    store.insert_batch([mention("1", at=minute, tier=1, sentiment=-0.5, language="id")])
    store.insert_batch(
        [
            mention("1", at=minute, tier=1, sentiment=-0.5, language="id"),  # stored before
            mention("2", at=minute, tier=2, sentiment=0.5, language="en"),
            mention("2", at=minute, tier=3, sentiment=0.9, language="nl"),  # same key again
            mention("3", at=minute + timedelta(minutes=2), tier=1, language="ru"),
        ]
    )
    assert store.count_mentions() == 3
    assert _rollups_stored(store) == _rollups_from_mentions(store)
    assert _rollups_stored(store)[("2026-11-23T08:00", "demo", "Nusantel", "en", 2)] == (
        1,
        0.5,
        1,
    )


@pytest.fixture
def stocked(store: Store) -> Store:
    store.insert_batch(
        [
            mention("1", at=T0, tier=1, department="network", language="id"),
            mention("2", at=T0 + timedelta(hours=1), tier=1, department="support", language="en"),
            mention("3", at=T0 + timedelta(hours=2), tier=2, department="support", language="id"),
            mention(
                "4",
                at=T0 + timedelta(hours=3),
                tier=3,
                source="rss",
                language="ru",
                brand="Kopi Senja",
                status=Status.DISMISSED,
            ),
            mention(
                "5",
                at=T0 + timedelta(hours=4),
                tier=None,
                source="rss",
                language=None,
                brand=None,
            ),
        ]
    )
    return store


def test_stats(stocked: Store) -> None:
    assert stocked.stats() == {
        "total": 5,
        "by_tier": {"1": 2, "2": 1, "3": 1, "unknown": 1},
        "by_department": {"support": 2, "network": 1, "social": 1, "unknown": 1},
        "by_source": {"demo": 3, "rss": 2},
        "by_language": {"id": 2, "en": 1, "ru": 1, "unknown": 1},
        "by_status": {"new": 4, "dismissed": 1},
        "by_brand": {"Nusantel": 3, "Kopi Senja": 1, "unknown": 1},
    }
    # ordered by count, then name (unknown sorts first among equal counts)
    assert list(stocked.stats()["by_department"]) == ["support", "unknown", "network", "social"]
    assert stocked.stats(MentionFilter(tiers=[1])) == {
        "total": 2,
        "by_tier": {"1": 2},
        "by_department": {"network": 1, "support": 1},
        "by_source": {"demo": 2},
        "by_language": {"en": 1, "id": 1},
        "by_status": {"new": 2},
        "by_brand": {"Nusantel": 2},
    }


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (MentionFilter(), ["1", "2", "3", "4", "5"]),
        (MentionFilter(since=T0 + timedelta(hours=2)), ["3", "4", "5"]),
        (MentionFilter(until=T0 + timedelta(hours=2)), ["1", "2"]),
        (
            MentionFilter(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)),
            ["2", "3"],
        ),
        # a since in another zone is the same instant
        (
            MentionFilter(since=datetime(2026, 11, 23, 18, 0, tzinfo=timezone(timedelta(hours=7)))),
            ["4", "5"],
        ),
        (MentionFilter(tiers=[1, 2]), ["1", "2", "3"]),
        (MentionFilter(sources=["rss"]), ["4", "5"]),
        (MentionFilter(sources=["rss"], tiers=[3]), ["4"]),
        (MentionFilter(departments=["support"]), ["2", "3"]),
        (MentionFilter(brands=["Kopi Senja"]), ["4"]),
        (MentionFilter(languages=["id"]), ["1", "3"]),
        (MentionFilter(statuses=["dismissed"]), ["4"]),
        (MentionFilter(sources=["nope"]), []),
    ],
)
def test_mention_filter(stocked: Store, where: MentionFilter, expected: list[str]) -> None:
    assert [m.external_id for m in stocked.iter_mentions(where)] == expected
    assert stocked.count_mentions(where) == len(expected)
    assert stocked.stats(where)["total"] == len(expected)


# ---------------------------------------------------------------------------------------------
# Events and alerts


def test_events(store: Store) -> None:
    first = store.add_event(Event(actor="ayu", action="claim", mention_id=1, at=T0))
    second = store.add_event(
        Event(
            actor="budi",
            action="reply",
            mention_id=2,
            outbox_id=9,
            detail={"text": "Halo 👋", "n": 1},
            at=T0 + timedelta(minutes=1),
        )
    )
    third = store.add_event(Event(actor="ayu", action="dismiss", mention_id=1))
    assert (first, second, third) == (1, 2, 3)
    events = store.events()
    assert [e.id for e in events] == [3, 2, 1]
    assert events[1].model_dump() == {
        "id": 2,
        "at": T0 + timedelta(minutes=1),
        "actor": "budi",
        "action": "reply",
        "mention_id": 2,
        "outbox_id": 9,
        "detail": {"text": "Halo 👋", "n": 1},
    }
    assert events[2].at.utcoffset() == timedelta(0)
    assert [e.action for e in store.events(1)] == ["dismiss", "claim"]
    assert [e.id for e in store.events(limit=1)] == [3]


def test_alerts(store: Store) -> None:
    spike = store.open_alert(
        Alert(kind=AlertKind.VOLUME_SPIKE, brand="Nusantel", description="5× volume", since=T0)
    )
    drop = store.open_alert(
        Alert(
            kind=AlertKind.SENTIMENT_DROP,
            brand="Nusantel",
            keyword="#nusantel",
            severity=9,
            description="sentiment -0.6",
            detail={"drop": 0.6},
        )
    )
    active = store.active_alerts()
    assert [(a.id, a.kind, a.brand, a.keyword, a.severity, a.active) for a in active] == [
        (spike, AlertKind.VOLUME_SPIKE, "Nusantel", None, 5, True),
        (drop, AlertKind.SENTIMENT_DROP, "Nusantel", "#nusantel", 9, True),
    ]
    assert active[0].since == T0
    assert active[1].detail == {"drop": 0.6}
    assert [a.id for a in store.alerts()] == [drop, spike]  # most severe first
    assert store.close_alert(spike, at=T0 + timedelta(minutes=5), reason="back to normal")
    assert [a.id for a in store.active_alerts()] == [drop]
    cleared = scalar_of(store, "SELECT cleared_at FROM alerts WHERE id = ?", spike)
    assert cleared.startswith("2026-11-23T08:05:00")
    # already cleared: keeps its time, says so
    assert not store.close_alert(spike, at=T0 + timedelta(hours=5))
    assert scalar_of(store, "SELECT cleared_at FROM alerts WHERE id = ?", spike) == cleared
    assert store.close_alert(drop)
    assert store.active_alerts() == []
    everything = store.alerts(include_cleared=True)
    assert [a.id for a in everything] == [drop, spike]
    assert everything[1].cleared_at == T0 + timedelta(minutes=5)
    # every raise and clear is in the audit log
    audit = [(e.action, e.detail["alert_id"]) for e in reversed(store.events())]
    assert audit == [
        ("alert.raised", spike),
        ("alert.raised", drop),
        ("alert.cleared", spike),
        ("alert.cleared", drop),
    ]
    assert store.events(limit=4)[1].detail["reason"] == "back to normal"


def test_alert_severity_must_be_1_to_10(store: Store) -> None:
    with pytest.raises(ValueError, match="less than or equal to 10"):
        Alert(kind=AlertKind.RULE, description="x", severity=11)
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute(
            "INSERT INTO alerts (kind, severity, description, since) VALUES ('rule', 0, 'x', 'y')"
        )


def scalar_of(store: Store, sql: str, *args: Any) -> Any:
    return store.conn.execute(sql, args).fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Leases


def test_lease_acquire_renew_and_refuse(store: Store) -> None:
    ttl = timedelta(seconds=60)
    assert store.lease("ingest") is None
    assert store.acquire_lease("ingest", "host:1", ttl)
    first = store.lease("ingest")
    assert first is not None
    assert first.holder == "host:1"
    assert first.expires_at - first.acquired_at == ttl
    leases_counter = store.changes()["leases"]
    time.sleep(0.01)
    assert store.acquire_lease("ingest", "host:1", ttl)  # renew
    renewed = store.lease("ingest")
    assert renewed is not None
    assert renewed.acquired_at == first.acquired_at
    assert renewed.expires_at > first.expires_at
    assert store.changes()["leases"] == leases_counter  # a renewal changes no holder
    assert not store.acquire_lease("ingest", "host:2", ttl)
    current = store.lease("ingest")
    assert current is not None
    assert current.holder == "host:1"
    # another lease name is independent
    assert store.acquire_lease("other", "host:2", ttl)


def test_lease_taken_over_after_expiry(store: Store) -> None:
    assert store.acquire_lease("ingest", "elsewhere:1", timedelta(milliseconds=1))
    time.sleep(0.02)
    assert store.acquire_lease("ingest", "elsewhere:2", timedelta(seconds=60))
    lease = store.lease("ingest")
    assert lease is not None
    assert lease.holder == "elsewhere:2"


def test_lease_of_a_dead_process_on_this_host_is_taken_at_once(store: Store) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = f"{socket.gethostname()}:{child.pid}"
    hour = timedelta(hours=1)
    assert store.acquire_lease("ingest", dead, hour)
    me = process_identity()
    assert me == f"{socket.gethostname()}:{os.getpid()}"
    assert store.acquire_lease("ingest", me, hour)  # long before the dead holder's expiry
    lease = store.lease("ingest")
    assert lease is not None
    assert lease.holder == me
    # a live holder on this host is respected
    assert not store.acquire_lease("ingest", dead, hour)
    # a holder on another host is never presumed dead
    assert store.acquire_lease("remote", "no-such-host.example:1", hour)
    assert not store.acquire_lease("remote", me, hour)


def test_lease_release(store: Store) -> None:
    ttl = timedelta(seconds=60)
    assert store.acquire_lease("ingest", "a:1", ttl)
    store.release_lease("ingest", "b:2")  # not the holder: nothing happens
    lease = store.lease("ingest")
    assert lease is not None
    assert lease.holder == "a:1"
    before = store.changes()["leases"]
    store.release_lease("ingest", "a:1")
    assert store.lease("ingest") is None
    assert store.changes()["leases"] == before + 1
    assert store.acquire_lease("ingest", "b:2", ttl)


def test_a_version_1_database_is_migrated_with_its_data(db_path: Path) -> None:
    """A database written by the first release opens, gains the new columns, keeps its rows."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_version "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for statement in MIGRATIONS[0].statements:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1, 'initial schema', '2026-11-01')")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(
        "INSERT INTO mentions (source, external_id, author_handle, text, created_at, received_at) "
        "VALUES ('demo', 'x1', 'ayu', 'sinyal hilang', "
        "'2026-11-01T08:00:00.000000+00:00', '2026-11-01T08:00:00.000000+00:00')"
    )
    conn.close()
    with Store.open(db_path) as s:
        assert s.schema_version() == LATEST
        (old,) = list(s.iter_mentions())
        assert old.external_id == "x1"
        assert old.is_question is False
        assert old.influence == 0.0


def test_a_version_5_database_gets_author_counts_and_loses_the_author_index(
    db_path: Path,
) -> None:
    """v6 counts each author's stored mentions (from the index it then drops)."""
    with Store.open(db_path) as s:
        s.insert_batch([mention("1"), mention("2"), mention("3", handle="bob")])
        s.insert_batch([mention("4")])
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("ALTER TABLE authors DROP COLUMN mention_count")
    conn.execute("CREATE INDEX mentions_author ON mentions (author_id)")
    conn.execute("DELETE FROM schema_version WHERE version = 6")
    conn.execute("COMMIT")
    conn.close()
    with Store.open(db_path) as s:
        assert s.schema_version() == LATEST == 6
        assert s.author_mention_count("demo", "alice") == 3
        assert s.author_mention_count("demo", "bob") == 1
        indexes = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master")}
        assert "mentions_author" not in indexes
        s.insert_batch([mention("5")])  # and it goes on counting
        assert s.author_mention_count("demo", "alice") == 4
        assert [m.external_id for m in s.search("hello")] == ["1", "2", "3", "4", "5"]


def test_processes_creating_the_same_database_at_once(db_path: Path) -> None:
    """Several ingesters and views started together on a new file: one migrates, none fails."""
    code = (
        "import sys; from smcc.store import Store\n"
        "with Store.open(sys.argv[1]) as s: print(s.schema_version())"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(db_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err.decode() for _, err in results]
    assert [out.decode().strip() for out, _ in results] == [str(LATEST)] * 4


def test_a_database_being_created_is_never_taken_for_another_programs(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process may probe the file between two steps of its creation: whatever step it
    sees, a file with tables carries our application_id (the console once refused a database
    that `smcc ingest` was creating that moment: "an SQLite database of another program")."""
    import smcc.store.store as store_module
    from smcc.store.schema import Migration

    broken = (Migration(1, "fails half way", ("CREATE TABLE half (x)", "SELECT no_such()")),)
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    with pytest.raises(sqlite3.OperationalError):
        Store.open(db_path)
    conn = sqlite3.connect(db_path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    conn.close()
    assert tables == ["schema_version"]  # the failed migration left nothing of its own
    assert app_id == APPLICATION_ID
    monkeypatch.undo()
    with Store.open(db_path) as store:  # a second process (or a retry) finishes the job
        assert store.schema_version() == LATEST


def test_close_waits_for_a_query_running_in_another_thread(tmp_path: Path) -> None:
    """Closing a connection mid-statement crashed the interpreter in CI: close takes the lock
    that the console's worker threads hold while they query."""
    store = Store.open(tmp_path / "lock.db")
    started, finish = threading.Event(), threading.Event()
    seen: list[int] = []

    def worker() -> None:
        with store.lock:
            started.set()
            finish.wait(5)
            seen.append(store.conn.execute("SELECT count(*) FROM mentions").fetchone()[0])

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait(5)
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive(), "close did not wait for the query"
    finish.set()
    thread.join(5)
    closer.join(5)
    assert seen == [0]
    with pytest.raises(sqlite3.ProgrammingError):
        store.conn.execute("SELECT 1")


def test_a_lone_surrogate_in_the_raw_payload_is_stored_as_a_replacement(store: Store) -> None:
    # A platform's JSON may carry a `\ud800` escape without its pair: not UTF-8, SQLite refuses it.
    m = mention("sur")
    m.raw = {"text": "half \ud800 pair", "nested": ["\udfff"]}
    assert store.insert_batch([m]).inserted == 1
    (back,) = store.iter_mentions()
    assert back.raw == {"text": "half \ufffd pair", "nested": ["\ufffd"]}


def test_ingest_health_is_published_and_moves_the_leases_counter_only_when_it_changes(
    store: Store,
) -> None:
    rows = [{"name": "demo", "state": "connected", "until": None, "reason": ""}]
    before = store.changes()["leases"]
    store.publish_health("host:1", rows)
    assert store.ingest_health() == ("host:1", rows)
    moved = store.changes()["leases"]
    assert moved > before
    store.publish_health("host:1", rows)  # every lease renewal: nothing new
    assert store.changes()["leases"] == moved
    store.publish_health("host:1", [{**rows[0], "state": "failing", "reason": "401"}])
    assert store.changes()["leases"] > moved


def test_stored_json_is_what_json_dumps_writes() -> None:
    """The store's prebuilt JSON encoders write exactly what json.dumps would."""
    import json

    from smcc.store.store import _to_json, _to_json_any

    value = {"seq": 1, "text": 'é\n"q"', "f": 2.5, "n": None, "l": [True, {"x": []}]}
    assert _to_json_any(value) == json.dumps(value, ensure_ascii=False, default=str)
    assert _to_json(["a", "ü"]) == json.dumps(["a", "ü"], ensure_ascii=False)
    at = {"at": T0}
    assert _to_json_any(at) == json.dumps(at, ensure_ascii=False, default=str)
    with pytest.raises(TypeError, match="not JSON serializable"):
        _to_json(at)
