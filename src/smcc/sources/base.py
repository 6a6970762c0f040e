"""The Source protocol: how a platform becomes a stream of mentions.

A source turns a platform into batches of :class:`~smcc.models.Mention` together with an opaque
**cursor** that says where the batch ends. The pipeline stores each batch and its cursor in one
transaction and hands the stored cursor back on the next start, so a source never needs to know the
store exists. Health is reported through :class:`SourceHealth`; backoff is shared here so that every
adapter behaves the same way under rate limits and outages.
"""

from __future__ import annotations

import abc
import enum
import random
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from smcc.models import Mention, utcnow


@dataclass(frozen=True, slots=True)
class Fetched:
    """Mentions a source produced, and the cursor to resume from after them."""

    mentions: list[Mention]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of history (`smcc backfill`): mentions of one timeline, newest first.

    `timeline` names the timeline (as in the live cursor); `done` marks its last page, so that a
    backfill restarted after a fault can skip the timelines it has finished.
    """

    timeline: str
    mentions: list[Mention]
    done: bool = False


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time with a zone (`Z` allowed) as the APIs send it, else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


class BackfillUnsupported(Exception):
    """The platform (or this source's configuration) offers no history to fetch."""


class HealthState(enum.StrEnum):
    STARTING = "starting"
    CONNECTED = "connected"
    BACKING_OFF = "backing_off"
    FAILING = "failing"
    STOPPED = "stopped"
    FINISHED = "finished"


@dataclass(slots=True)
class SourceHealth:
    """What the console's source-health line shows for one source."""

    state: HealthState = HealthState.STARTING
    since: datetime = field(default_factory=utcnow)
    until: datetime | None = None
    """While backing off: when the next attempt is due."""
    reason: str = ""
    fetched: int = 0
    errors: int = 0
    warnings: list[str] = field(default_factory=list)

    def set(self, state: HealthState, reason: str = "", until: datetime | None = None) -> None:
        if state is not self.state:
            self.since = utcnow()
        self.state, self.reason, self.until = state, reason, until

    def warn(self, message: str, keep: int = 50) -> None:
        """Record a non-fatal problem (a bad line, a malformed entry) without stopping."""
        self.warnings.append(message)
        del self.warnings[:-keep]


class SourceError(Exception):
    """A failure a source reports as health; `retry_after` overrides the backoff when known."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        fatal: bool = False,
        ambiguous: bool = False,
        status: int | None = None,
    ):
        super().__init__(message)
        self.retry_after = retry_after
        self.fatal = fatal
        self.ambiguous = ambiguous
        """The request may have reached the platform and been acted on (timeout or dropped
        connection after sending, 5xx): the outbox must not blindly send it again."""
        self.status = status
        """The HTTP status of the answer, when there was one."""


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with full jitter, capped; `reset()` after a success."""

    base: float = 1.0
    cap: float = 300.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self, retry_after: float | None = None) -> float:
        self.attempt += 1
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.cap, self.base * 2 ** (self.attempt - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0

    def until(self, delay: float) -> datetime:
        return utcnow() + timedelta(seconds=delay)


class CheckStatus(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of `smcc doctor`: what was checked, how it went, and what to do about it."""

    what: str
    """credentials | endpoint | auth | rate limit | … (short, lower case)."""
    status: CheckStatus
    detail: str
    fix: str = ""


class Source(abc.ABC):
    """One configured source (`[sources.NAME]`). Subclasses implement :meth:`stream`."""

    type: ClassVar[str]
    can_reply: ClassVar[bool] = False
    can_post: ClassVar[bool] = False
    idempotency_window: ClassVar[timedelta | None] = None
    """How long the platform remembers an idempotency key (None: it takes none); within it a
    send whose outcome is unknown may simply be repeated with the same key."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.health = SourceHealth()

    @abc.abstractmethod
    def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        """Yield batches from `cursor` (None: from the beginning) until exhausted or cancelled.

        A source that runs forever (a live platform, the demo) never returns; a finite one (a
        replay file, `--limit`) returns when done. Cancellation must leave nothing half-yielded.
        """

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        """Post `text` as a reply to `mention`; return the platform's id of the new post."""
        raise NotImplementedError(f"source {self.name!r} ({self.type}) cannot reply")

    async def thread(self, mention: Mention) -> list[Mention]:
        """The conversation around `mention` for the detail pane, oldest first, the mention
        itself included; sources that cannot fetch threads return just the mention."""
        return [mention]

    async def post(self, text: str, idempotency_key: str) -> str:
        """Publish `text` as a new post; return the platform's id."""
        raise NotImplementedError(f"source {self.name!r} ({self.type}) cannot post")

    backfill_limits: ClassVar[str] = ""
    """What history the platform gives (said by `smcc backfill` before it starts)."""

    def backfill(
        self, since: datetime, until: datetime, skip: Collection[str] = ()
    ) -> AsyncIterator[HistoryPage]:
        """Pages of what was posted between `since` and `until` (oldest may overshoot `since`;
        the caller filters), timeline by timeline, leaving out the timelines named in `skip`.

        Never touches the live cursor. Raises BackfillUnsupported when there is no history.
        """
        raise BackfillUnsupported(f"source {self.name!r} ({self.type}) cannot fetch history")

    async def find_sent(self, text: str, parent: Mention | None, since: datetime) -> str | None:
        """The platform id of our own post (a reply to `parent`, or a post when None) with this
        text, made at or after `since`; None when there is none. The outbox asks before sending
        again after an attempt whose outcome is unknown, on platforms without idempotency keys.
        Sources that cannot look raise NotImplementedError (the outbox then fails the item
        rather than risk a second post)."""
        raise NotImplementedError(f"source {self.name!r} ({self.type}) cannot look up its posts")

    async def char_limit(self) -> int | None:
        """The longest post the platform accepts from this account, when the platform says so
        (Mastodon: each server sets its own); None: the outbox's configured defaults apply."""
        return None

    async def check(self) -> list[Check]:
        """What `smcc doctor` shows for this source; network sources ask their platform
        (credentials present, endpoint reachable, auth accepted, rate-limit budget).

        The default is a warning, never "ok": a source that does not say how to check it has
        not been checked, and doctor must not claim it works.
        """
        return [
            Check(
                "source",
                CheckStatus.WARN,
                f"not checked: the {self.type} source has no checks in this version",
                "watch its health line in the console",
            )
        ]

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most sources hold nothing
        """Release connections; called once when the pipeline stops."""
