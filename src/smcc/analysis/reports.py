"""Reports over the store's rollups: trending terms, share of voice, busiest hours and weekdays.

Every report works in the mentions' own time. "Now" is the end of the stored data (the minute
after the last one the rollups hold), so a demo that ran ahead of the clock or a replayed archive
reports on its own last hour, not on an empty one.
"""

from __future__ import annotations

import math
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smcc.store import Store

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def data_end(store: Store) -> datetime | None:
    """The end of the stored data: the start of the minute after the last one with mentions."""
    span = store.rollup_span()
    return span[1] + timedelta(minutes=1) if span else None


# ---------------------------------------------------------------------------------------------
# Trending terms


@dataclass(frozen=True)
class Trend:
    term: str
    count: int
    """Mentions with the term in the window."""
    expected: float
    """What the baseline's rate predicts for the window."""
    score: float
    """How far above the expectation, in Poisson standard deviations."""

    @property
    def ratio(self) -> float:
        return self.count / max(self.expected, 1e-9)

    @property
    def hashtag(self) -> bool:
        return self.term.startswith("#")


def trends(
    store: Store,
    *,
    window: timedelta = timedelta(hours=1),
    baseline: timedelta = timedelta(hours=24),
    end: datetime | None = None,
    min_count: int = 10,
    min_ratio: float = 3.0,
    limit: int = 20,
) -> list[Trend]:
    """Terms and hashtags whose rate in the window is far above their rate in the baseline.

    A term trends when it was in at least `min_count` mentions of the window and at least
    `min_ratio` times what its baseline rate predicts (a term new in the window counts as
    predicted at one mention: new words trend only with the minimum count). Stop words were left
    out when the terms were counted. Best first by the Poisson score (count − expected) / √expected.
    """
    end = end or data_end(store)
    if end is None:
        return []
    start = end - window
    span = store.rollup_span()
    base_start = start - baseline
    covered = start - max(base_start, span[0]) if span else timedelta(0)
    now = store.term_counts(start, end)
    before = store.term_counts(base_start, start) if covered > timedelta(0) else {}
    scale = window / covered if covered > timedelta(0) else 0.0
    found = []
    for term, count in now.items():
        if count < min_count:
            continue
        expected = before.get(term, 0) * scale
        if count < min_ratio * max(expected, 1.0):
            continue
        score = (count - expected) / math.sqrt(max(expected, 1.0))
        found.append(Trend(term, count, expected, score))
    found.sort(key=lambda t: (-t.score, t.term))
    return found[:limit]


# ---------------------------------------------------------------------------------------------
# Share of voice


@dataclass(frozen=True)
class Share:
    name: str
    competitor: bool
    count: int
    percent: float
    group: str | None = None
    """The source or language this share is within, when split."""


def share_of_voice(
    store: Store,
    brands: Sequence[str],
    competitors: Sequence[str],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    by: str | None = None,
) -> list[Share]:
    """Mentions of each brand and competitor over a period and their share of all of them.

    `by` ("source" or "language") splits the shares: percentages then add up to 100 within each
    source or language. Mentions of no configured brand are not part of anyone's voice.
    """
    if by not in (None, "source", "language"):
        raise ValueError(f"share of voice splits by source or language, not {by!r}")
    names = [*brands, *competitors]
    rows = store.volume(start, end, ("brand", by) if by else ("brand",))
    counts: dict[str | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(names, 0))
    for row in rows:
        brand, group, count = (
            (row[0], row[1] or "unknown", row[2]) if by else (row[0], None, row[1])
        )
        if brand in counts[group]:
            counts[group][brand] += count
    if not counts:
        counts[None] = dict.fromkeys(names, 0)
    out = []
    for group in sorted(counts, key=lambda g: (g is not None, g or "")):
        total = sum(counts[group].values())
        for name in names:
            n = counts[group][name]
            out.append(
                Share(name, name in competitors, n, 100.0 * n / total if total else 0.0, group)
            )
    return out


# ---------------------------------------------------------------------------------------------
# Busiest hours and weekdays


@dataclass(frozen=True)
class Busy:
    timezone: str
    hours: list[int]
    """Mentions per hour of the day (0–23) in the time zone."""
    weekdays: list[int]
    """Mentions per weekday, Monday first."""
    days: int
    """Distinct local days with mentions (to read the counts as per-day averages)."""

    @property
    def busiest_hour(self) -> int | None:
        return max(range(24), key=lambda h: self.hours[h]) if any(self.hours) else None

    @property
    def busiest_weekday(self) -> str | None:
        if not any(self.weekdays):
            return None
        return WEEKDAYS[max(range(7), key=lambda d: self.weekdays[d])]


def busiest(
    store: Store,
    timezone: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    brands: Sequence[str] = (),
) -> Busy:
    """Mentions by local hour of day and by weekday in `timezone` (DST and :30 zones included:
    each minute is placed on its own)."""
    zone = zoneinfo.ZoneInfo(timezone)
    hours = [0] * 24
    weekdays = [0] * 7
    days: set[tuple[int, int, int]] = set()
    for minute, count in store.minute_counts(start, end, brands):
        local = minute.astimezone(zone)
        hours[local.hour] += count
        weekdays[local.weekday()] += count
        days.add((local.year, local.month, local.day))
    return Busy(timezone, hours, weekdays, len(days))
