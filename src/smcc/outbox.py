"""The outbox: the single way anything leaves smcc — replies and scheduled posts, exactly once.

Two halves:

- :class:`Outbox` — what the console and the CLI call to write, schedule, approve and cancel items.
  It checks the text before anything is stored (empty, a placeholder left, over the platform's
  limit) and decides whether an approver must see it first (`[outbox.approval]`).
- :class:`Sender` — runs in the process that holds the ingest lease (see `smcc.ingest.run`), so
  exactly one process sends. It claims a due item in a transaction (queued → sending), calls the
  platform with the item's stable idempotency key, and records the outcome (→ sent with the
  platform's id, → queued again with backoff, or → failed).

States: draft → (pending_approval →) queued → sending → sent | failed; also cancelled (by an
operator) and missed (a post whose time passed long before anything could send it). A rejected
item goes back to its author as a draft with the approver's comment. Every transition is an audit
event (`outbox_*`, with `outbox_id`).

Exactly once: an attempt whose outcome is unknown — a timeout or dropped connection after the
request went out, a 5xx, or a crash while `sending` (found by the next holder of the lease) —
leaves the item *in doubt*. The next attempt then either repeats the request with the same
idempotency key, when the platform honours keys and the first attempt is within the platform's
window (Mastodon: one hour), or first looks for the item on the platform
(:meth:`~smcc.sources.base.Source.find_sent`: our own recent reply to that parent, or post, with
that text) and only sends when it is not there. A source that can do neither fails the item with
"outcome unknown" rather than risk posting twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import regex

from smcc.config import Config, parse_duration
from smcc.models import Mention, OutboxItem, OutboxState, utcnow
from smcc.sources import Source, SourceUnavailable, build_source
from smcc.sources.base import SourceError
from smcc.store import Store

log = logging.getLogger(__name__)

_S = OutboxState
SENDER = "smcc"

DEFAULT_LIMITS: Mapping[str, int] = {
    "mastodon": 500,  # mastodon.social's; many servers allow more: set [outbox] char_limits
    "twitter": 280,
    "bluesky": 300,
    "reddit": 10_000,
    "demo": 500,
}
"""Characters (Bluesky: graphemes; X: weighted, see `text_length`) a post may have."""

URL = re.compile(r"https?://\S+")
REMOTE_MENTION = re.compile(r"(@\w+)@[\w.-]+\w")
"""`@user@server`: Mastodon counts only the `@user` part."""
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
GRAPHEME = regex.compile(r"\X")
MAX_BACKOFF = 600.0
LIMIT_ASK_AGAIN = timedelta(hours=1)
"""How long the sender trusts what a platform said of its character limit (or that it said
nothing) before asking again."""
LIMIT_ASK_TIMEOUT = 30.0
LOOKUP_MARGIN = timedelta(minutes=2)
"""How far before the first attempt a lookup searches (clocks differ)."""

_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
"""Code points that weigh 1 in X's count (twitter-text v3 config); everything else weighs 2."""

WRITES: Mapping[str, tuple[str, ...]] = {
    "demo": ("reply", "post"),
    "mastodon": ("reply", "post"),
    "twitter": ("reply", "post"),
    "bluesky": ("reply", "post"),
    "reddit": ("reply",),
}
"""What each source type can publish (its adapter's `can_reply` / `can_post`), known without
importing the adapter, so an item that could never go out is refused when it is written."""

OPEN_STATES = (_S.DRAFT, _S.PENDING_APPROVAL, _S.QUEUED)
"""States an operator may still cancel or move (sending has begun in no other)."""
DONE_STATES = (_S.SENT, _S.FAILED, _S.CANCELLED, _S.MISSED)


_VERBS = {"edited": "edit", "submitted": "submit", "discarded": "discard"}


class OutboxError(Exception):
    """A refusal with one line that says what and what to do."""


# ---------------------------------------------------------------------------------------------
# Text: placeholders, templates, limits


