"""SLA clocks: when a response is due, when to warn, and whether it is breached.

A department without business hours has a clock that runs around the clock. With business hours
(`[departments.X.business_hours]`: time zone, days, 'HH:MM-HH:MM') the clock only runs inside the
working windows: a tier-2 item that arrives on Friday at 16:00 with 4 h to respond in a 09:00-17:00
Monday-Friday team is due Monday at 12:00. A window that ends before it starts crosses midnight
(a night shift '22:00-06:00' starting on each listed day). Windows are built in the department's
time zone with zoneinfo, so a daylight-saving change shortens or lengthens the day as it should.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from smcc.config import WEEKDAYS, BusinessHours

_MAX_DAYS = 3 * 366
"""How far ahead a deadline is searched; a valid config always finds one within a week."""


class SlaState(enum.StrEnum):
    NONE = "none"
    """No deadline (tier 3 by default)."""
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class SlaTimes:
    due: datetime
    warn_at: datetime

    def state(self, now: datetime) -> SlaState:
        if now >= self.due:
            return SlaState.BREACHED
        if now >= self.warn_at:
            return SlaState.WARNING
        return SlaState.OK


def _clock_time(text: str) -> tuple[time, bool]:
    """'HH:MM' → (time, is 24:00)."""
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24:
        return time(0, 0), True
    return time(hours, minutes), False


class SlaClock:
    """Adds response time to a start time, counting only business hours when there are any."""

    def __init__(self, hours: BusinessHours | None = None) -> None:
        self.hours = hours
        if hours is None:
            return
        self._zone = ZoneInfo(hours.timezone)
        self._days = frozenset(WEEKDAYS.index(day) for day in hours.days)
        start, end = hours.hours.split("-")
        self._open, _ = _clock_time(start)
        self._close, midnight = _clock_time(end)
        # The window closes on the next day when it ends at 24:00 or wraps past midnight.
        self._close_next_day = midnight or self._close <= self._open

    def windows(self, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (UTC) that end after `after`, in order."""
        local_day = after.astimezone(self._zone).date() - timedelta(days=1)
        for offset in range(_MAX_DAYS):
            day = local_day + timedelta(days=offset)
            if day.weekday() not in self._days:
                continue
            opens, closes = self._window(day)
            if closes > after:
                yield opens, closes

    def _window(self, day: date) -> tuple[datetime, datetime]:
        close_day = day + timedelta(days=1) if self._close_next_day else day
        opens = datetime.combine(day, self._open, self._zone).astimezone(UTC)
        closes = datetime.combine(close_day, self._close, self._zone).astimezone(UTC)
        return opens, closes

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time has passed since `start` (UTC)."""
        if start.tzinfo is not UTC:
            start = start.astimezone(UTC)
        if self.hours is None:
            return start + duration
        remaining = duration
        for opens, closes in self.windows(start):
            begin = max(opens, start)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise ValueError("no business hours within three years")  # unreachable: days ≥ 1

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time between `start` and `end`: the inverse of `add`."""
        if end <= start:
            return timedelta(0)
        if self.hours is None:
            return end - start
        total = timedelta(0)
        for opens, closes in self.windows(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total

    def times(self, start: datetime, duration: timedelta, warning: float) -> SlaTimes:
        return SlaTimes(due=self.add(start, duration), warn_at=self.add(start, duration * warning))

    def times_until(self, start: datetime, due: datetime, warning: float) -> SlaTimes:
        """Times of a deadline already set: warn once `warning` of its working time has passed.

        For a `due` this clock computed from `start` this equals `times`, without knowing the
        response time (so a rule's SLA override counts too)."""
        warn_at = self.add(start, self.working_time(start, due) * warning)
        return SlaTimes(due=due, warn_at=min(warn_at, due))
