"""Spike and crisis detection on per-minute counts: volume anomalies and sentiment drops.

The input is what the store's `rollups` table holds — per minute, a count and the sum and number
of sentiment scores — for one series (a brand, or a keyword). The current **window** (the last few
minutes) is compared with a rolling **baseline** (the hour before it):

- **volume spike**: the window holds at least `min_volume` mentions, at least `ratio` times what the
  baseline rate predicts, and the excess is significant for a Poisson count
  (z = (observed − expected) / √expected ≥ `z`);
- **sentiment drop**: the window's mean sentiment is at least `sentiment_drop` below the baseline's,
  with at least `min_scored` scored mentions on each side.

An alert has a severity from 1 to 10 (how many times the expected volume, on a log scale; or how
deep the drop), is raised at most once per `cooldown` for the same series and kind, and clears by
itself once the series has been normal for `clear_after`. The detector keeps that state; it does
no I/O, so it is tested on synthetic series and run by whoever owns the store connection.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smcc.models import AlertKind


@dataclass(frozen=True, slots=True)
class Minute:
    """One minute of one series, as the rollups table holds it."""

    at: datetime
    count: int
    sentiment_sum: float = 0.0
    sentiment_n: int = 0


@dataclass(frozen=True)
class SpikeSettings:
    window: timedelta = timedelta(minutes=2)
    baseline: timedelta = timedelta(minutes=60)
    min_baseline: timedelta = timedelta(minutes=10)
    """Below this much history there is no baseline to compare with: nothing is raised."""
    min_volume: int = 20
    ratio: float = 2.5
    z: float = 4.0
    sentiment_drop: float = 0.25
    min_scored: int = 15
    cooldown: timedelta = timedelta(minutes=15)
    clear_after: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Reading:
    """What the window and the baseline say about one series at one moment."""

    observed: int
    expected: float
    z: float
    window_sentiment: float | None
    baseline_sentiment: float | None

    @property
    def ratio(self) -> float:
        return self.observed / max(self.expected, 1e-9)


@dataclass(frozen=True, slots=True)
class AlertChange:
    """Raise or clear an alert of `kind` on `series`."""

    action: str  # "raise" | "clear"
    kind: AlertKind
    series: str
    severity: int = 0
    message: str = ""
    reading: Reading | None = None


def _ceil_minute(value: datetime) -> datetime:
    floor = value.replace(second=0, microsecond=0)
    return floor if floor == value else floor + timedelta(minutes=1)


def read(
    minutes: Iterable[Minute],
    now: datetime,
    settings: SpikeSettings,
    history_start: datetime | None = None,
) -> Reading | None:
    """Window against baseline at `now`; None while the history is too short to judge.

    A minute counts from its start (`at`) for a whole minute, and only minutes that began before
    `now` are read: the window is the minutes from the first whole minute inside `window` up to
    `now`, the last one possibly still filling, and its expected count is the baseline's rate
    over exactly that span. So evaluating at a minute boundary reads whole minutes, and
    evaluating mid-minute on live data reads what has arrived so far — never the future.
    `history_start` is when the data begins (for a series that was silent before its first
    mention); without it the series' own first minute is taken.
    """
    window_start = _ceil_minute(now - settings.window)
    span = now - window_start
    if span <= timedelta(0):
        return None
    baseline_start = window_start - settings.baseline
    observed = w_n = b_count = b_n = 0
    w_sum = b_sum = 0.0
    earliest: datetime | None = None
    for m in minutes:
        if m.at >= now or m.at < baseline_start:
            continue
        earliest = m.at if earliest is None or m.at < earliest else earliest
        if m.at >= window_start:
            observed += m.count
            w_sum += m.sentiment_sum
            w_n += m.sentiment_n
        else:
            b_count += m.count
            b_sum += m.sentiment_sum
            b_n += m.sentiment_n
    start = history_start if history_start is not None else earliest
    if start is None:
        return None
    covered = window_start - max(start, baseline_start)
    if covered < settings.min_baseline:
        return None
    expected = b_count * (span / covered)
    z = (observed - expected) / math.sqrt(max(expected, 1.0))
    return Reading(
        observed=observed,
        expected=expected,
        z=z,
        window_sentiment=w_sum / w_n if w_n >= settings.min_scored else None,
        baseline_sentiment=b_sum / b_n if b_n >= settings.min_scored else None,
    )


def volume_severity(ratio: float) -> int:
    """1–10 from how many times the expected volume arrived: 2.5× → 4, 5× → 6, 10× → 8."""
    return max(1, min(10, round(1 + 2 * math.log2(max(ratio, 1.0)))))


def drop_severity(drop: float) -> int:
    """1–10 from how far mean sentiment fell (on a −1…1 scale): 0.25 → 4, 0.5 → 6, 1.0 → 10."""
    return max(1, min(10, round(2 + 8 * drop)))


@dataclass
class _State:
    active: bool = False
    raised_at: datetime | None = None
    normal_since: datetime | None = None


@dataclass
class SpikeDetector:
    """Stateful: call `evaluate` each minute (or more often) per series with its recent minutes."""

    settings: SpikeSettings = field(default_factory=SpikeSettings)
    _states: dict[tuple[AlertKind, str], _State] = field(default_factory=dict)

    def active(self) -> set[tuple[AlertKind, str]]:
        return {key for key, state in self._states.items() if state.active}

    def adopt(self, kind: AlertKind, series: str, raised_at: datetime) -> None:
        """Take over an alert raised before (by an earlier run), so that it clears in time."""
        state = self._states.setdefault((kind, series), _State())
        state.active, state.raised_at, state.normal_since = True, raised_at, None

    def evaluate(
        self,
        series: str,
        minutes: Iterable[Minute],
        now: datetime,
        history_start: datetime | None = None,
    ) -> list[AlertChange]:
        reading = read(minutes, now, self.settings, history_start)
        if reading is None:
            return []
        s = self.settings
        changes: list[AlertChange] = []
        spike = reading.observed >= s.min_volume and reading.ratio >= s.ratio and reading.z >= s.z
        changes += self._step(
            AlertKind.VOLUME_SPIKE,
            series,
            now,
            reading,
            spike,
            volume_severity(reading.ratio),
            f"{reading.observed} mentions in {_minutes(s.window)} (about "
            f"{reading.expected:.0f} expected, {reading.ratio:.1f}×)",
        )
        drop = 0.0
        if reading.window_sentiment is not None and reading.baseline_sentiment is not None:
            drop = reading.baseline_sentiment - reading.window_sentiment
        changes += self._step(
            AlertKind.SENTIMENT_DROP,
            series,
            now,
            reading,
            drop >= s.sentiment_drop,
            drop_severity(drop),
            f"mean sentiment {reading.window_sentiment or 0:+.2f} in {_minutes(s.window)} "
            f"(baseline {reading.baseline_sentiment or 0:+.2f})",
        )
        return changes

    def _step(
        self,
        kind: AlertKind,
        series: str,
        now: datetime,
        reading: Reading,
        firing: bool,
        severity: int,
        text: str,
    ) -> list[AlertChange]:
        state = self._states.setdefault((kind, series), _State())
        if firing:
            state.normal_since = None
            cooled = state.raised_at is None or now - state.raised_at >= self.settings.cooldown
            if not state.active and cooled:
                state.active, state.raised_at = True, now
                return [AlertChange("raise", kind, series, severity, f"{series}: {text}", reading)]
            return []
        if state.active:
            state.normal_since = state.normal_since or now
            if now - state.normal_since >= self.settings.clear_after:
                state.active, state.normal_since = False, None
                return [AlertChange("clear", kind, series, 0, f"{series}: back to normal", reading)]
        return []


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:g} min"