def parse_time(value: str, timezone: str, now: datetime) -> datetime:
    """A time an operator wrote (`smcc post --at`, `smcc schedule move`, the console's calendar):
    ISO 8601 (without a zone: in `timezone`) or `+DURATION` from `now`. ValueError says what to
    write instead."""
    text = value.strip()
    if text.startswith("+"):
        return now + parse_duration(text[1:])
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"not a time; write e.g. 2026-11-24T09:00 (your time zone, {timezone}), "
            "2026-11-24T09:00+07:00, or +2h"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed.astimezone(UTC)


def text_length(platform: str, text: str) -> int:
    """The length the platform counts: X weighs CJK and emoji 2 and every URL 23; Mastodon counts
    every URL as 23 characters; Bluesky counts graphemes; the others count code points."""
    if platform == "bluesky":
        return len(GRAPHEME.findall(text))
    if platform in ("mastodon", "twitter"):
        urls = URL.findall(text)
        rest = URL.sub("", text)
        if platform == "mastodon":
            return len(REMOTE_MENTION.sub(r"\1", rest)) + 23 * len(urls)
        weight = 0
        for cluster in GRAPHEME.findall(rest):
            if len(cluster) > 1 or not any(lo <= ord(cluster) <= hi for lo, hi in _X_LIGHT):
                weight += 2  # emoji sequences count 2 however many code points they hold
            else:
                weight += 1
        return weight + 23 * len(urls)
    return len(text)


def char_limit(
    config: Config, source: str, learned: Mapping[str, int] | None = None
) -> tuple[str, int | None]:
    """(platform type, limit) of a configured source; the limit is None when it has none.

    The first found wins: `[outbox] char_limits` by source name, the limit the platform itself
    told the sender (`learned`, by source name: a Mastodon server's own), `char_limits` by
    platform type, the built-in default."""
    settings = config.sources.get(source)
    platform = settings.type if settings is not None else source
    limits = config.outbox.char_limits
    if source in limits:
        return platform, limits[source]
    if learned and source in learned:
        return platform, learned[source]
    return platform, limits.get(platform, DEFAULT_LIMITS.get(platform))


def counted_length(platform: str, body: str, prefix: str = "") -> int:
    """The length of `body` as the platform counts it, with the `prefix` the adapter adds (unless
    the text already holds it): what `check_text` compares with the limit; a live count too."""
    full = f"{prefix}{body}" if prefix and prefix.strip().lower() not in body.lower() else body
    return text_length(platform, full)


def check_text(
    config: Config,
    source: str,
    text: str,
    *,
    prefix: str = "",
    learned: Mapping[str, int] | None = None,
) -> str:
    """The text to send, stripped; OutboxError when it is empty, has a placeholder left or is
    over the platform's limit. `prefix` is what the platform adds (Mastodon's @handle);
    `learned` the limits platforms told the sender (see `char_limit`)."""
    body = text.strip()
    if not body:
        raise OutboxError("the text is empty; write something or pick a template")
    left = PLACEHOLDER.findall(body)
    if left:
        raise OutboxError(
            f"placeholder {', '.join(dict.fromkeys(left))} left unfilled; "
            "replace it (known: {author}, {brand}, {operator})"
        )
    platform, limit = char_limit(config, source, learned)
    if limit is not None:
        _check_length(source, platform, limit, counted_length(platform, body, prefix))
    return body


def _check_length(source: str, platform: str, limit: int, length: int) -> None:
    if length > limit:
        unit = "graphemes" if platform == "bluesky" else "characters"
        raise OutboxError(
            f"{length} {unit} where {source} ({platform}) allows {limit}; "
            f"shorten it by {length - limit}"
        )


def template_text(config: Config, name: str, language: str | None) -> str:
    """The canned reply `name` in `language` (else the operator's language, else the first)."""
    canned = config.canned.get(name)
    if canned is None:
        known = ", ".join(sorted(config.canned)) or "none configured"
        raise OutboxError(f"no template named '{name}' (known: {known}); see [canned] in config")
    for lang in (language, config.operator.language):
        if lang is not None and lang in canned.text:
            return canned.text[lang]
    return next(iter(canned.text.values()))


