"""The schema as an ordered list of migrations.

A migration is a list of SQL statements applied in one transaction together with its row in
`schema_version`, so a crash mid-migration leaves the previous version intact. Append new
migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

APPLICATION_ID = 0x736D6363
"""`PRAGMA application_id` of an smcc database: 'smcc' in ASCII."""

# Topics of the change counter: a pane re-queries only when the topic it shows moves.
TOPICS = ("mentions", "outbox", "alerts", "events", "cursors", "leases", "selection")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


_V1 = (
    """CREATE TABLE smcc_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE authors (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        handle TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        followers INTEGER NOT NULL DEFAULT 0,
        verified INTEGER NOT NULL DEFAULT 0,
        external_id TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        UNIQUE (source, handle)
    )""",
    """CREATE TABLE mentions (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        url TEXT NOT NULL DEFAULT '',
        author_id INTEGER REFERENCES authors(id),
        author_handle TEXT NOT NULL,
        author_name TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        language TEXT,
        lang_confidence REAL,
        created_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        reply_to_id TEXT,
        conversation_id TEXT,
        likes INTEGER NOT NULL DEFAULT 0,
        reposts INTEGER NOT NULL DEFAULT 0,
        replies INTEGER NOT NULL DEFAULT 0,
        quotes INTEGER NOT NULL DEFAULT 0,
        brand TEXT,
        sentiment REAL,
        sentiment_label TEXT NOT NULL DEFAULT 'unknown',
        analyzer TEXT NOT NULL DEFAULT '',
        tier INTEGER CHECK (tier IN (1, 2, 3)),
        department TEXT,
        sla_due TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        rule TEXT,
        explanation TEXT,
        score REAL NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'new'
            CHECK (status IN ('new', 'claimed', 'replied', 'dismissed', 'escalated')),
        claimed_by TEXT,
        first_response_at TEXT,
        raw TEXT NOT NULL DEFAULT '{}',
        UNIQUE (source, external_id)
    )""",
    "CREATE INDEX mentions_queue ON mentions (tier, status, sla_due)",
    "CREATE INDEX mentions_created ON mentions (created_at)",
    "CREATE INDEX mentions_brand ON mentions (brand, created_at)",
    "CREATE INDEX mentions_conversation ON mentions (source, conversation_id)",
    "CREATE INDEX mentions_author ON mentions (author_id)",
    # Full-text search over the text and the author. The names follow sqlite-utils' convention
    # (`Table.search()` finds the index). New rows are indexed by Store.insert_batch with one
    # INSERT … SELECT per batch — twice as fast as a per-row trigger (bench/ingest.py); updates
    # and deletes are kept in step by triggers.
    """CREATE VIRTUAL TABLE mentions_fts USING fts5 (
        text, author_handle, author_name,
        content=[mentions], content_rowid=[id],
        tokenize = 'unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER mentions_ad AFTER DELETE ON mentions BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, text, author_handle, author_name)
        VALUES ('delete', old.id, old.text, old.author_handle, old.author_name);
    END""",
    """CREATE TRIGGER mentions_au AFTER UPDATE OF text, author_handle, author_name ON mentions
    BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, text, author_handle, author_name)
        VALUES ('delete', old.id, old.text, old.author_handle, old.author_name);
        INSERT INTO mentions_fts (rowid, text, author_handle, author_name)
        VALUES (new.id, new.text, new.author_handle, new.author_name);
    END""",
    """CREATE TABLE cursors (
        source TEXT PRIMARY KEY,
        cursor TEXT,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('reply', 'post')),
        source TEXT NOT NULL,
        text TEXT NOT NULL,
        mention_id INTEGER REFERENCES mentions(id),
        in_reply_to TEXT,
        state TEXT NOT NULL,
        scheduled_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        platform_id TEXT,
        idempotency_key TEXT NOT NULL UNIQUE,
        operator TEXT NOT NULL DEFAULT '',
        approved_by TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    "CREATE INDEX outbox_due ON outbox (state, scheduled_at)",
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        mention_id INTEGER,
        outbox_id INTEGER,
        detail TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX events_mention ON events (mention_id)",
    """CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        brand TEXT,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT
    )""",
    "CREATE INDEX alerts_active ON alerts (ended_at)",
    # Per-minute counts for meters, spikes and reports; '' and 0 stand for "unknown" so that the
    # primary key can hold them.
    """CREATE TABLE rollups (
        minute TEXT NOT NULL,
        source TEXT NOT NULL,
        brand TEXT NOT NULL,
        language TEXT NOT NULL,
        tier INTEGER NOT NULL,
        count INTEGER NOT NULL,
        sentiment_sum REAL NOT NULL DEFAULT 0,
        sentiment_n INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (minute, source, brand, language, tier)
    ) WITHOUT ROWID""",
    """CREATE TABLE changes (
        topic TEXT PRIMARY KEY,
        counter INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    )""",
    *(f"INSERT INTO changes (topic, counter) VALUES ('{t}', 0)" for t in TOPICS),
)

