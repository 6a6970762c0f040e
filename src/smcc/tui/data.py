"""The console's window on the store: reads for the panes and the operator's actions.

No Textual here. Panes call these methods from worker threads (`asyncio.to_thread`); one lock keeps
the single reader connection to one call at a time. The in-process ingester writes through its own
connection, so reading never waits for ingest (SQLite WAL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from smcc.config import Config
from smcc.ingest import LEASE, source_health
from smcc.macros import MacroResult, run_macro
from smcc.models import Alert, Event, Mention, OutboxItem, OutboxState, Status, utcnow
from smcc.outbox import (
    Outbox,
    OutboxError,
    char_limit,
    counted_length,
    fill,
    parse_time,
    reply_prefix,
    template_text,
)
from smcc.sources.base import SourceHealth
from smcc.store import ActionResult, LeaseInfo, MentionFilter, QueueItem, Store
from smcc.tui.series import HOUR, Meters, build_series, floor_minute

NEWS_ACTIONS = ("outbox_rejected", "outbox_failed", "outbox_missed")
"""What the author of an item is told of, wherever they are in the console."""

P = ParamSpec("P")
R = TypeVar("R")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class QueuePage:
    """One tier's queue as shown: open counts of every tier and the most urgent items."""

    tier: int
    counts: dict[int, int]
    items: list[QueueItem]
    search: str | None = None
    """The full-text search these items answer (then `tier` is 0), or None for a tier queue."""


@dataclass(frozen=True)
class Detail:
    """Everything the detail pane shows about one mention."""

    mention: Mention
    claimed_by: str | None
    author_mentions: int
    thread: list[QueueItem] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    replies: list[OutboxItem] = field(default_factory=list)
    """Replies to this mention in the outbox, oldest first, with their state."""


@dataclass(frozen=True)
class Canned:
    """A canned reply as the composer offers it: in the mention's language, placeholders filled."""

    name: str
    key: int | None
    text: str


@dataclass(frozen=True)
class ReplyTarget:
    """What the composer needs to count and insert without asking the store again."""

    mention: Mention | None
    """The mention answered; None for a post (a draft post reopened)."""
    platform: str
    limit: int | None
    prefix: str
    """What the platform's adapter puts before the reply (Mastodon: the @handle); it counts."""
    canned: list[Canned]
    problem: str | None = None
    """Why no reply can go to this mention (e.g. its source cannot reply), or None."""

    def length(self, text: str) -> int:
        """The length the platform will count for `text`, as the outbox checks it."""
        return counted_length(self.platform, text.strip(), self.prefix)

    def canned_on_key(self, key: int) -> Canned | None:
        return next((c for c in self.canned if c.key == key), None)


@dataclass(frozen=True)
class Draft:
    """One of the operator's drafts: written and kept, or back from an approver."""

    item: OutboxItem
    rejected_by: str | None = None
    """The approver who sent it back (its `comment` says why); None: never submitted."""


@dataclass(frozen=True)
class Week:
    """The content calendar of one week (Monday 00:00 to Monday, the operator's time zone)."""

    start: datetime
    items: list[OutboxItem]
    """Posts that go (or went) out in the week, by that time: planned, sent, failed, missed."""