def fill(text: str, config: Config, mention: Mention | None, operator: str) -> str:
    """{author}, {brand} and {operator} filled in (the others stay, and are refused later)."""
    values = {"operator": operator}
    if mention is not None:
        values["author"] = f"@{mention.author.handle}" if mention.author.handle else ""
        values["brand"] = mention.brand or (config.brands[0].name if config.brands else "")
    elif config.brands:
        values["brand"] = config.brands[0].name
    return PLACEHOLDER.sub(lambda m: values.get(m.group()[1:-1], m.group()), text)


def reply_prefix(platform: str, mention: Mention) -> str:
    """What the platform's adapter puts before a reply (Mastodon names the account answered)."""
    return f"@{mention.author.handle} " if platform == "mastodon" and mention.author.handle else ""


# ---------------------------------------------------------------------------------------------
# Writing, approving, scheduling


def needs_approval(
    config: Config, kind: str, operator: str, mention: Mention | None, department: str | None
) -> bool:
    rules = config.outbox.approval
    if operator in rules.operators:
        return True
    if kind == "post":
        return rules.posts
    if mention is not None and mention.triage is not None and mention.triage.tier in rules.tiers:
        return True
    return department is not None and department in rules.departments


@dataclass
class Outbox:
    """Write, schedule, approve, reject, cancel and move items (console and CLI)."""

    store: Store
    config: Config
    operator: str = ""

    def __post_init__(self) -> None:
        self.operator = self.operator or self.config.operator.name

    def check_source(self, name: str, kind: str) -> None:
        """OutboxError unless source `name` is configured and can publish a `kind`."""
        self._source(name, kind)

    def _source(self, name: str, kind: str) -> None:
        settings = self.config.sources.get(name)
        if settings is None:
            known = ", ".join(self.config.sources) or "none configured"
            raise OutboxError(f"no source named '{name}' in the config (known: {known})")
        if kind not in WRITES.get(settings.type, ()):
            raise OutboxError(f"source '{name}' ({settings.type}) cannot {kind}")

    def compose_reply(
        self, mention_id: int, text: str | None = None, template: str | None = None
    ) -> tuple[Mention, str]:
        """The mention and the checked text of a reply to it (nothing stored)."""
        mention = self.store.get_mention(mention_id)
        if mention is None:
            raise OutboxError(f"no mention {mention_id} in the database")
        if (text is None) == (template is None):
            raise OutboxError("give the reply's text or a template, not both")
        raw = text
        if raw is None:
            raw = template_text(self.config, template or "", mention.language)
        self._source(mention.source, "reply")
        filled = fill(raw, self.config, mention, self.operator)
        platform, _ = char_limit(self.config, mention.source)
        body = check_text(
            self.config,
            mention.source,
            filled,
            prefix=reply_prefix(platform, mention),
            learned=self.store.learned_char_limits(),
        )
        return mention, body

    def reply(
        self,
        mention_id: int,
        text: str | None = None,
        *,
        template: str | None = None,
        draft: bool = False,
    ) -> OutboxItem:
        """Queue a reply (or keep it as a draft, or put it before an approver)."""
        mention, body = self.compose_reply(mention_id, text, template)
        department = mention.triage.department if mention.triage is not None else None
        state = _S.DRAFT if draft else self._submit_state("reply", mention, department)
        item = OutboxItem(
            kind="reply",
            source=mention.source,
            text=body,
            mention_id=mention.id,
            in_reply_to=mention.external_id,
            state=state,
            idempotency_key=new_key(),
            operator=self.operator,
        )
        return self.store.outbox_add(item, self.operator, template=template)

    def post(
        self, source: str, text: str, at: datetime | None = None, *, draft: bool = False
    ) -> OutboxItem:
        """Schedule a post at `at` (None: now)."""
        self._source(source, "post")
        body = check_text(
            self.config,
            source,
            fill(text, self.config, None, self.operator),
            learned=self.store.learned_char_limits(),
        )
        state = _S.DRAFT if draft else self._submit_state("post", None, None)
        item = OutboxItem(
            kind="post",
            source=source,
            text=body,
            state=state,
            scheduled_at=at,
            idempotency_key=new_key(),
            operator=self.operator,
        )
        return self.store.outbox_add(item, self.operator)

    def _submit_state(self, kind: str, mention: Mention | None, department: str | None) -> _S:
        if needs_approval(self.config, kind, self.operator, mention, department):
            return _S.PENDING_APPROVAL
        return _S.QUEUED

    def _get(self, item_id: int) -> OutboxItem:
        item = self.store.outbox_item(item_id)
        if item is None:
            raise OutboxError(f"no outbox item {item_id}")
        return item

    def _refused(self, item_id: int, what: str) -> OutboxError:
        item = self._get(item_id)
        return OutboxError(f"item {item_id} is {item.state.value}; it cannot be {what}")

    def _checked_text(self, item: OutboxItem, mention: Mention | None, text: str) -> str:
        platform, _ = char_limit(self.config, item.source)
        prefix = reply_prefix(platform, mention) if mention is not None else ""
        return check_text(
            self.config,
            item.source,
            fill(text, self.config, mention, self.operator),
            prefix=prefix,
            learned=self.store.learned_char_limits(),
        )

    def _own_draft(self, item_id: int, what: str) -> OutboxItem:
        """The draft `item_id`, when it is this operator's: a draft (a rejected item among them)
        goes back to its author, and only the author takes it further."""
        item = self._get(item_id)
        if item.state is not _S.DRAFT:
            raise self._refused(item_id, what)
        if item.operator and item.operator != self.operator:
            raise OutboxError(
                f"item {item_id} is {item.operator}'s draft: only {item.operator} can "
                f"{_VERBS.get(what, what)} it"
            )
        return item

    def edit(self, item_id: int, text: str) -> OutboxItem:
        """A draft gets a new text (checked as when it was written) and stays a draft."""
        item = self._own_draft(item_id, "edited")
        mention = self.store.get_mention(item.mention_id) if item.mention_id else None
        body = self._checked_text(item, mention, text)
        done = self.store.outbox_transition(
            item_id,
            (_S.DRAFT,),
            self.operator,
            "outbox_edited",
            detail={"before": item.text},
            text=body,
        )
        if done is None:
            raise self._refused(item_id, "edited")
        return done

    def submit(self, item_id: int, text: str | None = None) -> OutboxItem:
        """A draft (possibly edited, e.g. after a rejection) goes to approval or the queue: a
        new approval round when approval applies."""
        item = self._own_draft(item_id, "submitted")
        mention = self.store.get_mention(item.mention_id) if item.mention_id else None
        body = item.text if text is None else self._checked_text(item, mention, text)
        department = mention.triage.department if mention and mention.triage else None
        state = self._submit_state(item.kind, mention, department)
        detail: dict[str, Any] = {"edited": body != item.text}
        if body != item.text:
            detail["before"] = item.text
        done = self.store.outbox_transition(
            item_id,
            (_S.DRAFT,),
            self.operator,
            "outbox_submitted",
            detail=detail,
            state=state,
            text=body,
        )
        if done is None:
            raise self._refused(item_id, "submitted")
        return done

    def approve(self, item_id: int, comment: str = "") -> OutboxItem:
        item = self._get(item_id)
        self._may_judge(item)
        done = self.store.outbox_transition(
            item_id,
            (_S.PENDING_APPROVAL,),
            self.operator,
            "outbox_approved",
            detail={"comment": comment},
            state=_S.QUEUED,
            approved_by=self.operator,
            comment=comment or None,
        )
        if done is None:
            raise self._refused(item_id, "approved")
        return done

    def reject(self, item_id: int, comment: str) -> OutboxItem:
        """Back to the author as a draft, with the comment saying why."""
        if not comment.strip():
            raise OutboxError("say why it is rejected: give a comment")
        item = self._get(item_id)
        self._may_judge(item)
        done = self.store.outbox_transition(
            item_id,
            (_S.PENDING_APPROVAL,),
            self.operator,
            "outbox_rejected",
            detail={"comment": comment, "author": item.operator},
            state=_S.DRAFT,
            comment=comment,
        )
        if done is None:
            raise self._refused(item_id, "rejected")
        return done

    def _may_judge(self, item: OutboxItem) -> None:
        approvers = self.config.outbox.approval.approvers
        if approvers and self.operator not in approvers:
            raise OutboxError(
                f"{self.operator} is not an approver (approvers: {', '.join(approvers)})"
            )
        if not approvers and self.operator == item.operator:
            raise OutboxError("an author cannot approve or reject their own item")

    def cancel(self, item_id: int, comment: str = "") -> OutboxItem:
        done = self.store.outbox_transition(
            item_id,
            OPEN_STATES,
            self.operator,
            "outbox_cancelled",
            detail={"comment": comment},
            state=_S.CANCELLED,
        )
        if done is None:
            raise self._refused(item_id, "cancelled")
        return done

    def discard(self, item_id: int) -> OutboxItem:
        """The author drops their draft: cancelled, with the audit story kept."""
        self._own_draft(item_id, "discarded")
        return self.cancel(item_id, "discarded by its author")

    def move(self, item_id: int, at: datetime) -> OutboxItem:
        """Give a draft, pending or queued item a new time (a missed post can be moved too)."""
        before = self._get(item_id)
        done = self.store.outbox_transition(
            item_id,
            (*OPEN_STATES, _S.MISSED),
            self.operator,
            "outbox_moved",
            detail={"from": before.scheduled_at, "to": at},
            scheduled_at=at,
            state=_S.QUEUED if before.state is _S.MISSED else before.state,
            attempts=0 if before.state is _S.MISSED else before.attempts,
        )
        if done is None:
            raise self._refused(item_id, "moved")
        return done

    def retry(self, item_id: int) -> OutboxItem:
        """A failed item back to the queue, on the operator's word (after looking on the platform
        when it failed in doubt); its idempotency key stays the same."""
        done = self.store.outbox_transition(
            item_id,
            (_S.FAILED,),
            self.operator,
            "outbox_retried",
            state=_S.QUEUED,
            in_doubt=0,
            next_attempt_at=None,
            attempts=0,
        )
        if done is None:
            raise self._refused(item_id, "retried")
        return done


