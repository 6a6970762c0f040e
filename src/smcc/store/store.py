"""The Store: the only shared state, and the only place with SQL.

One SQLite file in WAL mode. Writers take `BEGIN IMMEDIATE` so that two processes never deadlock
upgrading a read lock; readers never block writers. Every write transaction bumps the change counter
of its topic, so another process learns that something changed with one tiny query.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

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
    utcnow,
)
from smcc.store.console import (
    ITEM_COLUMNS,
    OPEN_CONDITION,
    ActionResult,
    QueueItem,
    RollupMinute,
)
from smcc.store.outbox import OutboxStore, event_from_row
from smcc.store.schema import APPLICATION_ID, LATEST, MIGRATIONS
from smcc.textclean import valid_unicode

BUSY_TIMEOUT_MS = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(Exception):
    """The database cannot be used as asked; the message says what to do."""


def ts(value: datetime) -> str:
    """A UTC timestamp in one fixed-width text form, so that text order is time order."""
    if value.tzinfo is not UTC:  # models hold UTC already; the conversion is for other callers
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def from_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _opt_ts(value: datetime | None) -> str | None:
    return ts(value) if value is not None else None


def _opt_from_ts(value: str | None) -> datetime | None:
    return from_ts(value) if value is not None else None


@dataclass(frozen=True)
class BatchResult:
    inserted: int
    duplicates: int
    first_id: int | None = None
    """Row ids of this batch's new mentions are first_id … first_id + inserted - 1."""


@dataclass
class MentionFilter:
    """Filters shared by export, stats and the console's queues."""

    since: datetime | None = None
    until: datetime | None = None
    tiers: Sequence[int] = ()
    departments: Sequence[str] = ()
    brands: Sequence[str] = ()
    sources: Sequence[str] = ()
    languages: Sequence[str] = ()
    statuses: Sequence[str] = ()

    def conditions(self, prefix: str = "") -> tuple[list[str], list[Any]]:
        """SQL conditions and their arguments; `prefix` qualifies columns ("m.")."""
        where: list[str] = []
        args: list[Any] = []
        if self.since is not None:
            where.append(f"{prefix}created_at >= ?")
            args.append(ts(self.since))
        if self.until is not None:
            where.append(f"{prefix}created_at < ?")
            args.append(ts(self.until))
        for column, values in (
            ("tier", self.tiers),
            ("department", self.departments),
            ("brand", self.brands),
            ("source", self.sources),
            ("language", self.languages),
            ("status", self.statuses),
        ):
            if values:
                where.append(f"{prefix}{column} IN ({', '.join('?' * len(values))})")
                args.extend(values)
        return where, args

    def sql(self) -> tuple[str, list[Any]]:
        """A WHERE clause (or nothing) over the mentions table, and its arguments."""
        where, args = self.conditions()
        return (" WHERE " + " AND ".join(where) if where else ""), args


@dataclass(frozen=True)
class LeaseInfo:
    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def process_identity() -> str:
    """Who holds a lease: host and pid, so a dead holder on this host is recognised at once."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_is_dead(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


_MENTION_COLUMNS = (
    "source, external_id, url, author_id, author_handle, author_name, text, language, "
    "lang_confidence, created_at, received_at, reply_to_id, conversation_id, likes, reposts, "
    "replies, quotes, brand, sentiment, sentiment_label, analyzer, tier, department, sla_due, "
    "tags, rule, explanation, score, status, raw, is_question, influence"
)
_MENTION_VALUES = (
    "(?, ?, ?, (SELECT id FROM authors WHERE source = ? AND handle = ?), "
    + ", ".join("?" * 28)
    + ")"
)
_INSERT_MENTION = (
    f"INSERT INTO mentions ({_MENTION_COLUMNS}) VALUES {_MENTION_VALUES} "
    "ON CONFLICT (source, external_id) DO NOTHING"
)
# Many rows per statement: a fifth cheaper than one row per step (bench/ingest.py), and SQLite
# keeps the GIL released for longer stretches, so the pipeline's Python work overlaps better.
ROWS_PER_INSERT = 50
_INSERT_MENTIONS = (
    f"INSERT INTO mentions ({_MENTION_COLUMNS}) VALUES "
    + ", ".join([_MENTION_VALUES] * ROWS_PER_INSERT)
    + " ON CONFLICT (source, external_id) DO NOTHING"
)
# The profile comes from the author's newest mention (platforms page newest-first, backfills go
# back in time); the count grows with every mention of theirs, old or new.
_AUTHOR_VALUES = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
_AUTHOR_UPSERT = """
ON CONFLICT (source, handle) DO UPDATE SET
    display_name = iif(excluded.last_seen >= last_seen, excluded.display_name, display_name),
    followers = iif(excluded.last_seen >= last_seen, excluded.followers, followers),
    verified = iif(excluded.last_seen >= last_seen, excluded.verified, verified),
    external_id = iif(excluded.last_seen >= last_seen,
                      coalesce(excluded.external_id, external_id), external_id),
    last_seen = max(last_seen, excluded.last_seen),
    mention_count = mention_count + excluded.mention_count
"""
_AUTHOR_INSERT = """
INSERT INTO authors (source, handle, display_name, followers, verified, external_id,
                     first_seen, last_seen, mention_count)
VALUES """
_UPSERT_AUTHOR = _AUTHOR_INSERT + _AUTHOR_VALUES + _AUTHOR_UPSERT
# Many authors per statement, as for mentions (prepare_batch gives each author once per batch).
_UPSERT_AUTHORS = _AUTHOR_INSERT + ", ".join([_AUTHOR_VALUES] * ROWS_PER_INSERT) + _AUTHOR_UPSERT
_UNCOUNT_AUTHOR = (
    "UPDATE authors SET mention_count = mention_count - ? WHERE source = ? AND handle = ?"
)
_INDEX_NEW = """
INSERT INTO mentions_fts (rowid, text, author_handle, author_name)
SELECT id, text, author_handle, author_name FROM mentions WHERE id > ?
"""
_TERM_ROLLUP = """
INSERT INTO term_rollups (minute, term, count, sentiment_sum, sentiment_n) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (minute, term) DO UPDATE SET
    count = count + excluded.count,
    sentiment_sum = sentiment_sum + excluded.sentiment_sum,
    sentiment_n = sentiment_n + excluded.sentiment_n
"""
# A batch's per-minute counts, summed by prepare_batch (rollup_rows): a GROUP BY over the batch's
# new rows in SQL cost the writer ≈ 1 µs a mention (bench/ingest.py), the sums in Python less, and
# in the ingest process rather than the writer's.
_ROLLUP_ADD = """
INSERT INTO rollups (minute, source, brand, language, tier, count, sentiment_sum, sentiment_n)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (minute, source, brand, language, tier) DO UPDATE SET
    count = count + excluded.count,
    sentiment_sum = sentiment_sum + excluded.sentiment_sum,
    sentiment_n = sentiment_n + excluded.sentiment_n