_V2 = (
    "ALTER TABLE mentions ADD COLUMN is_question INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE mentions ADD COLUMN influence REAL NOT NULL DEFAULT 0",
)

# Alerts as the spike detector writes them: a severity from 1 to 10 (the v1 words become 2, 5 and
# 8), what they are about (a brand, or a keyword of one), when the condition began and cleared (in
# the mentions' own time), a one-line description and the figures behind it. SQLite cannot change a
# column's type in place, so the table is copied. Per-minute term counts feed keyword spikes and
# trending terms; (minute, term) first, because every reader asks for a range of minutes.
_V3 = (
    """CREATE TABLE alerts_v3 (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        brand TEXT,
        keyword TEXT,
        severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 10),
        description TEXT NOT NULL,
        since TEXT NOT NULL,
        cleared_at TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    )""",
    """INSERT INTO alerts_v3 (id, kind, brand, severity, description, since, cleared_at)
    SELECT id, kind, brand,
           CASE severity WHEN 'info' THEN 2 WHEN 'critical' THEN 8 ELSE 5 END,
           message, started_at, ended_at
    FROM alerts""",
    "DROP TABLE alerts",
    "ALTER TABLE alerts_v3 RENAME TO alerts",
    "CREATE INDEX alerts_active ON alerts (cleared_at)",
    """CREATE TABLE term_rollups (
        minute TEXT NOT NULL,
        term TEXT NOT NULL,
        count INTEGER NOT NULL,
        sentiment_sum REAL NOT NULL DEFAULT 0,
        sentiment_n INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (minute, term)
    ) WITHOUT ROWID""",
)

_V4: tuple[str, ...] = (
    # The queues read one page of open mentions of a tier in SLA order. With (tier, status,
    # sla_due) SQLite sorted every open mention of the tier for each page (88 ms at 1M mentions,
    # bench/console.py); this partial index is in the queues' ORDER BY, covers only open rows,
    # and matches their literal status condition (store/console.py OPEN_CONDITION): 1.3 ms.
    "CREATE INDEX mentions_open ON mentions (tier, sla_due IS NULL, sla_due, score DESC, id) "
    "WHERE status IN ('new', 'claimed', 'escalated')",
    "DROP INDEX mentions_queue",
)

# The outbox's sending state (issue 7): whether the last attempt may have reached the platform
# (`in_doubt`: a timeout or dropped connection after the request went out, or a crash mid-send),
# when the first and the last attempt began (a platform's idempotency window runs from the first;
# a lookup for the item on the platform searches from it), when a retry is due, which process is
# sending it, and the approver's or rejecter's comment.
_V5: tuple[str, ...] = (
    "ALTER TABLE outbox ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE outbox ADD COLUMN first_attempt_at TEXT",
    "ALTER TABLE outbox ADD COLUMN attempt_at TEXT",
    "ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT",
    "ALTER TABLE outbox ADD COLUMN sender TEXT",
    "ALTER TABLE outbox ADD COLUMN comment TEXT",
    "CREATE INDEX outbox_mention ON outbox (mention_id)",
    "CREATE INDEX events_outbox ON events (outbox_id)",
)

# Each author's number of stored mentions, kept by Store.insert_prepared in the upsert it already
# runs for every author of a batch, replaces the index on mentions(author_id): maintaining that
# index cost ≈ 5 µs of the ≈ 25 µs of CPU a stored mention costs (author ids arrive in no order,
# so every insert touched a different index page), and its only reader was the author card's
# count (Store.author_mention_count), now one row. Mentions are never deleted and their author
# never changes, so the count stays exact. The count is filled from the index before dropping it.
_V6: tuple[str, ...] = (
    "ALTER TABLE authors ADD COLUMN mention_count INTEGER NOT NULL DEFAULT 0",
    "UPDATE authors SET mention_count = "
    "(SELECT count(*) FROM mentions WHERE mentions.author_id = authors.id)",
    "DROP INDEX mentions_author",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _V1),
    Migration(2, "question and influence signals", _V2),
    Migration(3, "alerts with severity 1-10 and keywords; per-minute term rollups", _V3),
    Migration(4, "a partial index of open mentions in queue order", _V4),
    Migration(5, "outbox sending state: in doubt, attempt times, sender, comment", _V5),
    Migration(6, "mention count per author instead of an index on mentions(author_id)", _V6),
)

LATEST = MIGRATIONS[-1].version
