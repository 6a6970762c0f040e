"""Spike and sentiment-drop detection on synthetic per-minute series."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from smcc.analysis.spikes import (
    Minute,
    SpikeDetector,
    SpikeSettings,
    drop_severity,
    read,
    volume_severity,
)
from smcc.models import AlertKind

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def series(rates: list[float], seed: int = 1, sentiment: list[float] | None = None) -> list[Minute]:
    """Poisson-ish counts per minute around the given rates (deterministic)."""
    rng = random.Random(seed)
    out = []
    for i, rate in enumerate(rates):
        count = max(0, round(rng.gauss(rate, rate**0.5)))
        mean = sentiment[i] if sentiment else 0.0
        out.append(Minute(T0 + timedelta(minutes=i), count, mean * count, count))
    return out


def run(
    detector: SpikeDetector, minutes: list[Minute], name: str = "Nusantel"
) -> list[tuple[int, str, AlertKind, int]]:
    """Evaluate at the end of every minute; return (minute index, action, kind, severity)."""
    events = []
    for i in range(len(minutes)):
        now = T0 + timedelta(minutes=i, seconds=59)
        for change in detector.evaluate(name, minutes[: i + 1], now):
            events.append((i, change.action, change.kind, change.severity))
    return events


def test_quiet_hours_raise_nothing() -> None:
    for seed in range(5):
        quiet = series([30.0] * 180, seed=seed)
        assert run(SpikeDetector(), quiet) == []


def test_a_volume_spike_is_raised_fast_and_cleared_after() -> None:
    rates = [30.0] * 70 + [150.0] * 10 + [30.0] * 20
    events = run(SpikeDetector(), series(rates))
    raised = [e for e in events if e[1] == "raise" and e[2] is AlertKind.VOLUME_SPIKE]
    cleared = [e for e in events if e[1] == "clear" and e[2] is AlertKind.VOLUME_SPIKE]
    assert len(raised) == 1
    assert raised[0][0] in (70, 71)  # within two minutes of the spike's start
    assert 4 <= raised[0][3] <= 8
    assert len(cleared) == 1
    assert 80 < cleared[0][0] <= 80 + 3 + 5 + 1  # the window empties, then 5 quiet minutes


def test_cooldown_holds_back_a_second_alert() -> None:
    settings = SpikeSettings(clear_after=timedelta(minutes=1), cooldown=timedelta(minutes=30))
    rates = [30.0] * 70 + [150.0] * 5 + [30.0] * 8 + [150.0] * 5 + [30.0] * 10
    events = run(SpikeDetector(settings), series(rates))
    assert [e[1] for e in events if e[2] is AlertKind.VOLUME_SPIKE].count("raise") == 1


def test_no_baseline_no_alert() -> None:
    # a burst in the first minutes of a fresh database cannot be judged against anything
    assert run(SpikeDetector(), series([200.0] * 3 + [30.0] * 5)) == []


def test_small_series_need_min_volume() -> None:
    # 1 → 6 mentions a minute is 6× but too few to call a crisis
    events = run(SpikeDetector(), series([1.0] * 70 + [6.0] * 3, seed=3))
    assert [e for e in events if e[2] is AlertKind.VOLUME_SPIKE] == []


def test_sentiment_drop() -> None:
    mood = [0.2] * 70 + [-0.4] * 10
    events = run(SpikeDetector(), series([30.0] * 80, sentiment=mood))
    drops = [e for e in events if e[2] is AlertKind.SENTIMENT_DROP and e[1] == "raise"]
    assert len(drops) == 1
    assert drops[0][0] in (70, 71)
    # judged when raised, a minute into the drop: the window still holds one calm minute
    assert drop_severity(0.25) <= drops[0][3] <= drop_severity(0.6)
    assert [e for e in events if e[2] is AlertKind.VOLUME_SPIKE] == []


def test_read_expected_scales_with_covered_history() -> None:
    minutes = [Minute(T0 + timedelta(minutes=i), 10) for i in range(30)]
    settings = SpikeSettings(window=timedelta(minutes=3))
    reading = read(minutes, T0 + timedelta(minutes=29, seconds=59), settings)
    assert reading is not None
    assert reading.expected == pytest.approx(30.0, rel=0.05)  # 10/min over a 3-minute window
    assert reading.observed == 30


@pytest.mark.parametrize(("ratio", "severity"), [(1.0, 1), (2.5, 4), (5, 6), (10, 8), (1e6, 10)])
def test_volume_severity(ratio: float, severity: int) -> None:
    assert volume_severity(ratio) == severity
