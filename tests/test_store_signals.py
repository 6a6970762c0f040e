"""The store's part in signals: migration v3, term rollups, and the series readers use."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smcc.analysis.terms import TermExtractor
from smcc.models import AlertKind, Author, Mention, Sentiment, Triage
from smcc.store import Store, prepare_batch
from smcc.store.schema import APPLICATION_ID, LATEST, MIGRATIONS

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
EXTRACTOR = TermExtractor()


def mention(
    external_id: str,
    text: str,
    at: datetime = T0,
    *,
    brand: str | None = "Nusantel",
    sentiment: float | None = None,
    source: str = "demo",
    language: str = "id",
) -> Mention:
    return Mention(
        source=source,
        external_id=external_id,
        author=Author(handle="ayu"),
        text=text,
        language=language,
        created_at=at,
        brand=brand,
        sentiment=Sentiment(score=sentiment),
    )


def insert(store: Store, mentions: list[Mention]) -> int:
    return store.insert_prepared(prepare_batch(mentions, EXTRACTOR.batch(mentions))).inserted


def v2_database(path: Path) -> None:
    """A database as release 2 left it, with an alert of each old severity and a mention."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_version "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for migration in MIGRATIONS[:2]:
        for statement in migration.statements:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_version VALUES (?, ?, '2026-11-01')",
            (migration.version, migration.name),
        )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(
        "INSERT INTO mentions (source, external_id, author_handle, text, created_at, received_at, "
        "is_question) VALUES ('demo', 'x1', 'ayu', 'sinyal hilang?', "
        "'2026-11-01T08:00:00.000000+00:00', '2026-11-01T08:00:00.000000+00:00', 1)"
    )
    for severity, ended in (("info", None), ("warning", "2026-11-01T09:00:00.000000+00:00"),
                            ("critical", None)):  # fmt: skip
        conn.execute(
            "INSERT INTO alerts (kind, brand, severity, message, started_at, ended_at) "
            "VALUES ('volume_spike', 'Nusantel', ?, ?, '2026-11-01T08:30:00.000000+00:00', ?)",
            (severity, f"{severity} spike", ended),
        )
    conn.close()


def test_migration_from_v2_keeps_alerts_and_mentions(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    v2_database(path)
    with Store.open(path) as store:
        assert store.schema_version() == LATEST == 6
        (old,) = list(store.iter_mentions())
        assert (old.external_id, old.is_question) == ("x1", True)
        alerts = store.alerts(include_cleared=True)
        assert [(a.severity, a.description, a.active) for a in reversed(alerts)] == [
            (2, "info spike", True),
            (5, "warning spike", False),
            (8, "critical spike", True),
        ]
        assert all(a.kind is AlertKind.VOLUME_SPIKE and a.brand == "Nusantel" for a in alerts)
        assert alerts[0].since == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
        assert alerts[1].cleared_at == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
        assert [a.id for a in store.active_alerts()] == [1, 3]
        # the new table is there and used
        assert insert(store, [mention("m1", "Sinyal hilang lagi #nusantel")]) == 1
        assert store.term_counts(T0, T0 + timedelta(minutes=1))["#nusantel"] == 1


def test_term_rollups_count_each_term_once_per_mention(tmp_path: Path) -> None:
    with Store.open(tmp_path / "t.db") as store:
        insert(
            store,
            [
                mention("1", "Gangguan gangguan di Jakarta #Outage", sentiment=-0.5),
                mention(
                    "2",
                    "gangguan lagi https://x.example/gangguan",
                    T0 + timedelta(seconds=59),
                    sentiment=-0.25,
                ),
                mention("3", "Gangguan", T0 + timedelta(minutes=1)),
            ],
        )
        rows = store.term_minutes(["gangguan", "#outage", "jakarta"], T0)
        by_key = {(m.strftime("%H:%M"), t): (c, s, n) for m, t, c, s, n in rows}
        assert by_key == {
            ("08:00", "gangguan"): (2, -0.75, 2),
            ("08:00", "#outage"): (1, -0.5, 1),
            ("08:00", "jakarta"): (1, -0.5, 1),
            ("08:01", "gangguan"): (1, 0.0, 0),
        }
        counts = store.term_counts(T0, T0 + timedelta(minutes=5))
        assert not {"lagi", "https", "di"} & set(counts)


def test_term_rollups_skip_mentions_stored_before(tmp_path: Path) -> None:
    with Store.open(tmp_path / "t.db") as store:
        assert insert(store, [mention("1", "storing bij de bank")]) == 1
        # a source re-sends mention 1 beside a new one: only the new one is counted
        assert insert(store, [mention("1", "storing bij de bank"), mention("2", "storing")]) == 1
        assert store.term_counts(T0, T0 + timedelta(minutes=1)) == {"storing": 2, "bank": 1}
        # rolled back with the batch when the write fails
        bad = mention("3", "storing")
        tier: Any = 4  # a tier the database's CHECK refuses, bypassing validation
        bad.triage = Triage.model_construct(tier=tier, department="x", tags=[], rule="r")
        with pytest.raises(sqlite3.IntegrityError):
            insert(store, [mention("4", "storing"), bad])
        assert store.term_counts(T0, T0 + timedelta(minutes=1)) == {"storing": 2, "bank": 1}


def test_series_readers(tmp_path: Path) -> None:
    with Store.open(tmp_path / "t.db") as store:
        assert store.rollup_span() is None
        assert store.latest_mention() is None
        insert(
            store,
            [
                mention("1", "a", T0, sentiment=0.5),
                mention("2", "b", T0 + timedelta(seconds=10), sentiment=-0.5),
                mention("3", "c", T0 + timedelta(minutes=2), brand="Tarawa Mobile"),
                mention(
                    "4",
                    "d",
                    T0 + timedelta(minutes=2, seconds=30),
                    brand=None,
                    source="rss",
                    language="en",
                ),
            ],
        )
        assert store.rollup_span() == (T0, T0 + timedelta(minutes=2))
        assert store.latest_mention() == (4, T0 + timedelta(minutes=2, seconds=30))
        assert store.latest_mention(4) is None
        assert sorted(store.brand_minutes(T0)) == [
            (T0, "Nusantel", 2, 0.0, 2),
            (T0 + timedelta(minutes=2), "Tarawa Mobile", 1, 0.0, 0),
        ]
        assert store.brand_minutes(T0 + timedelta(minutes=1)) == [
            (T0 + timedelta(minutes=2), "Tarawa Mobile", 1, 0.0, 0)
        ]
        assert sorted(store.volume(None, None)) == [("", 1), ("Nusantel", 2), ("Tarawa Mobile", 1)]
        assert sorted(store.volume(T0 + timedelta(minutes=1), None, ("brand", "source"))) == [
            ("", "rss", 1),
            ("Tarawa Mobile", "demo", 1),
        ]
        with pytest.raises(ValueError, match="cannot group rollups by"):
            store.volume(None, None, ("text",))
        assert store.minute_counts(None, T0 + timedelta(minutes=2)) == [(T0, 2)]
        assert store.minute_counts(None, None, ["Tarawa Mobile"]) == [
            (T0 + timedelta(minutes=2), 1)
        ]
