"""Tests for smcc.transfer (export/import) and the replay source that reads the same JSONL."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from smcc.config import ReplaySourceConfig
from smcc.models import Author, Engagement, Mention, Sentiment, Status, Triage, utcnow
from smcc.sources.base import Fetched, HealthState, SourceError
from smcc.sources.replay import BadLine, ReplaySource
from smcc.store import MentionFilter, Store
from smcc.transfer import CSV_COLUMNS, export_mentions, import_jsonl

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TRICKY_TEXT = 'Halo, "admin"\nsinyal hilang, lagi; kenapa?\r\nЖдём, "ok"'


def make(
    external_id: str,
    *,
    source: str = "demo",
    text: str = "hello",
    at: datetime | None = None,
    tier: int | None = 2,
    handle: str = "alice",
) -> Mention:
    return Mention(
        source=source,
        external_id=external_id,
        url=f"https://example.org/{external_id}",
        author=Author(handle=handle, display_name="Alice A.", followers=42, verified=True),
        text=text,
        language="id",
        lang_confidence=0.8,
        created_at=at or T0,
        received_at=(at or T0) + timedelta(seconds=1),
        reply_to_id="r-1",
        conversation_id="c-1",
        engagement=Engagement(likes=1, reposts=2, replies=3, quotes=4),
        brand="Nusantel",
        sentiment=Sentiment(score=-0.5, label="negative", analyzer="lex"),
        triage=(
            Triage.model_validate(
                {
                    "tier": tier,
                    "department": "support",
                    "sla_due": T0 + timedelta(hours=2),
                    "tags": ["billing", "ошибка"],
                    "rule": "billing",
                    "explanation": "any: 'tagihan'",
                    "score": 1.5,
                }
            )
            if tier
            else None
        ),
        status=Status.CLAIMED,
        raw={"platform": {"id": external_id, "nested": [1, None, "ü"]}},
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "source.db")
    yield s
    s.close()


@pytest.fixture
def filled(store: Store) -> Store:
    store.insert_batch(
        [
            make("1", text=TRICKY_TEXT, tier=1),
            make("2", at=T0 + timedelta(hours=1), tier=2),
            make("3", source="rss", at=T0 + timedelta(hours=2), tier=None, handle="bob"),
            make("4", source="rss", at=T0 + timedelta(hours=3), tier=1, handle="bob"),
        ]
    )
    return store


def dumped(store: Store, where: MentionFilter | None = None) -> list[dict[str, object]]:
    return [m.model_dump(exclude={"id"}) for m in store.iter_mentions(where)]


# ---------------------------------------------------------------------------------------------
# Export


def test_jsonl_export_import_round_trip(filled: Store, tmp_path: Path) -> None:
    buffer = io.StringIO()
    assert export_mentions(filled, MentionFilter(), "jsonl", buffer) == 4
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 4
    assert [json.loads(line)["external_id"] for line in lines] == ["1", "2", "3", "4"]
    path = tmp_path / "export.jsonl"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    with Store.open(tmp_path / "fresh.db") as fresh:
        # something already there, so that the store ids differ from the file's
        fresh.insert_batch([make("0", source="other")])
        result = import_jsonl(fresh, path)
        assert (result.imported, result.duplicates, result.bad) == (4, 0, [])
        imported = dumped(fresh, MentionFilter(sources=["demo", "rss"]))
        assert [m.id for m in fresh.iter_mentions()] == [1, 2, 3, 4, 5]
    expected = dumped(filled)
    assert expected[0]["text"] == TRICKY_TEXT
    # import cleans untrusted text: the only change is CRLF -> LF
    expected[0]["text"] = TRICKY_TEXT.replace("\r\n", "\n")
    assert imported == expected


def test_jsonl_export_filters(filled: Store) -> None:
    buffer = io.StringIO()
    where = MentionFilter(tiers=[1], since=T0 + timedelta(minutes=30))
    assert export_mentions(filled, where, "jsonl", buffer) == 1
    assert [json.loads(line)["external_id"] for line in buffer.getvalue().splitlines()] == ["4"]


def test_csv_export(filled: Store, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        assert export_mentions(filled, MentionFilter(), "csv", fh) == 4
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [r["external_id"] for r in records] == ["1", "2", "3", "4"]
    first = records[0]
    assert first["text"] == TRICKY_TEXT
    assert first == {
        "id": "1",
        "source": "demo",
        "external_id": "1",
        "created_at": "2026-11-23T08:00:00.000000+00:00",
        "received_at": "2026-11-23T08:00:01.000000+00:00",
        "author_handle": "alice",
        "author_name": "Alice A.",
        "followers": "42",
        "verified": "1",
        "text": TRICKY_TEXT,
        "language": "id",
        "sentiment": "-0.5",
        "sentiment_label": "negative",
        "analyzer": "lex",
        "brand": "Nusantel",
        "tier": "1",
        "department": "support",
        "sla_due": "2026-11-23T10:00:00.000000+00:00",
        "tags": "billing ошибка",
        "rule": "billing",
        "status": "claimed",
        "reply_to_id": "r-1",
        "conversation_id": "c-1",
        "likes": "1",
        "reposts": "2",
        "replies": "3",
        "url": "https://example.org/1",
    }
    untriaged = records[2]
    assert (untriaged["tier"], untriaged["department"], untriaged["sla_due"]) == ("", "", "")
    assert (untriaged["tags"], untriaged["rule"]) == ("", "")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (MentionFilter(tiers=[1]), ["1", "4"]),
        (MentionFilter(sources=["rss"]), ["3", "4"]),
        (MentionFilter(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)), ["2", "3"]),
        (MentionFilter(sources=["nope"]), []),
    ],
)
def test_csv_export_filters(filled: Store, where: MentionFilter, expected: list[str]) -> None:
    buffer = io.StringIO(newline="")
    assert export_mentions(filled, where, "csv", buffer) == len(expected)
    rows = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[CSV_COLUMNS.index("external_id")] for row in rows[1:]] == expected


def test_unknown_export_format(filled: Store) -> None:
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        export_mentions(filled, MentionFilter(), "xml", io.StringIO())


# ---------------------------------------------------------------------------------------------
# Import


def good_line(external_id: str, **extra: object) -> bytes:
    data: dict[str, object] = {
        "source": "demo",
        "external_id": external_id,
        "author": {"handle": "rina"},
        "text": f"mention {external_id}",
        "created_at": "2026-11-23T08:00:00+07:00",
        **extra,
    }
    return json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n"


def bad_file(tmp_path: Path) -> Path:
    lines = [
        good_line("a", id=999),  # 1 (a store id from another database is ignored)
        b"\n",  # 2 blank
        b"not json at all\n",  # 3
        b"[1, 2, 3]\n",  # 4
        b'{"source": "demo", "external_id": "x", "author": {"handle": "h"}, '
        b'"created_at": "2026-11-23T08:00:00Z"}\n',  # 5 no text
        good_line("naive", created_at="2026-11-23T08:00:00"),  # 6
        b'{"source": "demo", "text": "caf\xe9"}\n',  # 7 latin-1, not UTF-8
        good_line("b", text="\x1b[31mred\x1b[0m alert\u202e"),  # 8
        b"   \t \n",  # 9 blank
        good_line("a"),  # 10 duplicate of line 1
        b'{"source": "demo"',  # 11 cut short, no newline at the end
    ]
    path = tmp_path / "import.jsonl"
    path.write_bytes(b"".join(lines))
    return path


EXPECTED_BAD = [
    BadLine(3, "not JSON: Expecting value (column 1)"),
    BadLine(4, "not a JSON object"),
    BadLine(5, "text: Field required"),
    BadLine(6, "created_at: Value error, timestamp must carry a time zone (UTC offset)"),
    BadLine(7, "not UTF-8 (byte 31)"),
    BadLine(11, "not JSON: Expecting ',' delimiter (column 18)"),
]


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_import_reports_bad_lines_and_keeps_good_ones(
    store: Store, tmp_path: Path, batch_size: int
) -> None:
    path = bad_file(tmp_path)
    store.insert_batch([make("old", source="other")])
    seen: list[int] = []
    result = import_jsonl(store, path, batch_size=batch_size, progress=seen.append)
    assert (result.imported, result.duplicates) == (2, 1)
    assert result.bad == EXPECTED_BAD
    assert [b.format(path) for b in result.bad][:2] == [
        f"{path}:3: not JSON: Expecting value (column 1)",
        f"{path}:4: not a JSON object",
    ]
    assert seen == [1, 3, 4, 5, 6, 7, 8, 10, 11]
    assert store.keys() == [("other", "old"), ("demo", "a"), ("demo", "b")]
    a = store.get_mention(2)
    b = store.get_mention(3)
    assert a is not None
    assert b is not None
    assert a.created_at == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert a.text == "mention a"
    assert b.text == "red alert"  # untrusted text is cleaned on the way in

    again = import_jsonl(store, path, batch_size=batch_size)
    assert (again.imported, again.duplicates) == (0, 3)
    assert again.bad == EXPECTED_BAD
    assert store.keys() == [("other", "old"), ("demo", "a"), ("demo", "b")]
    assert store.changes()["mentions"] == (3 if batch_size == 1 else 2)


def test_import_of_an_empty_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"\n\n")
    result = import_jsonl(store, path)
    assert (result.imported, result.duplicates, result.bad) == (0, 0, [])
    assert store.count_mentions() == 0


# ---------------------------------------------------------------------------------------------
# Replay


def export_file(tmp_path: Path, mentions: list[Mention], name: str = "replay.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(m.model_dump_json() + "\n" for m in mentions), encoding="utf-8")
    return path


async def replay(
    path: Path, *, speed: float = 0, cursor: str | None = None, limit: int | None = None
) -> tuple[ReplaySource, list[Fetched]]:
    source = ReplaySource("recorded", ReplaySourceConfig(path=path, speed=speed), limit=limit)
    batches = [batch async for batch in source.stream(cursor)]
    return source, batches


def flat(batches: list[Fetched]) -> list[Mention]:
    return [m for batch in batches for m in batch.mentions]


async def test_replay_at_speed_zero(tmp_path: Path) -> None:
    originals = [
        make("1", at=T0),
        make("2", at=T0 + timedelta(seconds=30), source="rss"),
        make("3", at=T0 + timedelta(minutes=5)),
    ]
    path = export_file(tmp_path, originals)
    start = utcnow()
    source, batches = await replay(path)
    replayed = flat(batches)
    assert [m.external_id for m in replayed] == ["1", "2", "3"]
    assert {m.source for m in replayed} == {"recorded"}
    assert [m.raw["replay_source"] for m in replayed] == ["demo", "rss", "demo"]
    assert [m.raw["replay_created_at"] for m in replayed] == [
        o.created_at.isoformat() for o in originals
    ]
    assert replayed[0].raw["platform"] == {"id": "1", "nested": [1, None, "ü"]}
    for m in replayed:
        assert m.created_at >= start
        assert m.created_at.utcoffset() == timedelta(0)
        assert m.received_at == m.created_at
    # everything else is kept as exported
    assert replayed[1].text == originals[1].text
    assert replayed[1].triage == originals[1].triage
    assert replayed[1].author == originals[1].author
    assert batches[-1].cursor == "3"
    assert source.health.state is HealthState.FINISHED
    assert source.health.fetched == 3
    assert source.health.warnings == []


async def test_replay_resumes_after_its_cursor(tmp_path: Path) -> None:
    path = export_file(tmp_path, [make(str(i)) for i in range(1, 6)])
    _, batches = await replay(path, cursor="3")
    assert [m.external_id for m in flat(batches)] == ["4", "5"]
    assert batches[-1].cursor == "5"
    _, done = await replay(path, cursor="5")
    assert flat(done) == []
    _, bogus = await replay(path, cursor="not-a-number")
    assert len(flat(bogus)) == 5


async def test_replay_reports_bad_lines_in_health(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        make("1").model_dump_json().encode()
        + b"\n{oops\n\n"
        + make("2").model_dump_json().encode()
        + b'\n{"source": "x"}\n'
    )
    source, batches = await replay(path)
    assert [m.external_id for m in flat(batches)] == ["1", "2"]
    assert source.health.warnings == [
        f"{path}:2: not JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{path}:5: external_id: Field required (+3 more)",
    ]
    assert [b.line for b in source.bad_lines] == [2, 5]
    # the cursor covers the trailing bad line, so a restart does not report it again
    assert batches[-1].cursor == "5"
    assert source.health.state is HealthState.FINISHED


async def test_replay_paces_at_speed(tmp_path: Path) -> None:
    gap = timedelta(seconds=0.1)
    path = export_file(tmp_path, [make(str(i), at=T0 + i * gap) for i in range(3)])
    started = time.monotonic()
    _, paced = await replay(path, speed=1)
    paced_time = time.monotonic() - started
    assert [m.external_id for m in flat(paced)] == ["0", "1", "2"]
    assert paced_time >= 0.15
    started = time.monotonic()
    _, fast = await replay(path, speed=0)
    assert len(flat(fast)) == 3
    assert time.monotonic() - started < paced_time
    # speed 4: a quarter of the gaps
    started = time.monotonic()
    await replay(path, speed=4)
    assert time.monotonic() - started < paced_time


async def test_replay_missing_file_is_fatal(tmp_path: Path) -> None:
    path = tmp_path / "nope.jsonl"
    with pytest.raises(SourceError) as info:
        await replay(path)
    assert info.value.fatal is True
    assert str(info.value) == f"{path}: cannot open (No such file or directory)"


async def test_replay_limit_stops_early(tmp_path: Path) -> None:
    path = export_file(tmp_path, [make(str(i)) for i in range(1, 11)])
    source, batches = await replay(path, limit=3)
    assert [m.external_id for m in flat(batches)] == ["1", "2", "3"]
    assert batches[-1].cursor == "3"
    assert source.health.fetched == 3
    _, paced = await replay(path, speed=1, limit=2)
    assert [m.external_id for m in flat(paced)] == ["1", "2"]
    assert paced[-1].cursor == "2"


async def test_replay_of_a_file_from_another_zone(tmp_path: Path) -> None:
    jakarta = timezone(timedelta(hours=7))
    line = json.dumps(
        {
            "source": "demo",
            "external_id": "z",
            "author": {"handle": "z"},
            "text": "zone",
            "created_at": datetime(2026, 11, 23, 15, 0, tzinfo=jakarta).isoformat(),
        }
    )
    path = tmp_path / "zone.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    _, batches = await replay(path)
    (only,) = flat(batches)
    assert only.raw["replay_created_at"] == "2026-11-23T08:00:00+00:00"