def new_key() -> str:
    """A stable idempotency key, made once when the item is created and kept for every try."""
    return f"smcc-{uuid.uuid4()}"


# ---------------------------------------------------------------------------------------------
# Sending


class Sender:
    """Sends due items; run it only while holding the ingest lease (`smcc.ingest.run` does)."""

    def __init__(
        self,
        store: Store,
        config: Config,
        sources: Sequence[Source] = (),
        *,
        holder: str,
        poll: float = 0.5,
    ) -> None:
        self.store = store
        self.config = config
        self.holder = holder
        self.poll = poll
        self._given = {s.name: s for s in sources}
        self._built: dict[str, Source] = {}
        self._wake = asyncio.Event()
        self._limits: dict[str, tuple[int | None, datetime]] = {}
        self._learning: asyncio.Task[None] | None = None
        self.sent = 0

    # -- sources ---------------------------------------------------------------------------------

    def source(self, name: str) -> Source:
        """The pipeline's own instance when it runs the source (the demo's replies then join its
        stream), else one built from the config for sending."""
        found = self._given.get(name) or self._built.get(name)
        if found is not None:
            return found
        settings = self.config.sources.get(name)
        if settings is None:
            raise OutboxError(f"no source named '{name}' in the config")
        try:
            built = build_source(name, settings, self.config)
        except SourceUnavailable as exc:
            raise OutboxError(str(exc)) from None
        self._built[name] = built
        return built

    async def aclose(self) -> None:
        if self._learning is not None:
            self._learning.cancel()
            with contextlib.suppress(BaseException):
                await self._learning
            self._learning = None
        built, self._built = self._built, {}
        for source in built.values():
            with contextlib.suppress(Exception):
                await source.aclose()

    # -- the loop --------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        """Take over what a dead sender left mid-send, and mark long-missed posts."""
        now = utcnow()
        recovered = await asyncio.to_thread(self.store.outbox_recover, self.holder)
        for item in recovered:
            log.warning("outbox item %s was being sent when its sender stopped: in doubt", item.id)
        limit = now - self.config.outbox.missed_after
        missed = await asyncio.to_thread(self.store.outbox_mark_missed, now, limit)
        for item in missed:
            log.warning("scheduled post %s (due %s) missed", item.id, item.scheduled_at)
        if self._learning is None:
            self._learning = asyncio.create_task(self.learn_limits(), name="outbox-limits")

    # -- platform limits --------------------------------------------------------------------------

    async def learn_limits(self) -> None:
        """Ask every configured source that can publish for its platform's own limit and keep
        what they say in the store, where the composer and `smcc reply` check against it."""
        for name, settings in self.config.sources.items():
            if not WRITES.get(settings.type):
                continue
            try:
                source = self.source(name)
            except OutboxError:
                continue
            await self.platform_limit(source)

    async def platform_limit(self, source: Source) -> int | None:
        """The limit `source`'s platform states (asked at most once an hour; None: it states
        none, or could not be asked — the configured limits then stand)."""
        now = utcnow()
        known = self._limits.get(source.name)
        if known is not None and now - known[1] < LIMIT_ASK_AGAIN:
            return known[0]
        try:
            limit = await asyncio.wait_for(source.char_limit(), LIMIT_ASK_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a platform that cannot say must not stop sending
            log.warning("%s: could not ask for its character limit (%s)", source.name, exc)
            limit = known[0] if known is not None else None
        self._limits[source.name] = (limit, now)
        if limit is not None and (known is None or known[0] != limit):
            await asyncio.to_thread(self.store.learn_char_limit, source.name, limit)
        return limit

    async def run(self) -> None:
        """Send due items until cancelled."""
        await self.start()
        try:
            while True:
                await self.send_due()
                await self._sleep()
        finally:
            await self.aclose()

    async def _sleep(self) -> None:
        self._wake.clear()
        wait = self.poll
        next_due = await asyncio.to_thread(self.store.outbox_next_due)
        if next_due is not None:
            wait = max(0.0, min(wait, (next_due - utcnow()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)

    async def send_due(self) -> int:
        """Send every item due now; returns how many were attempted."""
        due = await asyncio.to_thread(self.store.outbox_due, utcnow())
        for item in due:
            assert item.id is not None
            await self.send(item.id)
        return len(due)

    async def send(self, item_id: int) -> OutboxItem | None:
        """One attempt at one queued item: claim, (look,) send, record. None if not queued."""
        claimed = await asyncio.to_thread(self.store.outbox_claim, item_id, self.holder, utcnow())
        if claimed is None:
            return None
        try:
            return await self._attempt(claimed)
        except asyncio.CancelledError:
            raise  # left `sending`: the next sender finds it in doubt
        except Exception as exc:  # a bug must not stop the sender or lose the item
            log.exception("outbox item %s: unexpected failure", item_id)
            return await self._retry(claimed, f"unexpected: {type(exc).__name__}: {exc}", True)

    async def _attempt(self, item: OutboxItem) -> OutboxItem | None:
        try:
            source = self.source(item.source)
        except OutboxError as exc:
            return await self._fail(item, str(exc))
        mention: Mention | None = None
        if item.kind == "reply":
            mention = await asyncio.to_thread(self.store.get_mention, item.mention_id or 0)
            if mention is None:
                return await self._fail(item, f"mention {item.mention_id} is no longer stored")
        # Over the platform's own limit the platform refuses it (so an earlier attempt cannot
        # have posted it either): fail now, with the number, instead of a 422 after retries.
        limit = await self.platform_limit(source)
        if limit is not None:
            prefix = reply_prefix(source.type, mention) if mention is not None else ""
            try:
                _check_length(
                    item.source, source.type, limit, counted_length(source.type, item.text, prefix)
                )
            except OutboxError as exc:
                return await self._fail(item, str(exc))
        in_doubt = item.in_doubt
        if in_doubt and not self._key_covers(source, item):
            since = (item.first_attempt_at or item.created_at) - LOOKUP_MARGIN
            try:
                found = await source.find_sent(item.text, mention, since)
            except NotImplementedError:
                return await self._fail(
                    item,
                    "outcome unknown: an earlier attempt may have posted it and "
                    f"{item.source} cannot be searched; look on the platform before retrying",
                )
            except SourceError as exc:
                return await self._after_error(item, exc)
            if found is not None:
                return await self._sent(item, found, found_on_platform=True)
            in_doubt = False  # not there: the earlier attempt did not post it
        try:
            if mention is not None:
                platform_id = await source.reply(mention, item.text, item.idempotency_key)
            else:
                platform_id = await source.post(item.text, item.idempotency_key)
        except NotImplementedError as exc:
            return await self._fail(item, str(exc))
        except SourceError as exc:
            item.in_doubt = in_doubt
            return await self._after_error(item, exc)
        return await self._sent(item, platform_id)

    @staticmethod
    def _key_covers(source: Source, item: OutboxItem) -> bool:
        """The platform will recognise a repeat by the item's key (within its window)."""
        window = source.idempotency_window
        first = item.first_attempt_at or item.created_at
        return window is not None and utcnow() - first < window

    async def _after_error(self, item: OutboxItem, exc: SourceError) -> OutboxItem | None:
        message = str(exc)
        status = exc.status
        permanent = exc.fatal or (
            status is not None and 400 <= status < 500 and status not in (408, 409, 425, 429)
        )
        doubt = exc.ambiguous or item.in_doubt
        if permanent:
            if doubt:
                message += "; an earlier attempt may have posted it: look on the platform"
            return await self._fail(item, message, in_doubt=doubt)
        return await self._retry(item, message, doubt, exc.retry_after)

    async def _sent(
        self, item: OutboxItem, platform_id: str, *, found_on_platform: bool = False
    ) -> OutboxItem | None:
        assert item.id is not None
        done = await asyncio.to_thread(
            self.store.outbox_sent,
            item.id,
            self.holder,
            platform_id,
            utcnow(),
            found=found_on_platform,
        )
        if done is not None:
            self.sent += 1
        return done

    async def _retry(
        self, item: OutboxItem, error: str, in_doubt: bool, retry_after: float | None = None
    ) -> OutboxItem | None:
        assert item.id is not None
        settings = self.config.outbox
        if item.attempts >= settings.max_attempts:
            note = " (the last attempt may have reached the platform)" if in_doubt else ""
            return await self._fail(
                item, f"gave up after {item.attempts} attempts: {error}{note}", in_doubt=in_doubt
            )
        delay = settings.retry_after.total_seconds() * 2 ** (item.attempts - 1)
        delay = min(MAX_BACKOFF, retry_after if retry_after is not None else delay)
        return await asyncio.to_thread(
            self.store.outbox_transition,
            item.id,
            (_S.SENDING,),
            SENDER,
            "outbox_retry",
            by_sender=self.holder,
            detail={"error": error, "in_doubt": in_doubt, "retry_in": round(delay, 1)},
            state=_S.QUEUED,
            last_error=error,
            in_doubt=int(in_doubt),
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            sender=None,
        )

    async def _fail(
        self, item: OutboxItem, error: str, *, in_doubt: bool = False
    ) -> OutboxItem | None:
        assert item.id is not None
        return await asyncio.to_thread(
            self.store.outbox_transition,
            item.id,
            (_S.SENDING,),
            SENDER,
            "outbox_failed",
            by_sender=self.holder,
            detail={"error": error, "in_doubt": in_doubt},
            state=_S.FAILED,
            last_error=error,
            in_doubt=int(in_doubt),
            sender=None,
        )