"""
# One mention into (+1) or out of (-1) the rollup of its current tier.
_ROLLUP_ONE = """
INSERT INTO rollups (minute, source, brand, language, tier, count, sentiment_sum, sentiment_n)
SELECT substr(created_at, 1, 16), source, coalesce(brand, ''), coalesce(language, ''),
       coalesce(tier, 0), ?, ? * coalesce(sentiment, 0), ? * (sentiment IS NOT NULL)
FROM mentions WHERE id = ?
ON CONFLICT (minute, source, brand, language, tier) DO UPDATE SET
    count = count + excluded.count,
    sentiment_sum = sentiment_sum + excluded.sentiment_sum,
    sentiment_n = sentiment_n + excluded.sentiment_n
"""


def _json_encoder(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    """`json.dumps(value, ensure_ascii=False, default=default)`, made once and cheaper per call.

    json.dumps builds a new encoder on every call unless all its options are the defaults, and
    even a prebuilt JSONEncoder builds its C encoder again in each `encode` (≈ 0.5 µs of the
    ≈ 1.5 µs a demo mention's raw payload takes). The C encoder is made here once, without the
    circular-reference check: what is stored comes from parsed JSON or from our own models, so
    it has no cycles (one would end in RecursionError instead of ValueError)."""
    fallback = json.JSONEncoder(ensure_ascii=False, default=default).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (not CPython): the pure-Python encoder
        return fallback
    try:
        chunks = make(
            None, default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
        )

        def encode(value: Any) -> str:
            return "".join(chunks(value, 0))

        probe = {"a": [1, 2.5, None, True, "é\n"], "b": {}}
        if encode(probe) == fallback(probe):
            return encode
    except TypeError:  # the accelerator's signature changed in this Python
        pass
    return fallback


def _not_serializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_to_json = _json_encoder(_not_serializable)
_to_json_any = _json_encoder(str)
_STATUS = {status: status.value for status in Status}


def _raw_json(raw: dict[str, Any]) -> str:
    # A platform's payload may hold a lone surrogate (a JSON `\\ud800` escape): not UTF-8.
    return valid_unicode(_to_json_any(raw))


def _mention_params(m: Mention, created: str, received: str) -> tuple[Any, ...]:
    # On the ingest hot path (bench/ingest.py): each value read and formatted once, empty JSON
    # skipped.
    source = m.source
    author = m.author
    handle = author.handle
    e = m.engagement
    s = m.sentiment
    raw = m.raw
    t = m.triage
    return (
        source,
        m.external_id,
        m.url,
        source,
        handle,
        handle,
        author.display_name,
        m.text,
        m.language,
        m.lang_confidence,
        created,
        received,
        m.reply_to_id,
        m.conversation_id,
        e.likes,
        e.reposts,
        e.replies,
        e.quotes,
        m.brand,
        s.score,
        s.label,
        s.analyzer,
        t.tier if t else None,
        t.department if t else None,
        _opt_ts(t.sla_due) if t else None,
        _to_json(t.tags) if t and t.tags else "[]",
        t.rule if t else None,
        t.explanation if t else None,
        t.score if t else 0.0,
        _STATUS[m.status],
        _raw_json(raw) if raw else "{}",
        m.is_question,
        m.influence,
    )


def _author_params(m: Mention, seen: str, count: int) -> tuple[Any, ...]:
    """The upsert's row for the author of `m` (their newest mention of `count` in the batch,
    created at `seen`)."""
    a = m.author
    return (
        m.source,
        a.handle,
        a.display_name,
        a.followers,
        a.verified,
        a.external_id,
        seen,
        seen,
        count,
    )


class _UtcText:
    """`ts` for the times of one batch, at half the cost when they come close together.

    Formatting a datetime is the largest single cost of a mention's row (≈ 1 µs). The text of
    the second a time falls in ("2026-11-23T08:05:17.") is kept from the time before, so a time
    in the same second (a busy stream's next mention) only adds its microseconds. Other times,
    and times not in `UTC` (models hold UTC; others go through `ts`), are formatted in full.
    """

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second: datetime | None = None
        """The start of the second last formatted."""
        self._prefix = ""

    def __call__(self, value: datetime) -> str:
        if value.tzinfo is not UTC:
            return ts(value)
        second = self._second
        if second is not None:
            delta = value - second
            if not delta.days and not delta.seconds:  # 0 ≤ delta < 1 s
                return f"{self._prefix}{delta.microseconds:06d}+00:00"
        text = value.isoformat(timespec="microseconds")
        self._second = value - timedelta(microseconds=value.microsecond)
        self._prefix = text[:20]
        return text


TermSets = Sequence[Collection[str]]
"""The terms of each mention of a batch, in the batch's order (see smcc.analysis.terms)."""


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch turned into SQL parameters, ready for Store.insert_prepared."""

    mentions: list[tuple[Any, ...]]
    authors: list[tuple[Any, ...]]
    terms: list[tuple[str, str, int, float, int]] = field(default_factory=list)
    """term_rollups rows (minute, term, count, sentiment sum, scored) of the whole batch."""
    term_sets: list[tuple[str, str, str, Collection[str], float | None]] = field(
        default_factory=list
    )
    """Per mention (source, external id, minute, terms, sentiment): to recount `terms` when some
    mentions of the batch turn out to be stored already."""
    rollups: list[RollupRow] | None = None
    """The rollups rows of the whole batch (`rollup_rows(mentions)`); None: not summed yet."""


_Row = TypeVar("_Row", bound=tuple[Any, ...])
RollupRow = tuple[str, str, str, str, int, int, float, int]
"""(minute, source, brand, language, tier, count, sentiment sum, scored): a rollups row."""


def rollup_rows(rows: Iterable[tuple[Any, ...]]) -> list[RollupRow]:
    """Per-minute counts of mention rows made by prepare_batch, keyed as the rollups table is
    (the minute cut from created_at as stored; '' and 0 for no brand, language or tier)."""
    sums: dict[tuple[str, str, str, str, int], list[Any]] = {}
    for r in rows:
        key = (r[10][:16], r[0], r[18] or "", r[8] or "", r[22] or 0)
        row = sums.get(key)
        if row is None:
            sums[key] = row = [0, 0.0, 0]
        row[0] += 1
        score = r[19]
        if score is not None:
            row[1] += score
            row[2] += 1
    return [(*key, c, s, n) for key, (c, s, n) in sums.items()]


def _stored_and_not(
    rows: Iterable[_Row], new: set[tuple[str, str]]
) -> tuple[list[_Row], list[_Row]]:
    """The rows (mention rows or term sets: source and external id first) that the batch stored,
    and those it did not. `new` holds the keys stored by this batch; of a key given twice in it,
    the first row was stored (INSERT … ON CONFLICT DO NOTHING keeps that one)."""
    left = set(new)
    stored: list[_Row] = []
    not_stored: list[_Row] = []
    for r in rows:
        key = (r[0], r[1])
        if key in left:
            left.discard(key)
            stored.append(r)
        else:
            not_stored.append(r)
    return stored, not_stored


def _minute_key(created: str) -> str:
    return created[:16]


def term_rows(
    term_sets: Iterable[tuple[str, str, str, Collection[str], float | None]],
) -> list[tuple[str, str, int, float, int]]:
    """Per-minute counts of each term over mentions given as PreparedBatch.term_sets."""
    counts: dict[tuple[str, str], list[Any]] = {}
    for _, _, minute, terms, score in term_sets:
        for term in terms:
            row = counts.get((minute, term))
            if row is None:
                counts[(minute, term)] = row = [0, 0.0, 0]
            row[0] += 1
            if score is not None:
                row[1] += score
                row[2] += 1
    return [(minute, term, c, s, n) for (minute, term), (c, s, n) in counts.items()]


def prepare_batch(mentions: Sequence[Mention], terms: TermSets | None = None) -> PreparedBatch:
    """The rows to write for `mentions` (and their `terms`): pure Python, no database access.

    Kept apart from the write so that the pipeline can build the next batch's rows while SQLite
    (which releases the GIL) writes the previous one in the writer thread.
    """
    params: list[tuple[Any, ...]] = []
    append = params.append
    # Platforms page newest-first: keep each author's newest mention, not the last one seen.
    authors: dict[tuple[str, str], tuple[Mention, str]] = {}
    counts: dict[tuple[str, str], int] = {}
    utc_text = _UtcText()
    # A page's mentions share their received time: format it once.
    last_received: datetime | None = None
    received = ""
    for m in mentions:
        created = utc_text(m.created_at)
        if m.received_at is not last_received:
            last_received = m.received_at
            received = ts(last_received)
        append(_mention_params(m, created, received))
        key = (m.source, m.author.handle)
        seen = authors.get(key)
        if seen is None:
            authors[key] = (m, created)
            counts[key] = 1
        else:
            counts[key] += 1
            if created >= seen[1]:  # fixed-width UTC text: text order is time order
                authors[key] = (m, created)
    term_sets: list[tuple[str, str, str, Collection[str], float | None]] = []
    if terms is not None:
        # params[i][10] is the mention's created_at as stored: its first 16 characters are the
        # rollup minute, exactly as the rollups table's SQL cuts it.
        term_sets = [
            (m.source, m.external_id, _minute_key(p[10]), t, m.sentiment.score)
            for m, p, t in zip(mentions, params, terms, strict=True)
            if t
        ]
    return PreparedBatch(
        mentions=params,
        authors=[_author_params(m, created, counts[key]) for key, (m, created) in authors.items()],
        terms=term_rows(term_sets),
        term_sets=term_sets,
        rollups=rollup_rows(params),
    )


def _execute_chunked(
    conn: sqlite3.Connection, many: str, one: str, rows: Sequence[tuple[Any, ...]]
) -> None:
    """`one` for each row, as `many` (ROWS_PER_INSERT rows a statement) where rows suffice."""
    whole = len(rows) - len(rows) % ROWS_PER_INSERT
    if whole:
        conn.executemany(
            many,
            [
                tuple(chain.from_iterable(rows[i : i + ROWS_PER_INSERT]))
                for i in range(0, whole, ROWS_PER_INSERT)
            ],
        )
    if whole < len(rows):
        conn.executemany(one, rows[whole:])


def _count_by_author(rows: Iterable[tuple[Any, ...]]) -> list[tuple[int, str, str]]:
    """(how many, source, handle) of mention rows, per author."""
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        author = (r[0], r[4])  # the row's source and author handle
        counts[author] = counts.get(author, 0) + 1
    return [(n, source, handle) for (source, handle), n in counts.items()]


def _minute(value: datetime) -> str:
    """The rollup key of the minute holding `value` ('2026-11-23T08:05')."""
    return ts(value)[:16]


def _from_minute(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _alert_from_row(r: sqlite3.Row) -> Alert:
    return Alert(
        id=r["id"],
        kind=AlertKind(r["kind"]),
        brand=r["brand"],
        keyword=r["keyword"],
        severity=r["severity"],
        description=r["description"],
        since=from_ts(r["since"]),
        cleared_at=_opt_from_ts(r["cleared_at"]),
        detail=json.loads(r["detail"]),
    )


def _alert_event(actor: str, action: str, alert_id: int, alert: Alert) -> Event:
    return Event(
        actor=actor,
        action=action,
        detail={
            "alert_id": alert_id,
            "kind": alert.kind.value,
            "brand": alert.brand,
            "keyword": alert.keyword,
            "severity": alert.severity,
            "description": alert.description,
            "since": ts(alert.since),
            **({"cleared_at": ts(alert.cleared_at)} if alert.cleared_at else {}),
        },
    )


def mention_from_row(row: sqlite3.Row) -> Mention:
    tier = row["tier"]
    triage = None
    if tier is not None:
        triage = Triage(
            tier=tier,
            department=row["department"] or "",
            sla_due=_opt_from_ts(row["sla_due"]),
            tags=json.loads(row["tags"]),
            rule=row["rule"] or "",
            explanation=row["explanation"] or "",
            score=row["score"],
        )
    return Mention(
        id=row["id"],
        source=row["source"],
        external_id=row["external_id"],
        url=row["url"],
        author=Author(
            handle=row["author_handle"],
            display_name=row["author_name"],
            followers=row["followers"] or 0,
            verified=bool(row["verified"]),
            external_id=row["author_external_id"],
        ),
        text=row["text"],
        language=row["language"],
        lang_confidence=row["lang_confidence"],
        created_at=from_ts(row["created_at"]),
        received_at=from_ts(row["received_at"]),
        reply_to_id=row["reply_to_id"],
        conversation_id=row["conversation_id"],
        engagement=Engagement(
            likes=row["likes"], reposts=row["reposts"], replies=row["replies"], quotes=row["quotes"]
        ),
        brand=row["brand"],
        sentiment=Sentiment(
            score=row["sentiment"], label=row["sentiment_label"], analyzer=row["analyzer"]
        ),
        is_question=bool(row["is_question"]),
        influence=row["influence"],
        triage=triage,
        status=Status(row["status"]),
        raw=json.loads(row["raw"]),
    )


_SELECT_MENTIONS = """
SELECT m.*, a.followers, a.verified, a.external_id AS author_external_id
FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
"""


def fts_query(text: str) -> str:
    """An FTS5 query matching every word of `text` literally (no operators, no syntax errors).

    Each word becomes a quoted string (quotes doubled inside), so `AND`, `*`, `"` or `a:b` typed
    into a search box are searched for, never interpreted.
    """
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"' for w in words if w.strip('"'))


def _check_existing(path: Path) -> None:
    """Refuse, without writing anything, a file that is not an smcc database we understand."""
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read ({exc.strerror})") from None
    if header != SQLITE_HEADER:
        raise StoreError(f"{path}: not an SQLite database; point --db at an smcc database")
    # A read-only connection to a WAL database may still create -wal/-shm files; when we refuse
    # the file, remove what we created so that it is left exactly as we found it.
    sidecars = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    existed = {p for p in sidecars if p.exists()}
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open: {exc}") from None
    try:
        _check_contents(conn, path)
    except StoreError:
        conn.close()
        for p in sidecars:
            if p not in existed:
                p.unlink(missing_ok=True)
        raise
    conn.close()


def _check_contents(conn: sqlite3.Connection, path: Path) -> None:
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = sqlite_utils.Database(conn).table_names()
        if app_id != APPLICATION_ID:
            if tables:
                raise StoreError(
                    f"{path}: an SQLite database of another program, not an smcc database; "
                    "choose another --db path"
                )
            return
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: unreadable database ({exc})") from None
    if version is not None and version > LATEST:
        raise StoreError(
            f"{path}: written by a newer smcc (schema version {version}, this smcc knows up to "
            f"{LATEST}); upgrade smcc to use it"
        )


PAGE_SIZE = 8192
"""Bytes a page of a new database (SQLite's default is 4,096): the writer's CPU time a mention is
≈ 0.8 µs less (bench/ingest.py; fewer pages to write to the log and copy back, less kernel
time). An existing database keeps its page size."""


def _connect(path: str, *, new: bool = False) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(
            path,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open database ({exc})") from None
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if new:  # before the log exists: a database in WAL mode cannot change its page size
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    if path != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    # NORMAL is durable against process crashes in WAL mode; only an OS crash or power loss
    # can drop the last transactions, which the sources then fetch again from their cursor.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


_FileId = tuple[int, int]
_open_here: dict[_FileId, int] = {}
"""Database files (device, inode) this process has open through a Store, with how many Stores.

`open` probes an existing file with a read-only connection before touching it. In a process that
already has the file open that probe is not needed (the file was checked when first opened) and
not safe: with SQLite 3.40, a read-only connection opened while another connection of the same
process writes, just after taking the database over from a killed writer, made that writer's next
transaction fail with "database disk image is malformed" (the file itself stayed intact;
reproduced by tests/test_crash.py's standby test before this guard)."""
_open_here_lock = threading.Lock()


def _file_id(path: str) -> _FileId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class Store(OutboxStore):
    """A connection to one smcc database. Use one Store per thread.

    The outbox's operations come from :class:`smcc.store.outbox.OutboxStore`."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        """Held by whoever uses this connection from a thread other than its owner's (the
        console's worker threads), and by `close`: closing a connection while another thread
        runs a statement on it crashes the interpreter (seen in CI: a segfault in a meters
        refresh still running when a test closed the store)."""
        self._file_id = None if path == ":memory:" else _file_id(path)
        if self._file_id is not None:
            with _open_here_lock:
                _open_here[self._file_id] = _open_here.get(self._file_id, 0) + 1

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> Store:
        """Open (and create or migrate) the database at `path`; ':memory:' for tests."""
        memory = str(path) == ":memory:"
        new = False
        if not memory:
            p = Path(path)
            if p.is_dir():
                raise StoreError(f"{p}: is a directory; --db takes a file path")
            if p.exists() and p.stat().st_size > 0:
                if _file_id(str(p)) not in _open_here:
                    _check_existing(p)
            elif p.exists() and not create:
                raise StoreError(f"{p}: empty file, not an smcc database; run `smcc ingest` first")
            elif not create:
                raise StoreError(f"{p}: no such database; run `smcc ingest` first")
            else:
                new = True
                try:
                    p.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"{p.parent}: cannot create ({exc.strerror})") from None
        store = cls(_connect(str(path), new=new), str(path))
        store._migrate()
        return store

    def another(self) -> Store:
        """A second connection to this (already checked and migrated) database, for another
        thread: no probe, no migration check (see `_open_here` for why the probe must not run)."""
        if self.path == ":memory:":
            raise StoreError("an in-memory database has no second connection")
        return Store(_connect(self.path), self.path)

    @classmethod
    def memory(cls) -> Store:
        return cls.open(":memory:")

    def close(self) -> None:
        with self.lock:
            self.conn.close()
        file_id, self._file_id = self._file_id, None
        if file_id is not None:
            with _open_here_lock:
                left = _open_here.get(file_id, 1) - 1
                if left > 0:
                    _open_here[file_id] = left
                else:
                    _open_here.pop(file_id, None)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the database file, without waiting for
        readers or the writer (a PASSIVE checkpoint)."""
        with self.lock:
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads that all see the database as it was at the first of them (a read transaction:
        what other connections commit meanwhile stays out of sight until the block ends)."""
        with self.lock:
            self.conn.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                self.conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; rolled back if the block raises."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _migrate(self) -> None:
        known = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if known is None:
            # One transaction stamps a new file as ours and creates its first table: another
            # process probing the file (`_check_contents`) never sees a table without our
            # application_id, which it would refuse as "another program's database".
            with self.transaction() as conn:
                if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
        if self.schema_version() >= LATEST:
            return
        for migration in MIGRATIONS:
            with self.transaction() as conn:
                # Checked again under the write lock: another process may have just applied it.
                if self.schema_version() >= migration.version:
                    continue
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, ts(utcnow())),
                )
                if migration.version == 1:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    # -- change counter --------------------------------------------------------------------------

    def _bump(self, conn: sqlite3.Connection, *topics: str) -> None:
        for topic in topics:
            conn.execute("UPDATE changes SET counter = counter + 1 WHERE topic = ?", (topic,))

    def changes(self) -> dict[str, int]:
        """Counters per topic; a reader compares them with the last values it saw."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT topic, counter FROM changes")}

    # -- mentions ------------------------------------------------------------------------------

    def insert_batch(
        self, mentions: Sequence[Mention], cursors: dict[str, str | None] | None = None
    ) -> BatchResult:
        """Store mentions (skipping ones already stored) and the sources' cursors atomically."""
        return self.insert_prepared(prepare_batch(mentions), cursors)

    def insert_prepared(
        self, batch: PreparedBatch, cursors: dict[str, str | None] | None = None
    ) -> BatchResult:
        """Like insert_batch, for rows made by prepare_batch (possibly in another thread)."""
        with self.transaction() as conn:
            before = conn.execute("SELECT coalesce(max(id), 0) FROM mentions").fetchone()[0]
            _execute_chunked(conn, _UPSERT_AUTHORS, _UPSERT_AUTHOR, batch.authors)
            rows = batch.mentions
            _execute_chunked(conn, _INSERT_MENTIONS, _INSERT_MENTION, rows)
            inserted = conn.execute(
                "SELECT count(*) FROM mentions WHERE id > ?", (before,)
            ).fetchone()[0]
            new: set[tuple[str, str]] | None = None
            stored = rows
            if inserted < len(rows):
                # Some were stored before (a source re-sent them): the authors' counts and the
                # term rollups take only the new ones.
                new = {
                    (r[0], r[1])
                    for r in conn.execute(
                        "SELECT source, external_id FROM mentions WHERE id > ?", (before,)
                    )
                }
                stored, not_stored = _stored_and_not(rows, new)
                conn.executemany(_UNCOUNT_AUTHOR, _count_by_author(not_stored))
            if inserted:
                conn.execute(_INDEX_NEW, (before,))
                rollups = batch.rollups
                if new is not None or rollups is None:
                    rollups = rollup_rows(stored)
                conn.executemany(_ROLLUP_ADD, rollups)
                terms = batch.terms
                if new is not None and batch.term_sets:
                    terms = term_rows(_stored_and_not(batch.term_sets, new)[0])
                if terms:
                    conn.executemany(_TERM_ROLLUP, terms)
                self._bump(conn, "mentions")
            if cursors:
                now = ts(utcnow())
                conn.executemany(
                    "INSERT INTO cursors (source, cursor, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, "
                    "updated_at = excluded.updated_at",
                    [(source, cursor, now) for source, cursor in cursors.items()],
                )
                self._bump(conn, "cursors")
        return BatchResult(
            inserted=inserted,
            duplicates=len(batch.mentions) - inserted,
            first_id=before + 1 if inserted else None,
        )

    def update_triage(self, changes: Sequence[tuple[int, Triage]]) -> int:
        """Replace the triage of stored mentions (by id), keeping the per-tier rollups in step.

        For `smcc rules backtest --apply`; returns how many mentions were updated.
        """
        updated = 0
        with self.transaction() as conn:
            for mention_id, triage in changes:
                old = conn.execute(
                    "SELECT tier FROM mentions WHERE id = ?", (mention_id,)
                ).fetchone()
                if old is None:
                    continue
                moved = old["tier"] != triage.tier
                if moved:
                    conn.execute(_ROLLUP_ONE, (-1, -1, -1, mention_id))
                conn.execute(
                    "UPDATE mentions SET tier = ?, department = ?, sla_due = ?, tags = ?, "
                    "rule = ?, explanation = ?, score = ? WHERE id = ?",
                    (
                        triage.tier,
                        triage.department,
                        _opt_ts(triage.sla_due),
                        json.dumps(triage.tags, ensure_ascii=False),
                        triage.rule,
                        triage.explanation,
                        triage.score,
                        mention_id,
                    ),
                )
                if moved:
                    conn.execute(_ROLLUP_ONE, (1, 1, 1, mention_id))
                updated += 1
            conn.execute("DELETE FROM rollups WHERE count <= 0")
            if updated:
                self._bump(conn, "mentions")
        return updated

    def get_mention(self, mention_id: int) -> Mention | None:
        row = self.conn.execute(_SELECT_MENTIONS + " WHERE m.id = ?", (mention_id,)).fetchone()
        return mention_from_row(row) if row else None

    def count_mentions(self, where: MentionFilter | None = None) -> int:
        clause, args = (where or MentionFilter()).sql()
        return int(self.conn.execute(f"SELECT count(*) FROM mentions{clause}", args).fetchone()[0])

    def iter_mentions(
        self, where: MentionFilter | None = None, *, chunk: int = 1000
    ) -> Iterator[Mention]:
        """Mentions in id order, fetched in chunks so an export of millions stays small."""
        conditions, args = (where or MentionFilter()).conditions("m.")
        clause = "".join(f" AND {c}" for c in conditions)
        last = 0
        while True:
            rows = self.conn.execute(
                _SELECT_MENTIONS + f" WHERE m.id > ?{clause} ORDER BY m.id LIMIT ?",
                [last, *args, chunk],
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield mention_from_row(row)
            last = rows[-1]["id"]

    def keys(self, source: str | None = None) -> list[tuple[str, str]]:
        """(source, external id) of stored mentions in id order — for audits and tests."""
        sql = "SELECT source, external_id FROM mentions"
        rows = self.conn.execute(
            sql + (" WHERE source = ? ORDER BY id" if source else " ORDER BY id"),
            (source,) if source else (),
        )
        return [(r[0], r[1]) for r in rows]

    def search(self, query: str, *, limit: int = 100) -> list[Mention]:
        """Full-text search over text and author; `query` is taken literally, not as FTS syntax."""
        match = fts_query(query)
        if not match:
            return []
        ids = [
            r[0]
            for r in self.conn.execute(
                "SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ? ORDER BY rank LIMIT ?",
                (match, limit),
            )
        ]
        if not ids:
            return []
        rows = self.conn.execute(
            _SELECT_MENTIONS + f" WHERE m.id IN ({', '.join('?' * len(ids))})", ids
        ).fetchall()
        by_id = {r["id"]: mention_from_row(r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    def stats(self, where: MentionFilter | None = None) -> dict[str, Any]:
        """Counts of mentions in total and by tier, department, source, language and status."""
        clause, args = (where or MentionFilter()).sql()
        out: dict[str, Any] = {"total": self.count_mentions(where)}
        for column, label in (
            ("tier", "by_tier"),
            ("department", "by_department"),
            ("source", "by_source"),
            ("language", "by_language"),
            ("status", "by_status"),
            ("brand", "by_brand"),
        ):
            rows = self.conn.execute(
                f"SELECT {column}, count(*) FROM mentions{clause} GROUP BY 1 ORDER BY 2 DESC, 1",
                args,
            )
            out[label] = {(str(r[0]) if r[0] is not None else "unknown"): r[1] for r in rows}
        return out

    def rollups(self, since: datetime) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "SELECT * FROM rollups WHERE minute >= ? ORDER BY minute", [ts(since)[:16]]
            )
        )

    # -- cursors ---------------------------------------------------------------------------------

    def cursor(self, source: str) -> str | None:
        row = self.conn.execute("SELECT cursor FROM cursors WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    def cursors(self) -> dict[str, str | None]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT source, cursor FROM cursors")}

    # -- audit events and alerts --------------------------------------------------------------

    def add_event(self, event: Event) -> int:
        with self.transaction() as conn:
            return self._event(conn, event)

    def events(self, mention_id: int | None = None, *, limit: int = 200) -> list[Event]:
        sql = "SELECT * FROM events"
        args: list[Any] = []
        if mention_id is not None:
            sql += " WHERE mention_id = ?"
            args.append(mention_id)
        rows = self.conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*args, limit])
        return [event_from_row(r) for r in rows]

    def _event(self, conn: sqlite3.Connection, event: Event) -> int:
        cur = conn.execute(
            "INSERT INTO events (at, actor, action, mention_id, outbox_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                ts(event.at),
                event.actor,
                event.action,
                event.mention_id,
                event.outbox_id,
                json.dumps(event.detail, ensure_ascii=False, default=str),
            ),
        )
        self._bump(conn, "events")
        return int(cur.lastrowid or 0)

    def open_alert(self, alert: Alert, *, actor: str = "smcc") -> int:
        """Store a new alert and its audit event (`alert.raised`) in one transaction."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO alerts (kind, brand, keyword, severity, description, since, "
                "cleared_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    alert.kind.value,
                    alert.brand,
                    alert.keyword,
                    alert.severity,
                    alert.description,
                    ts(alert.since),
                    _opt_ts(alert.cleared_at),
                    json.dumps(alert.detail, ensure_ascii=False, default=str),
                ),
            )
            alert_id = int(cur.lastrowid or 0)
            self._event(conn, _alert_event(actor, "alert.raised", alert_id, alert))
            self._bump(conn, "alerts")
        return alert_id

    def close_alert(
        self, alert_id: int, at: datetime | None = None, *, actor: str = "smcc", reason: str = ""
    ) -> bool:
        """Clear an active alert (and log `alert.cleared`); False if it was not active."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM alerts WHERE id = ? AND cleared_at IS NULL", (alert_id,)
            ).fetchone()
            if row is None:
                return False
            cleared = at or utcnow()
            conn.execute("UPDATE alerts SET cleared_at = ? WHERE id = ?", (ts(cleared), alert_id))
            alert = _alert_from_row(row)
            alert.cleared_at = cleared
            event = _alert_event(actor, "alert.cleared", alert_id, alert)
            if reason:
                event.detail["reason"] = reason
            self._event(conn, event)
            self._bump(conn, "alerts")
        return True

    def active_alerts(self) -> list[Alert]:
        rows = self.conn.execute("SELECT * FROM alerts WHERE cleared_at IS NULL ORDER BY id")
        return [_alert_from_row(r) for r in rows]

    def alerts(self, *, include_cleared: bool = False, limit: int = 500) -> list[Alert]:
        """Active alerts (or all, newest first up to `limit`), most severe first when active."""
        if not include_cleared:
            sql = "SELECT * FROM alerts WHERE cleared_at IS NULL ORDER BY severity DESC, id DESC"
            return [_alert_from_row(r) for r in self.conn.execute(sql + " LIMIT ?", (limit,))]
        sql = "SELECT * FROM alerts ORDER BY id DESC LIMIT ?"
        return [_alert_from_row(r) for r in self.conn.execute(sql, (limit,))]

    # -- series for spike detection and reports ------------------------------------------------

    def latest_mention(self, after_id: int = 0) -> tuple[int, datetime] | None:
        """(highest id, latest created_at) among mentions with id > after_id; None if none."""
        row = self.conn.execute(
            "SELECT max(id), max(created_at) FROM mentions WHERE id > ?", (after_id,)
        ).fetchone()
        return (int(row[0]), from_ts(row[1])) if row[0] is not None else None

    def rollup_span(self) -> tuple[datetime, datetime] | None:
        """The first and the last minute the rollups hold (starts of minutes, UTC)."""
        row = self.conn.execute("SELECT min(minute), max(minute) FROM rollups").fetchone()
        if row[0] is None:
            return None
        return _from_minute(row[0]), _from_minute(row[1])

    def brand_minutes(self, since: datetime) -> list[tuple[datetime, str, int, float, int]]:
        """(minute, brand, count, sentiment sum, scored) per brand and minute from `since` on."""
        rows = self.conn.execute(
            "SELECT minute, brand, sum(count), sum(sentiment_sum), sum(sentiment_n) "
            "FROM rollups WHERE minute >= ? AND brand != '' GROUP BY minute, brand",
            (_minute(since),),
        )
        return [(_from_minute(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def term_minutes(
        self, terms: Sequence[str], since: datetime
    ) -> list[tuple[datetime, str, int, float, int]]:
        """(minute, term, count, sentiment sum, scored) of the given terms from `since` on."""
        if not terms:
            return []
        rows = self.conn.execute(
            "SELECT minute, term, count, sentiment_sum, sentiment_n FROM term_rollups "
            f"WHERE minute >= ? AND term IN ({', '.join('?' * len(terms))})",
            (_minute(since), *terms),
        )
        return [(_from_minute(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def term_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """Mentions per term in the minutes from `start` up to (not including) `end`."""
        rows = self.conn.execute(
            "SELECT term, sum(count) FROM term_rollups WHERE minute >= ? AND minute < ? "
            "GROUP BY term",
            (_minute(start), _minute(end)),
        )
        return {r[0]: int(r[1]) for r in rows}

    def volume(
        self, start: datetime | None, end: datetime | None, by: Sequence[str] = ("brand",)
    ) -> list[tuple[Any, ...]]:
        """Mentions grouped by rollup columns `by` (brand, source, language, tier): (*keys, n)."""
        unknown = set(by) - {"brand", "source", "language", "tier"}
        if unknown or not by:
            raise ValueError(f"cannot group rollups by {sorted(unknown) or 'nothing'}")
        where, args = self._minute_range(start, end)
        columns = ", ".join(by)
        rows = self.conn.execute(
            f"SELECT {columns}, sum(count) FROM rollups{where} GROUP BY {columns}", args
        )
        return [tuple(r) for r in rows]

    def minute_counts(
        self, start: datetime | None, end: datetime | None, brands: Sequence[str] = ()
    ) -> list[tuple[datetime, int]]:
        """Mentions per minute (all brands, or only `brands`) in the range."""
        where, args = self._minute_range(start, end)
        if brands:
            where += (" AND " if where else " WHERE ") + (
                f"brand IN ({', '.join('?' * len(brands))})"
            )
            args.extend(brands)
        rows = self.conn.execute(
            f"SELECT minute, sum(count) FROM rollups{where} GROUP BY minute ORDER BY minute", args
        )
        return [(_from_minute(r[0]), int(r[1])) for r in rows]

    @staticmethod
    def _minute_range(start: datetime | None, end: datetime | None) -> tuple[str, list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if start is not None:
            where.append("minute >= ?")
            args.append(_minute(start))
        if end is not None:
            where.append("minute < ?")
            args.append(_minute(end))
        return (" WHERE " + " AND ".join(where) if where else ""), args

    # -- leases ----------------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew lease `name` for `holder`; False while someone else holds it.

        A lease held by a dead process on this host is taken over at once; otherwise it expires
        `ttl` after its holder last renewed it.
        """
        now = utcnow()
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if (
                row is not None
                and row["holder"] != holder
                and from_ts(row["expires_at"]) > now
                and not _holder_is_dead(row["holder"])
            ):
                return False
            acquired = ts(now)
            conn.execute(
                "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "acquired_at = CASE WHEN leases.holder = excluded.holder "
                "THEN leases.acquired_at ELSE excluded.acquired_at END, "
                "expires_at = excluded.expires_at",
                (name, holder, acquired, ts(now + ttl)),
            )
            if row is None or row["holder"] != holder:
                self._bump(conn, "leases")
        return True

    def release_lease(self, name: str, holder: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
            self._bump(conn, "leases")

    def lease(self, name: str) -> LeaseInfo | None:
        row = self.conn.execute("SELECT * FROM leases WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        return LeaseInfo(
            name, row["holder"], from_ts(row["acquired_at"]), from_ts(row["expires_at"])
        )

    # -- console: queues, feed, claims and triage changes ------------------------------------------
    # Kept together in one block (row types and notes in smcc.store.console). Every operator action
    # is one transaction that changes the mention, writes its audit event and bumps the counters.

    def queue(
        self,
        tier: int,
        where: MentionFilter | None = None,
        *,
        claimed_by: str | None = None,
        limit: int = 200,
    ) -> list[QueueItem]:
        """Open mentions of `tier`, most urgent first: by SLA due time, then score, then first come
        first served (so the queue does not shift under the operator as new mentions arrive).

        Only `limit` rows are read (a page), so a queue of millions costs what one screen shows.
        """
        where = where or MentionFilter()
        conditions, args = where.conditions()
        if not where.statuses:
            conditions.append(OPEN_CONDITION)
        if claimed_by is not None:
            conditions.append("claimed_by = ?")
            args.append(claimed_by)
        clause = "".join(f" AND {c}" for c in conditions)
        rows = self.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM mentions WHERE tier = ?{clause} "
            "ORDER BY sla_due IS NULL, sla_due, score DESC, id LIMIT ?",
            [tier, *args, limit],
        ).fetchall()
        return [QueueItem.from_row(r) for r in rows]

    def queue_counts(
        self, where: MentionFilter | None = None, *, claimed_by: str | None = None
    ) -> dict[int, int]:
        """Open mentions per tier (1, 2, 3; 0 for mentions not yet triaged)."""
        where = where or MentionFilter()
        conditions, args = where.conditions()
        if not where.statuses:
            conditions.append(OPEN_CONDITION)
        if claimed_by is not None:
            conditions.append("claimed_by = ?")
            args.append(claimed_by)
        rows = self.conn.execute(
            f"SELECT coalesce(tier, 0), count(*) FROM mentions WHERE {' AND '.join(conditions)} "
            "GROUP BY 1",
            args,
        )
        counts = {1: 0, 2: 0, 3: 0}
        counts.update({int(r[0]): int(r[1]) for r in rows})
        return counts

    def latest_items(self, after_id: int = 0, *, limit: int = 100) -> list[QueueItem]:
        """The newest mentions with an id above `after_id` (at most `limit`), oldest first."""
        rows = self.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM mentions WHERE id > ? ORDER BY id DESC LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [QueueItem.from_row(r) for r in reversed(rows)]

    def claimed_by(self, mention_id: int) -> str | None:
        row = self.conn.execute(
            "SELECT claimed_by FROM mentions WHERE id = ?", (mention_id,)
        ).fetchone()
        return row[0] if row else None

    def author_mention_count(self, source: str, handle: str) -> int:
        """How many mentions of this author the store holds (the author card's history)."""
        row = self.conn.execute(
            "SELECT mention_count FROM authors WHERE source = ? AND handle = ?", (source, handle)
        ).fetchone()
        return int(row[0]) if row else 0

    def thread(self, source: str, conversation_id: str, *, limit: int = 50) -> list[QueueItem]:
        """Mentions of one conversation in time order (the first `limit`)."""
        rows = self.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM mentions WHERE source = ? AND conversation_id = ? "
            "ORDER BY created_at, id LIMIT ?",
            (source, conversation_id, limit),
        ).fetchall()
        return [QueueItem.from_row(r) for r in rows]

    def search_items(
        self, query: str, where: MentionFilter | None = None, *, limit: int = 200
    ) -> list[QueueItem]:
        """Full-text search as a queue: mentions of any status matching every word of `query`
        (taken literally, as in `search`) and the filter, newest first, at most `limit`."""
        match = fts_query(query)
        if not match:
            return []
        conditions, args = (where or MentionFilter()).conditions("m.")
        clause = "".join(f" AND {c}" for c in conditions)
        # The FTS rows come out in rowid order, so the newest matches are found first and the
        # LIMIT stops the scan early even when a common word matches most of the table.
        rows = self.conn.execute(
            f"SELECT {ITEM_COLUMNS} FROM mentions WHERE id IN ("
            "SELECT m.id FROM mentions_fts f JOIN mentions m ON m.id = f.rowid "
            f"WHERE mentions_fts MATCH ?{clause} ORDER BY f.rowid DESC LIMIT ?"
            ") ORDER BY id DESC",
            [match, *args, limit],
        ).fetchall()
        return [QueueItem.from_row(r) for r in rows]

    def rollup_series(self, since: datetime, by: str) -> list[RollupMinute]:
        """Per-minute volume and sentiment (sum and number of scores) since `since`, per brand
        or per source ('' is a mention without a brand); read from the rollups, not mentions."""
        if by not in ("brand", "source"):
            raise ValueError(f"rollup series by {by!r}: choose brand or source")
        rows = self.conn.execute(
            f"SELECT {by}, minute, sum(count), sum(sentiment_sum), sum(sentiment_n) FROM rollups "
            "WHERE minute >= ? GROUP BY 1, 2 ORDER BY 1, 2",
            (ts(since)[:16],),
        )
        return [
            RollupMinute(r[0], datetime.fromisoformat(r[1]).replace(tzinfo=UTC), r[2], r[3], r[4])
            for r in rows
        ]

    def rollup_values(self, column: str) -> list[str]:
        """The brands, sources or languages seen (from the rollups: cheap at any size)."""
        if column not in ("brand", "source", "language"):
            raise ValueError(f"rollup values of {column!r}: choose brand, source or language")
        rows = self.conn.execute(f"SELECT DISTINCT {column} FROM rollups ORDER BY 1")
        return [r[0] for r in rows if r[0]]

    def _refusal(self, conn: sqlite3.Connection, mention_id: int, wanted: Status) -> ActionResult:
        row = conn.execute(
            "SELECT status, claimed_by FROM mentions WHERE id = ?", (mention_id,)
        ).fetchone()
        if row is None:
            return ActionResult(False, mention_id, reason=f"mention {mention_id} does not exist")
        status, holder = Status(row["status"]), row["claimed_by"]
        if status is Status.CLAIMED and holder:
            return ActionResult(
                False, mention_id, status, holder, reason=f"already claimed by {holder}"
            )
        return ActionResult(
            False, mention_id, status, holder, reason=f"a {status.value} mention cannot be {wanted}"
        )

    def _audit(
        self, conn: sqlite3.Connection, actor: str, action: str, mention_id: int, **detail: Any
    ) -> None:
        conn.execute(
            "INSERT INTO events (at, actor, action, mention_id, detail) VALUES (?, ?, ?, ?, ?)",
            (ts(utcnow()), actor, action, mention_id, json.dumps(detail, ensure_ascii=False)),
        )
        self._bump(conn, "mentions", "events")

    def claim(self, mention_id: int, operator: str) -> ActionResult:
        """Claim a mention for `operator`, atomically: of two operators claiming at once, exactly
        one wins and the other learns who has it. Claiming one's own claim again is a no-op."""
        claimable = [s.value for s in Status if s.can_become(Status.CLAIMED)]
        with self.transaction() as conn:
            # The condition is the guarantee (it holds on any SQL backend, not only under SQLite's
            # single writer): the row changes only if nobody else holds it.
            updated = conn.execute(
                "UPDATE mentions SET status = 'claimed', claimed_by = ? "
                f"WHERE id = ? AND status IN ({', '.join('?' * len(claimable))})",
                (operator, mention_id, *claimable),
            ).rowcount
            if updated:
                self._audit(conn, operator, "claim", mention_id)
                return ActionResult(True, mention_id, Status.CLAIMED, operator)
            refusal = self._refusal(conn, mention_id, Status.CLAIMED)
        if refusal.status is Status.CLAIMED and refusal.claimed_by == operator:
            return ActionResult(True, mention_id, Status.CLAIMED, operator)
        return refusal

    def set_status(
        self, mention_id: int, status: Status, operator: str, *, action: str | None = None
    ) -> ActionResult:
        """Move a mention to `status` if its current status allows it and no other operator holds
        it; the audit event is named `action` (default: the status).

        Releasing (→ new) and escalating leave the mention unclaimed, so anyone can take it.
        """
        if status is Status.CLAIMED:
            return self.claim(mention_id, operator)
        sources = [s.value for s in Status if s.can_become(status)]
        keep_holder = status not in (Status.NEW, Status.ESCALATED)
        with self.transaction() as conn:
            updated = conn.execute(
                "UPDATE mentions SET status = ?, "
                "claimed_by = CASE WHEN ? THEN claimed_by ELSE NULL END "
                f"WHERE id = ? AND status IN ({', '.join('?' * len(sources))}) "
                "AND (status != 'claimed' OR claimed_by IS NULL OR claimed_by = ?)",
                (status.value, keep_holder, mention_id, *sources, operator),
            ).rowcount
            if updated:
                self._audit(conn, operator, action or status.value, mention_id)
                return ActionResult(True, mention_id, status, operator if keep_holder else None)
            return self._refusal(conn, mention_id, status)

    def retriage(
        self,
        mention_id: int,
        operator: str,
        *,
        tier: int | None = None,
        department: str | None = None,
        sla_due: datetime | None = None,
    ) -> ActionResult:
        """Change a mention's tier and/or department, and say so in the audit log with the values
        before and after. `sla_due` is the new deadline (None: none), which the caller works out
        from the department's SLA for the tier."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT tier, department, sla_due, status, claimed_by FROM mentions WHERE id = ?",
                (mention_id,),
            ).fetchone()
            if row is None:
                return ActionResult(False, mention_id, reason=f"no mention {mention_id}")
            new_tier = row["tier"] if tier is None else tier
            new_department = row["department"] if department is None else department
            conn.execute(
                "UPDATE mentions SET tier = ?, department = ?, sla_due = ? WHERE id = ?",
                (new_tier, new_department, _opt_ts(sla_due), mention_id),
            )
            detail: dict[str, Any] = {}
            if tier is not None and tier != row["tier"]:
                detail["tier"] = [row["tier"], tier]
            if department is not None and department != row["department"]:
                detail["department"] = [row["department"], department]
            action = "route" if "department" in detail else "tier"
            self._audit(conn, operator, action, mention_id, **detail)
            return ActionResult(True, mention_id, Status(row["status"]), row["claimed_by"])

    def set_selection(self, operator: str, mention_id: int | None) -> None:
        """Share which mention `operator` looks at, so a `detail` view elsewhere can follow."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO smcc_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (f"selection:{operator}", str(mention_id or "")),
            )
            self._bump(conn, "selection")

    def selection(self, operator: str) -> int | None:
        row = self.conn.execute(
            "SELECT value FROM smcc_meta WHERE key = ?", (f"selection:{operator}",)
        ).fetchone()
        return int(row[0]) if row and row[0].isdigit() else None

    def publish_health(self, holder: str, sources: list[dict[str, Any]]) -> None:
        """The ingest lease holder's sources' health, for consoles that only view; the `leases`
        counter moves only when it changed (the holder publishes it on every renewal)."""
        value = _to_json({"holder": holder, "sources": sources})
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM smcc_meta WHERE key = 'ingest_health'").fetchone()
            if row is not None and row[0] == value:
                return
            conn.execute(
                "INSERT INTO smcc_meta (key, value) VALUES ('ingest_health', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (value,),
            )
            self._bump(conn, "leases")

    def ingest_health(self) -> tuple[str, list[dict[str, Any]]] | None:
        """(holder, sources) as last published by `publish_health`."""
        row = self.conn.execute(
            "SELECT value FROM smcc_meta WHERE key = 'ingest_health'"
        ).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return str(data["holder"]), list(data["sources"])
