"""The outbox's SQL: items on their way out, their state changes and the audit events of each.

A mixin of :class:`smcc.store.Store` (kept apart so the Store's own module stays short). Every
state change is one transaction that checks the state it starts from, changes the row, writes the
audit event (`outbox_id` set; `mention_id` too for replies) and bumps the `outbox` counter — so a
change that lost a race changes nothing, and the audit log has exactly one line per transition.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from smcc.models import Event, OutboxItem, OutboxState, Status, utcnow

_S = OutboxState


def _ts(value: datetime) -> str:
    from smcc.store.store import ts

    return ts(value)


def _opt_ts(value: datetime | None) -> str | None:
    return _ts(value) if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def item_from_row(r: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=r["id"],
        kind=r["kind"],
        source=r["source"],
        text=r["text"],
        mention_id=r["mention_id"],
        in_reply_to=r["in_reply_to"],
        state=OutboxState(r["state"]),
        scheduled_at=_dt(r["scheduled_at"]),
        attempts=r["attempts"],
        last_error=r["last_error"],
        platform_id=r["platform_id"],
        idempotency_key=r["idempotency_key"],
        operator=r["operator"],
        approved_by=r["approved_by"],
        created_at=datetime.fromisoformat(r["created_at"]),
        sent_at=_dt(r["sent_at"]),
        in_doubt=bool(r["in_doubt"]),
        first_attempt_at=_dt(r["first_attempt_at"]),
        attempt_at=_dt(r["attempt_at"]),
        next_attempt_at=_dt(r["next_attempt_at"]),
        comment=r["comment"],
    )


def event_from_row(r: sqlite3.Row) -> Event:
    return Event(
        id=r["id"],
        at=datetime.fromisoformat(r["at"]),
        actor=r["actor"],
        action=r["action"],
        mention_id=r["mention_id"],
        outbox_id=r["outbox_id"],
        detail=json.loads(r["detail"]),
    )


# Columns a transition may set (never text taken from outside as a column name).
_SETTABLE = frozenset(
    {
        "state",
        "text",
        "scheduled_at",
        "attempts",
        "last_error",
        "platform_id",
        "approved_by",
        "sent_at",
        "in_doubt",
        "first_attempt_at",
        "attempt_at",
        "next_attempt_at",
        "sender",
        "comment",
    }
)


class OutboxStore:
    """Outbox operations of the Store (see the module docstring)."""

    conn: sqlite3.Connection

    # Provided by Store.
    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _bump(self, conn: sqlite3.Connection, *topics: str) -> None:
        raise NotImplementedError

    def _event(self, conn: sqlite3.Connection, event: Event) -> int:
        raise NotImplementedError

    # -- reading ---------------------------------------------------------------------------------

    def outbox_item(self, item_id: int) -> OutboxItem | None:
        row = self.conn.execute("SELECT * FROM outbox WHERE id = ?", (item_id,)).fetchone()
        return item_from_row(row) if row is not None else None

    def outbox_items(
        self,
        *,
        states: Collection[OutboxState] = (),
        kind: str | None = None,
        sources: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        mention_id: int | None = None,
        operator: str | None = None,
        limit: int = 500,
    ) -> list[OutboxItem]:
        """Items, by when they go (or went) out: scheduled time, else creation time.
        `since`/`until` bound that time; `operator` keeps the items that operator wrote."""
        where: list[str] = []
        args: list[Any] = []
        if operator is not None:
            where.append("operator = ?")
            args.append(operator)
        if states:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            args.extend(s.value for s in states)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if sources:
            where.append(f"source IN ({', '.join('?' * len(sources))})")
            args.extend(sources)
        if mention_id is not None:
            where.append("mention_id = ?")
            args.append(mention_id)
        when = "coalesce(sent_at, scheduled_at, created_at)"
        if since is not None:
            where.append(f"{when} >= ?")
            args.append(_ts(since))
        if until is not None:
            where.append(f"{when} < ?")
            args.append(_ts(until))
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        rows = self.conn.execute(
            f"SELECT * FROM outbox{clause} ORDER BY {when}, id LIMIT ?", [*args, limit]
        )
        return [item_from_row(r) for r in rows]

    def outbox_due(self, now: datetime, *, limit: int = 20) -> list[OutboxItem]:
        """Queued items whose time has come (scheduled and retry time), oldest due first."""
        at = _ts(now)
        rows = self.conn.execute(
            "SELECT * FROM outbox WHERE state = 'queued' "
            "AND (scheduled_at IS NULL OR scheduled_at <= ?) "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "ORDER BY coalesce(next_attempt_at, scheduled_at, created_at), id LIMIT ?",
            (at, at, limit),
        )
        return [item_from_row(r) for r in rows]

    def learned_char_limits(self) -> dict[str, int]:
        """Character limits the platforms told the sender, by source name (Mastodon: the
        server's own `max_characters`)."""
        rows = self.conn.execute(
            "SELECT key, value FROM smcc_meta WHERE key LIKE 'char_limit:%'"
        ).fetchall()
        return {r[0].removeprefix("char_limit:"): int(r[1]) for r in rows if r[1].isdigit()}

    def learn_char_limit(self, source: str, limit: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO smcc_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (f"char_limit:{source}", str(limit)),
            )

    def outbox_next_due(self) -> datetime | None:
        """When the next queued item falls due (None: nothing queued)."""
        row = self.conn.execute(
            "SELECT min(max(coalesce(scheduled_at, ''), coalesce(next_attempt_at, ''))) "
            "FROM outbox WHERE state = 'queued'"
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return _dt(row[0]) if row[0] else utcnow()

    def outbox_events(self, item_id: int) -> list[Event]:
        """The audit story of one item, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM events WHERE outbox_id = ? ORDER BY id", (item_id,)
        ).fetchall()
        return [event_from_row(r) for r in rows]

    def outbox_news(
        self, operator: str, after_event: int, actions: Collection[str], *, limit: int = 50
    ) -> list[Event]:
        """Events `actions` (e.g. outbox_rejected, outbox_failed) on items `operator` wrote,
        after event id `after_event`, oldest first: what to tell the author."""
        rows = self.conn.execute(
            "SELECT e.* FROM events e JOIN outbox o ON o.id = e.outbox_id "
            f"WHERE e.id > ? AND o.operator = ? AND e.action IN ({', '.join('?' * len(actions))}) "
            "ORDER BY e.id LIMIT ?",
            (after_event, operator, *actions, limit),
        ).fetchall()
        return [event_from_row(r) for r in rows]

    def last_event_id(self) -> int:
        """The newest audit event's id (0: none yet): where news starts."""
        row = self.conn.execute("SELECT max(id) FROM events").fetchone()
        return int(row[0] or 0)

    # -- writing ---------------------------------------------------------------------------------

    def outbox_add(self, item: OutboxItem, actor: str, **detail: Any) -> OutboxItem:
        """Store a new item (its `idempotency_key` must be unique) with an `outbox_created`
        event; returns it with its id."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO outbox (kind, source, text, mention_id, in_reply_to, state, "
                "scheduled_at, idempotency_key, operator, approved_by, created_at, comment) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.kind,
                    item.source,
                    item.text,
                    item.mention_id,
                    item.in_reply_to,
                    item.state.value,
                    _opt_ts(item.scheduled_at),
                    item.idempotency_key,
                    item.operator,
                    item.approved_by,
                    _ts(item.created_at),
                    item.comment,
                ),
            )
            item_id = int(cur.lastrowid or 0)
            self._outbox_event(
                conn,
                actor,
                "outbox_created",
                item_id,
                item.mention_id,
                state=item.state.value,
                kind=item.kind,
                source=item.source,
                scheduled_at=_opt_ts(item.scheduled_at),
                **detail,
            )
        created = self.outbox_item(item_id)
        assert created is not None
        return created

    def outbox_transition(
        self,
        item_id: int,
        from_states: Collection[OutboxState],
        actor: str,
        action: str,
        *,
        by_sender: str | None = None,
        detail: dict[str, Any] | None = None,
        **changes: Any,
    ) -> OutboxItem | None:
        """Change an item that is in one of `from_states` (and, with `by_sender`, being sent by
        that process); write the event `action`. None when the item is not (or no longer) in such
        a state — the caller lost a race or asked for something the state does not allow."""
        return self._transition(item_id, from_states, actor, action, by_sender, detail, changes)

    def _transition(
        self,
        item_id: int,
        from_states: Collection[OutboxState],
        actor: str,
        action: str,
        sender: str | None,
        detail: dict[str, Any] | None,
        changes: dict[str, Any],
        *,
        conn: sqlite3.Connection | None = None,
    ) -> OutboxItem | None:
        if conn is None:
            with self.transaction() as c:
                return self._transition(
                    item_id, from_states, actor, action, sender, detail, changes, conn=c
                )
        unknown = set(changes) - _SETTABLE
        if unknown:
            raise ValueError(f"outbox columns {sorted(unknown)} cannot be set")
        values = {
            k: (v.value if isinstance(v, OutboxState) else _ts(v) if isinstance(v, datetime) else v)
            for k, v in changes.items()
        }
        sets = ", ".join(f"{k} = ?" for k in values) or "state = state"
        cond = f"id = ? AND state IN ({', '.join('?' * len(from_states))})"
        args: list[Any] = [*values.values(), item_id, *(s.value for s in from_states)]
        if sender is not None:
            cond += " AND sender = ?"
            args.append(sender)
        row = conn.execute(f"UPDATE outbox SET {sets} WHERE {cond} RETURNING *", args).fetchone()
        if row is None:
            return None
        item = item_from_row(row)
        self._outbox_event(
            conn, actor, action, item_id, item.mention_id, state=item.state.value, **(detail or {})
        )
        return item

    def outbox_claim(self, item_id: int, sender: str, now: datetime) -> OutboxItem | None:
        """queued → sending for `sender`, one more attempt; None if it is no longer queued."""
        with self.transaction() as conn:
            row = conn.execute(
                "UPDATE outbox SET state = 'sending', sender = ?, attempts = attempts + 1, "
                "attempt_at = ?, first_attempt_at = coalesce(first_attempt_at, ?), "
                "next_attempt_at = NULL WHERE id = ? AND state = 'queued' RETURNING *",
                (sender, _ts(now), _ts(now), item_id),
            ).fetchone()
            if row is None:
                return None
            item = item_from_row(row)
            self._outbox_event(
                conn,
                "smcc",
                "outbox_sending",
                item_id,
                item.mention_id,
                state="sending",
                attempt=item.attempts,
                in_doubt=item.in_doubt,
                sender=sender,
            )
            return item

    def outbox_sent(
        self, item_id: int, sender: str, platform_id: str, now: datetime, *, found: bool = False
    ) -> OutboxItem | None:
        """sending → sent with the platform's id. A reply marks its mention replied (when its
        status allows) and sets the mention's first response time if it had none — all in the
        same transaction. `found`: the item was found on the platform, not sent now."""
        with self.transaction() as conn:
            item = self._transition(
                item_id,
                (_S.SENDING,),
                "smcc",
                "outbox_sent",
                sender,
                {"platform_id": platform_id, "found_on_platform": found},
                {
                    "state": _S.SENT,
                    "platform_id": platform_id,
                    "sent_at": now,
                    "in_doubt": 0,
                    "last_error": None,
                    "sender": None,
                },
                conn=conn,
            )
            if item is not None and item.kind == "reply" and item.mention_id is not None:
                self._mark_replied(conn, item, now)
            return item

    def _mark_replied(self, conn: sqlite3.Connection, item: OutboxItem, now: datetime) -> None:
        # Whatever its status (a reply may go out without a claim, or to a dismissed mention),
        # the mention has been answered now.
        row = conn.execute(
            "SELECT status, first_response_at FROM mentions WHERE id = ?", (item.mention_id,)
        ).fetchone()
        if row is None:
            return
        new_status = Status.REPLIED.value
        conn.execute(
            "UPDATE mentions SET status = ?, first_response_at = coalesce(first_response_at, ?), "
            "claimed_by = CASE WHEN ? = 'replied' THEN coalesce(claimed_by, ?) ELSE claimed_by END "
            "WHERE id = ?",
            (new_status, _ts(now), new_status, item.operator or None, item.mention_id),
        )
        self._event(
            conn,
            Event(
                actor=item.operator or "smcc",
                action="replied",
                mention_id=item.mention_id,
                outbox_id=item.id,
                detail={
                    "platform_id": item.platform_id,
                    "status": [row["status"], new_status],
                    "first_response": row["first_response_at"] is None,
                },
            ),
        )
        self._bump(conn, "mentions")

    def tag_mention(self, mention_id: int, tag: str, operator: str) -> bool:
        """Add `tag` to a mention's tags (a macro step; kept beside the outbox, which macros
        drive). False when there is no such mention; adding a tag it has changes nothing."""
        with self.transaction() as conn:
            row = conn.execute("SELECT tags FROM mentions WHERE id = ?", (mention_id,)).fetchone()
            if row is None:
                return False
            tags = json.loads(row["tags"])
            if tag in tags:
                return True
            tags.append(tag)
            conn.execute(
                "UPDATE mentions SET tags = ? WHERE id = ?",
                (json.dumps(tags, ensure_ascii=False), mention_id),
            )
            self._event(
                conn,
                Event(actor=operator, action="tag", mention_id=mention_id, detail={"tag": tag}),
            )
            self._bump(conn, "mentions")
            return True

    def record_macro(self, mention_id: int, name: str, operator: str, done: list[str]) -> None:
        """The audit event of a macro run: its name and the steps it did (each step wrote its
        own event before)."""
        with self.transaction() as conn:
            self._event(
                conn,
                Event(
                    actor=operator,
                    action="macro",
                    mention_id=mention_id,
                    detail={"macro": name, "done": done},
                ),
            )

    def outbox_recover(self, sender: str) -> list[OutboxItem]:
        """Items left `sending` by another process (it died or lost the lease mid-send) go back
        to the queue, in doubt: their request may have reached the platform."""
        recovered: list[OutboxItem] = []
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT id, sender FROM outbox WHERE state = 'sending' "
                "AND (sender IS NULL OR sender != ?)",
                (sender,),
            ).fetchall()
            for row in rows:
                item = self._transition(
                    row["id"],
                    (_S.SENDING,),
                    "smcc",
                    "outbox_recovered",
                    None,
                    {"previous_sender": row["sender"], "in_doubt": True},
                    {"state": _S.QUEUED, "in_doubt": 1, "sender": None},
                    conn=conn,
                )
                if item is not None:
                    recovered.append(item)
        return recovered

    def outbox_mark_missed(self, now: datetime, older_than: datetime) -> list[OutboxItem]:
        """Scheduled posts never attempted whose time passed before `older_than` → missed."""
        missed: list[OutboxItem] = []
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT id, scheduled_at FROM outbox WHERE state = 'queued' AND attempts = 0 "
                "AND scheduled_at IS NOT NULL AND scheduled_at < ?",
                (_ts(older_than),),
            ).fetchall()
            for row in rows:
                item = self._transition(
                    row["id"],
                    (_S.QUEUED,),
                    "smcc",
                    "outbox_missed",
                    None,
                    {"scheduled_at": row["scheduled_at"], "noticed_at": _ts(now)},
                    {"state": _S.MISSED, "last_error": "missed: due while nothing was sending"},
                    conn=conn,
                )
                if item is not None:
                    missed.append(item)
        return missed

    def _outbox_event(
        self,
        conn: sqlite3.Connection,
        actor: str,
        action: str,
        item_id: int,
        mention_id: int | None,
        **detail: Any,
    ) -> None:
        self._event(
            conn,
            Event(
                actor=actor, action=action, mention_id=mention_id, outbox_id=item_id, detail=detail
            ),
        )
        self._bump(conn, "outbox")