class ConsoleData:
    def __init__(self, store: Store, config: Config, *, clock: Clock = utcnow) -> None:
        self._store = store
        # The store's own lock, so that closing the store waits for a worker's query to end.
        self._lock = store.lock
        self.config = config
        self.operator = config.operator.name
        self.zone = ZoneInfo(config.operator.timezone)
        self.clock = clock

    @property
    def path(self) -> str:
        return self._store.path

    def _call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return fn(*args, **kwargs)

    # -- reads -------------------------------------------------------------------------------------

    def changes(self) -> dict[str, int]:
        return self._call(self._store.changes)

    def queue(
        self, tier: int, where: MentionFilter | None = None, *, mine: bool = False, limit: int = 200
    ) -> QueuePage:
        holder = self.operator if mine else None
        with self._lock:
            counts = self._store.queue_counts(where, claimed_by=holder)
            items = self._store.queue(tier, where, claimed_by=holder, limit=limit)
        return QueuePage(tier, counts, items)

    def latest(self, after_id: int = 0, *, limit: int = 100) -> list[QueueItem]:
        return self._call(self._store.latest_items, after_id, limit=limit)

    def detail(self, mention_id: int) -> Detail | None:
        with self._lock:
            store = self._store
            mention = store.get_mention(mention_id)
            if mention is None:
                return None
            thread: list[QueueItem] = []
            if mention.conversation_id:
                thread = store.thread(mention.source, mention.conversation_id)
            return Detail(
                mention=mention,
                claimed_by=store.claimed_by(mention_id),
                author_mentions=store.author_mention_count(mention.source, mention.author.handle),
                thread=thread,
                events=store.events(mention_id, limit=50),
                replies=store.outbox_items(mention_id=mention_id, kind="reply", limit=20),
            )

    def meters(self) -> Meters:
        """Sentiment and volume per brand and per source over the last hour (from the rollups)."""
        now = self.clock()
        since = floor_minute(now) - timedelta(minutes=HOUR - 1)
        with self._lock:
            by_brand = self._store.rollup_series(since, "brand")
            by_source = self._store.rollup_series(since, "source")
        brands = [b.name for b in self.config.brands]
        return Meters(
            brands=build_series(by_brand, now, names=brands),
            sources=build_series(by_source, now),
        )

    def search(
        self, query: str, where: MentionFilter | None = None, *, limit: int = 200
    ) -> QueuePage:
        """Full-text search results as a queue page (tier 0: not one of the three queues)."""
        items = self._call(self._store.search_items, query, where, limit=limit)
        return QueuePage(0, {0: len(items)}, items, search=query)

    def filter_values(self, column: str) -> list[str]:
        """What a queue can be filtered by in `column`: departments from the config, statuses
        from the lifecycle, brands, sources and languages as seen in the store."""
        if column == "department":
            return list(self.config.departments)
        if column == "status":
            return [s.value for s in Status]
        return self._call(self._store.rollup_values, column)

    def alerts(self) -> list[Alert]:
        return self._call(self._store.active_alerts)

    def ingest_lease(self) -> LeaseInfo | None:
        return self._call(self._store.lease, LEASE)

    def ingest_health(self) -> tuple[str, list[tuple[str, SourceHealth]]] | None:
        """(holder, each source's health) as the ingesting process last published them."""
        published = self._call(self._store.ingest_health)
        return None if published is None else (published[0], source_health(published[1]))

    def selection(self) -> int | None:
        return self._call(self._store.selection, self.operator)

    def share_selection(self, mention_id: int | None) -> None:
        self._call(self._store.set_selection, self.operator, mention_id)

    def _monday(self, at: datetime) -> datetime:
        """00:00 on the Monday of the week of `at`, in the operator's time zone."""
        local = at.astimezone(self.zone)
        return (local - timedelta(days=local.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )

    def week_offset(self, at: datetime) -> int:
        """How many weeks from this one the week of `at` is (negative: before)."""
        days = (self._monday(at).date() - self._monday(self.clock()).date()).days
        return days // 7

    def week(self, offset: int = 0) -> Week:
        """This week's posts (`offset` weeks later or earlier), from the outbox."""
        monday = self._monday(self.clock())
        # Aware arithmetic in a ZoneInfo zone is wall-clock: a DST week still ends on Monday 00:00.
        start = monday + timedelta(weeks=offset)
        end = start + timedelta(days=7)
        items = self._call(self._store.outbox_items, kind="post", since=start, until=end)
        return Week(start, items)

    def move_post(self, item_id: int, when: str) -> OutboxItem:
        """Give a planned post the time the operator wrote, as `smcc schedule move` does
        (OutboxError says why not: a bad time, or an item already sent or cancelled)."""
        try:
            at = parse_time(when, self.config.operator.timezone, self.clock())
        except ValueError as exc:
            raise OutboxError(f"{when.strip() or 'an empty time'}: {exc}") from None
        with self._lock:
            return Outbox(self._store, self.config, self.operator).move(item_id, at)

    def pending_approval(self) -> list[OutboxItem]:
        """Items waiting for an approver, oldest first."""
        return self._call(self._store.outbox_items, states=(OutboxState.PENDING_APPROVAL,))

    def my_drafts(self) -> list[Draft]:
        """This operator's drafts (rejected ones first: they wait for an answer), oldest first."""
        with self._lock:
            items = self._store.outbox_items(states=(OutboxState.DRAFT,), operator=self.operator)
            drafts = []
            for item in items:
                judged = [
                    e
                    for e in self._store.outbox_events(item.id or 0)
                    if e.action in ("outbox_rejected", "outbox_submitted")
                ]
                last = judged[-1] if judged else None
                rejected = last.actor if last and last.action == "outbox_rejected" else None
                drafts.append(Draft(item, rejected))
        return sorted(drafts, key=lambda d: d.rejected_by is None)

    def draft_target(self, item: OutboxItem) -> ReplyTarget | None:
        """What the composer needs to edit a draft: its mention's target for a reply, its source's
        limit for a post (None: the mention is gone)."""
        if item.mention_id is not None:
            return self.reply_target(item.mention_id)
        return self._target(item.source, "post", None)

    def resubmit(self, item_id: int, text: str) -> OutboxItem:
        """A draft with its new text goes round again (to approval or the queue)."""
        with self._lock:
            return Outbox(self._store, self.config, self.operator).submit(item_id, text)

    def discard_draft(self, item_id: int) -> OutboxItem:
        """A draft its author will not send: cancelled (the audit log keeps it)."""
        with self._lock:
            return Outbox(self._store, self.config, self.operator).discard(item_id)

    def news_start(self) -> int:
        """Where news of this operator's items starts (the newest event now)."""
        return self._call(self._store.last_event_id)

    def news(self, after_event: int) -> list[tuple[Event, OutboxItem]]:
        """Rejections, failures and missed posts of items this operator wrote, after event
        `after_event`, each with its item as it is now."""
        with self._lock:
            events = self._store.outbox_news(self.operator, after_event, NEWS_ACTIONS)
            found = []
            for event in events:
                item = self._store.outbox_item(event.outbox_id or 0)
                if item is not None:
                    found.append((event, item))
        return found

    def approve(self, item_id: int, comment: str) -> OutboxItem:
        with self._lock:
            return Outbox(self._store, self.config, self.operator).approve(item_id, comment)

    def reject(self, item_id: int, comment: str) -> OutboxItem:
        with self._lock:
            return Outbox(self._store, self.config, self.operator).reject(item_id, comment)

    def reply_target(self, mention_id: int) -> ReplyTarget | None:
        """The mention a reply answers, its platform's limit and the canned replies filled for it
        (None: no such mention)."""
        mention = self._call(self._store.get_mention, mention_id)
        if mention is None:
            return None
        return self._target(mention.source, "reply", mention)

    def _target(self, source: str, kind: str, mention: Mention | None) -> ReplyTarget:
        """The platform's limit, why nothing can go out there (if so) and the canned replies
        filled in the mention's language (a post: for no mention)."""
        config = self.config
        learned = self._call(self._store.learned_char_limits)
        platform, limit = char_limit(config, source, learned)
        problem = None
        try:
            Outbox(self._store, config, self.operator).check_source(source, kind)
        except OutboxError as exc:
            problem = str(exc)
        language = mention.language if mention is not None else None
        canned = [
            Canned(
                name,
                reply.key,
                fill(template_text(config, name, language), config, mention, self.operator),
            )
            for name, reply in sorted(
                config.canned.items(), key=lambda kv: (kv[1].key or 10, kv[0])
            )
        ]
        prefix = reply_prefix(platform, mention) if mention is not None else ""
        return ReplyTarget(mention, platform, limit, prefix, canned, problem)

    def queue_reply(self, mention_id: int, text: str) -> OutboxItem:
        """Queue a reply through the outbox (or put it before an approver); OutboxError with one
        line when it is refused (empty, placeholder left, over the limit)."""
        with self._lock:
            return Outbox(self._store, self.config, self.operator).reply(mention_id, text)

    # -- the operator's actions (each writes an audit event with the operator's name) ------------

    def run_macro(self, name: str, mention_id: int) -> MacroResult:
        """Macro `name` on a mention, as `smcc macro` runs it; OutboxError with one line when it
        is refused or stops at a step."""
        with self._lock:
            return run_macro(self._store, self.config, name, mention_id, self.operator)

    def claim(self, mention_id: int) -> ActionResult:
        return self._call(self._store.claim, mention_id, self.operator)

    def release(self, mention_id: int) -> ActionResult:
        return self._call(
            self._store.set_status, mention_id, Status.NEW, self.operator, action="release"
        )

    def dismiss(self, mention_id: int) -> ActionResult:
        return self._call(
            self._store.set_status, mention_id, Status.DISMISSED, self.operator, action="dismiss"
        )

    def escalate(self, mention_id: int) -> ActionResult:
        return self._call(
            self._store.set_status, mention_id, Status.ESCALATED, self.operator, action="escalate"
        )

    def route(self, mention_id: int, department: str) -> ActionResult:
        if department not in self.config.departments:
            return ActionResult(False, mention_id, reason=f"no department named {department!r}")
        return self._retriage(mention_id, department=department)

    def set_tier(self, mention_id: int, tier: int) -> ActionResult:
        if tier not in (1, 2, 3):
            return ActionResult(False, mention_id, reason=f"tier {tier} does not exist")
        return self._retriage(mention_id, tier=tier)

    def _retriage(
        self, mention_id: int, *, tier: int | None = None, department: str | None = None
    ) -> ActionResult:
        with self._lock:
            mention = self._store.get_mention(mention_id)
            if mention is None:
                return ActionResult(False, mention_id, reason=f"no mention {mention_id}")
            old = mention.triage
            new_tier = tier or (old.tier if old else self.config.default.tier)
            new_department = department or (old.department if old else "")
            new_department = new_department or self.config.default.department
            due = self.sla_due(mention.created_at, new_tier, new_department)
            return self._store.retriage(
                mention_id,
                self.operator,
                tier=tier,
                department=department,
                sla_due=due,
            )

    def sla_due(self, created_at: datetime, tier: int, department: str) -> datetime | None:
        """The deadline a mention gets in `department` at `tier` (None: no reply expected)."""
        policy = self.config.departments.get(department)
        if policy is None or tier not in (1, 2, 3):
            return None
        window = policy.sla.for_tier(tier)  # type: ignore[arg-type]
        return created_at + window if window is not None else None


FILTER_FIELDS = {
    "department": "departments",
    "brand": "brands",
    "source": "sources",
    "language": "languages",
    "status": "statuses",
}
"""What a queue can be filtered by, and the MentionFilter field that holds it."""


def with_filter(
    where: MentionFilter | None, column: str, value: str | None
) -> MentionFilter | None:
    """`where` with `column` restricted to `value` (None: any value); None when nothing is left."""
    changed = replace(where or MentionFilter())
    setattr(changed, FILTER_FIELDS[column], (value,) if value else ())
    return None if changed == MentionFilter() else changed


def filter_summary(where: MentionFilter | None) -> list[tuple[str, str]]:
    """The active filters as (column, values) pairs, for the queue's header."""
    if where is None:
        return []
    out = []
    for column, field_name in FILTER_FIELDS.items():
        values = getattr(where, field_name)
        if values:
            out.append((column, ",".join(str(v) for v in values)))
    return out


def queue_filter(
    *,
    departments: tuple[str, ...] = (),
    brands: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
    languages: tuple[str, ...] = (),
    statuses: tuple[str, ...] = (),
) -> MentionFilter | None:
    """A filter for the queues, or None when nothing is filtered."""
    if not (departments or brands or sources or languages or statuses):
        return None
    return MentionFilter(
        departments=departments,
        brands=brands,
        sources=sources,
        languages=languages,
        statuses=statuses,
    )
