"""The domain model: what a mention is, how it is triaged, and what leaves smcc.

Everything here is plain pydantic with no I/O, so every layer (store, sources, pipeline, console)
can share it. Times are always timezone-aware UTC; naive datetimes are rejected rather than guessed.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a time zone (UTC offset)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
"""A datetime that must be timezone-aware and is normalised to UTC."""

Tier = Literal[1, 2, 3]


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)


class Status(enum.StrEnum):
    """A mention's life in the console: new → claimed → replied | dismissed | escalated."""

    NEW = "new"
    CLAIMED = "claimed"
    REPLIED = "replied"
    DISMISSED = "dismissed"
    ESCALATED = "escalated"

    def can_become(self, other: Status) -> bool:
        return other in _TRANSITIONS[self]


_TRANSITIONS: dict[Status, frozenset[Status]] = {
    # A mention can be dismissed or escalated without being claimed first (bulk triage), and an
    # escalated mention comes back to the queue as claimed by whoever takes it over.
    Status.NEW: frozenset({Status.CLAIMED, Status.DISMISSED, Status.ESCALATED}),
    Status.CLAIMED: frozenset({Status.NEW, Status.REPLIED, Status.DISMISSED, Status.ESCALATED}),
    Status.ESCALATED: frozenset({Status.CLAIMED, Status.REPLIED, Status.DISMISSED}),
    Status.REPLIED: frozenset({Status.CLAIMED}),
    Status.DISMISSED: frozenset({Status.NEW}),
}


class Author(_Model):
    handle: str
    display_name: str = ""
    followers: int = Field(default=0, ge=0)
    verified: bool = False
    external_id: str | None = None
    """The platform's own id of the account, when it has one beside the handle."""


class Engagement(_Model):
    likes: int = Field(default=0, ge=0)
    reposts: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    quotes: int = Field(default=0, ge=0)


class Sentiment(_Model):
    score: float | None = Field(default=None, ge=-1.0, le=1.0)
    label: Literal["negative", "neutral", "positive", "unknown"] = "unknown"
    analyzer: str = ""


class Triage(_Model):
    tier: Tier = 3
    department: str = ""
    sla_due: UtcDatetime | None = None
    tags: list[str] = Field(default_factory=list)
    rule: str = "default"
    explanation: str = ""
    score: float = 0.0
    """Priority score added up by rules; sorts items within a tier."""


class Mention(_Model):
    """One post, comment, reply or feed entry that a source saw."""

    id: int | None = None
    """The store's row id, once stored."""
    source: str
    """Name of the configured source (the key of `[sources.NAME]`), not the platform type."""
    external_id: str = Field(min_length=1)
    url: str = ""
    author: Author
    text: str
    language: str | None = None
    lang_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    created_at: UtcDatetime
    received_at: UtcDatetime = Field(default_factory=utcnow)
    reply_to_id: str | None = None
    conversation_id: str | None = None
    engagement: Engagement = Field(default_factory=Engagement)
    brand: str | None = None
    """Which configured brand (or competitor) the mention is about, once known."""
    sentiment: Sentiment = Field(default_factory=Sentiment)
    is_question: bool = False
    influence: float = Field(default=0.0, ge=0.0, le=1.0)
    """The author's influence when the mention was seen (see smcc.analysis.signals)."""
    triage: Triage | None = None
    status: Status = Status.NEW
    raw: dict[str, Any] = Field(default_factory=dict)
    """The platform's payload as received, kept for audits and re-processing."""

    @property
    def key(self) -> tuple[str, str]:
        """The identity used for de-duplication: one row per (source, external id)."""
        return (self.source, self.external_id)


class AlertKind(enum.StrEnum):
    VOLUME_SPIKE = "volume_spike"
    SENTIMENT_DROP = "sentiment_drop"
    SLA_BREACH = "sla_breach"
    SOURCE_FAILING = "source_failing"
    RULE = "rule"


class Alert(_Model):
    """A condition an operator should know about: raised once, cleared when it is over.

    Times are in the mentions' own clock (their `created_at`), so an alert on a replayed or demo
    stream says when the spike happened in that stream, not when smcc noticed it.
    """

    id: int | None = None
    kind: AlertKind
    brand: str | None = None
    keyword: str | None = None
    """Set when the alert is about one keyword or hashtag (of `brand`) rather than a whole brand."""
    severity: int = Field(default=5, ge=1, le=10)
    """1 (barely worth a look) … 10 (all hands)."""
    description: str
    """One line for people, e.g. "Nusantel: 412 mentions in 2 min (about 60 expected, 6.9×)"."""
    since: UtcDatetime = Field(default_factory=utcnow)
    cleared_at: UtcDatetime | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    """The figures behind the alert (observed, expected, ratio, sentiment …)."""

    @property
    def active(self) -> bool:
        return self.cleared_at is None


class OutboxState(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    MISSED = "missed"


class OutboxItem(_Model):
    """A reply or a scheduled post on its way out; the outbox worker sends it exactly once."""

    id: int | None = None
    kind: Literal["reply", "post"]
    source: str
    text: str
    mention_id: int | None = None
    """For replies: the store id of the mention answered."""
    in_reply_to: str | None = None
    """For replies: the platform id of the post answered."""
    state: OutboxState = OutboxState.DRAFT
    scheduled_at: UtcDatetime | None = None
    attempts: int = Field(default=0, ge=0)
    last_error: str | None = None
    platform_id: str | None = None
    idempotency_key: str = ""
    operator: str = ""
    """Who wrote it (the author operator)."""
    approved_by: str | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
    sent_at: UtcDatetime | None = None
    in_doubt: bool = False
    """The last attempt may have reached the platform (timeout or drop after the request went
    out, or a crash mid-send): the next attempt must not simply post again."""
    first_attempt_at: UtcDatetime | None = None
    attempt_at: UtcDatetime | None = None
    next_attempt_at: UtcDatetime | None = None
    """While queued after a failure: not before this time (backoff)."""
    comment: str | None = None
    """The approver's or rejecter's comment."""


class Event(_Model):
    """One line of the audit log: who did what to which item, and when."""

    id: int | None = None
    at: UtcDatetime = Field(default_factory=utcnow)
    actor: str
    action: str
    mention_id: int | None = None
    outbox_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
