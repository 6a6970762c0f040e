"""What the sentiment meters show, computed from per-minute rollups (no Textual, no I/O).

A brand's *current* sentiment is the mean of every score in the last `window` minutes (weighted by
how many mentions were scored each minute, not a mean of minute means). When nothing in the window
was scored the value is None and the pane says "no data" — a missing score is never shown as 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smcc.store import RollupMinute

HOUR = 60
"""Minutes the sparklines cover."""
WINDOW = 15
"""Minutes the current value (the gauge) covers."""


@dataclass(frozen=True)
class Series:
    """One brand or source over the last hour, one slot per minute (oldest first)."""

    name: str
    counts: list[int]
    sentiment: list[float | None]
    """Mean score per minute; None for a minute with no scored mention."""
    current: float | None
    """Mean score over the last `WINDOW` minutes; None when none was scored."""
    scored: int
    """How many scores `current` is the mean of."""

    @property
    def volume(self) -> int:
        return sum(self.counts)

    def sentiment_line(self) -> list[float]:
        """The sentiment per minute for a sparkline: a minute without scores carries the last
        known value forward (the line stays flat rather than dropping to a fake 0); the minutes
        before the first score are left out. Empty when nothing in the hour was scored."""
        line: list[float] = []
        last: float | None = None
        for value in self.sentiment:
            last = value if value is not None else last
            if last is not None:
                line.append(last)
        return line


@dataclass(frozen=True)
class Meters:
    brands: list[Series]
    sources: list[Series]
    window: int = WINDOW


def floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def build_series(
    rows: Iterable[RollupMinute],
    now: datetime,
    *,
    names: Sequence[str] = (),
    minutes: int = HOUR,
    window: int = WINDOW,
) -> list[Series]:
    """One Series per key in `rows`, plus one (empty) per name in `names` that has no rows.

    `names` come first in their order (the configured brands, so a quiet brand still shows "no
    data"); the others follow by volume, busiest first. A key of '' (no brand) is left out.
    """
    end = floor_minute(now)
    start = end - timedelta(minutes=minutes - 1)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * minutes)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * minutes)
    scored: dict[str, list[int]] = defaultdict(lambda: [0] * minutes)
    for row in rows:
        if not row.key or not start <= row.minute <= end:
            continue
        slot = int((row.minute - start).total_seconds() // 60)
        counts[row.key][slot] += row.count
        sums[row.key][slot] += row.sentiment_sum
        scored[row.key][slot] += row.sentiment_n
    keys = [n for n in names if n]
    keys += sorted((k for k in counts if k not in keys), key=lambda k: (-sum(counts[k]), k))
    out = []
    for key in keys:
        n, total = scored[key], sums[key]
        recent_n = sum(n[-window:])
        out.append(
            Series(
                name=key,
                counts=list(counts[key]),
                sentiment=[total[i] / n[i] if n[i] else None for i in range(minutes)],
                current=sum(total[-window:]) / recent_n if recent_n else None,
                scored=recent_n,
            )
        )
    return out
