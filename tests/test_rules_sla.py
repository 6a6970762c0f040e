"""SLA clocks: around the clock, business hours across midnight, weekends and DST; warning times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules_helpers import config, mention
from smcc.config import BusinessHours, ConfigError
from smcc.models import Mention
from smcc.rules import RuleEngine, SlaClock, SlaState, SlaTimes, deadline_times, sla_times

AMS = ZoneInfo("Europe/Amsterdam")


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS)


OFFICE = BusinessHours(timezone="Europe/Amsterdam", hours="09:00-17:00")  # mon-fri
NIGHT = BusinessHours(timezone="Europe/Amsterdam", hours="22:00-06:00", days=["mon", "tue"])


def test_without_business_hours_the_clock_always_runs() -> None:
    start = datetime(2026, 11, 21, 23, 50, tzinfo=UTC)  # a Saturday night
    assert SlaClock().add(start, timedelta(minutes=15)) == start + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # inside hours: plain addition
        (local(2026, 11, 23, 10, 0), timedelta(hours=2), local(2026, 11, 23, 12, 0)),
        # before opening: starts at 09:00
        (local(2026, 11, 23, 7, 30), timedelta(minutes=15), local(2026, 11, 23, 9, 15)),
        # runs over closing time into the next morning
        (local(2026, 11, 23, 16, 0), timedelta(hours=4), local(2026, 11, 24, 12, 0)),
        # Friday afternoon → Monday (the weekend does not count)
        (local(2026, 11, 27, 16, 0), timedelta(hours=4), local(2026, 11, 30, 12, 0)),
        # arriving on Saturday night: Monday morning
        (local(2026, 11, 28, 23, 0), timedelta(minutes=30), local(2026, 11, 30, 9, 30)),
        # longer than a working day: 10 h from Monday 09:00 is Tuesday 11:00
        (local(2026, 11, 23, 9, 0), timedelta(hours=10), local(2026, 11, 24, 11, 0)),
        # the due time is exactly closing time
        (local(2026, 11, 23, 16, 0), timedelta(hours=1), local(2026, 11, 23, 17, 0)),
    ],
)
def test_office_hours(start: datetime, duration: timedelta, due: datetime) -> None:
    assert SlaClock(OFFICE).add(start, duration) == due


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # Monday 23:00 is inside Monday's night shift, which runs to Tuesday 06:00
        (local(2026, 11, 23, 23, 0), timedelta(hours=2), local(2026, 11, 24, 1, 0)),
        # Tuesday 05:00 is still Monday's shift: 1 h left, then Tuesday's shift from 22:00
        (local(2026, 11, 24, 5, 0), timedelta(hours=2), local(2026, 11, 24, 23, 0)),
        # Wednesday 23:00: no shift starts on Wednesday..Sunday → next Monday 22:00
        (local(2026, 11, 25, 23, 0), timedelta(minutes=10), local(2026, 11, 30, 22, 10)),
    ],
)
def test_shift_across_midnight(start: datetime, duration: timedelta, due: datetime) -> None:
    assert SlaClock(NIGHT).add(start, duration) == due


def test_daylight_saving_change() -> None:
    # Amsterdam leaves summer time on Sunday 2026-10-25; a 24/7 window in local time still
    # counts real elapsed time across the change.
    always = BusinessHours(
        timezone="Europe/Amsterdam",
        hours="00:00-23:59",
        days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    )
    start = local(2026, 10, 25, 1, 0)
    due = SlaClock(always).add(start, timedelta(hours=3))
    # 01:00 CEST + 3 h real time = 03:00 CET (the hour 02:00-03:00 happens twice)
    assert due == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)


def test_warning_and_states() -> None:
    start = local(2026, 11, 27, 16, 0)  # Friday
    times = SlaClock(OFFICE).times(start, timedelta(hours=4), 0.8)
    assert times.due == local(2026, 11, 30, 12, 0)
    assert times.warn_at == local(2026, 11, 30, 11, 12)  # 3 h 12 min of working time
    assert times.state(local(2026, 11, 28, 12, 0)) is SlaState.OK
    assert times.state(local(2026, 11, 30, 11, 30)) is SlaState.WARNING
    assert times.state(local(2026, 11, 30, 12, 0)) is SlaState.BREACHED


BILLING_HOURS = """
[departments.billing.business_hours]
timezone = "Europe/Amsterdam"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "09:00-17:00"
"""


def test_engine_uses_the_departments_business_hours() -> None:
    rule = '[[rules]]\nname = "bill"\nwhen.any = ["bill"]\nthen = {tier = 2, department="billing"}'
    cfg = config(BILLING_HOURS + "\n" + rule + "\n")
    engine = RuleEngine(cfg)
    m: Mention = mention("my bill", at=local(2026, 11, 27, 16, 0).astimezone(UTC))
    engine.triage([m])
    assert m.triage is not None
    assert m.triage.sla_due == local(2026, 11, 30, 16, 0)  # 8 h of working time
    times = sla_times(cfg, m)
    assert times is not None
    assert times.due == m.triage.sla_due
    assert times.warn_at == local(2026, 11, 30, 14, 24)


@pytest.mark.parametrize(
    ("start", "end", "worked"),
    [
        (local(2026, 11, 23, 10, 0), local(2026, 11, 23, 12, 0), timedelta(hours=2)),
        (local(2026, 11, 27, 16, 0), local(2026, 11, 30, 12, 0), timedelta(hours=4)),  # weekend
        (local(2026, 11, 28, 23, 0), local(2026, 11, 30, 9, 30), timedelta(minutes=30)),
        (local(2026, 11, 23, 7, 0), local(2026, 11, 23, 8, 0), timedelta(0)),  # before opening
        (local(2026, 11, 23, 12, 0), local(2026, 11, 23, 10, 0), timedelta(0)),  # backwards
    ],
)
def test_working_time_counts_only_business_hours(
    start: datetime, end: datetime, worked: timedelta
) -> None:
    assert SlaClock(OFFICE).working_time(start, end) == worked


def test_deadline_times_from_a_queue_row_match_the_triage() -> None:
    # A queue row has department, created_at and sla_due but no response time; the warning time
    # worked out from those is the one sla_times gives from the full mention.
    rule = '[[rules]]\nname = "bill"\nwhen.any = ["bill"]\nthen = {tier = 1, department="billing"}'
    cfg = config(BILLING_HOURS + "\n" + rule + "\n")
    m: Mention = mention("my bill", at=local(2026, 11, 27, 16, 50).astimezone(UTC))
    RuleEngine(cfg).triage([m])
    assert m.triage is not None
    times = deadline_times(cfg, "billing", m.created_at, m.triage.sla_due)
    assert times == sla_times(cfg, m)
    assert times is not None
    assert times.due == local(2026, 11, 30, 9, 20)  # 30 min: 10 on Friday, 20 on Monday
    assert times.warn_at == local(2026, 11, 30, 9, 14)  # 80 % = 24 working minutes
    assert times.state(local(2026, 11, 29, 23, 0)) is SlaState.OK  # 84 % of the wall clock
    assert times.state(local(2026, 11, 30, 9, 14)) is SlaState.WARNING
    assert times.state(local(2026, 11, 30, 9, 20)) is SlaState.BREACHED


def test_deadline_times_without_deadline_or_department() -> None:
    cfg = config()
    at = local(2026, 11, 23, 10, 0)
    assert deadline_times(cfg, "billing", at, None) is None
    due = at + timedelta(minutes=10)
    # A department no longer in the config: no warning share to apply, only the breach.
    assert deadline_times(cfg, "gone", at, due) == SlaTimes(due=due, warn_at=due)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('timezone = "Mars/Base"', "unknown time zone"),
        ('timezone = "UTC"\nhours = "9-5"', "is not a time window"),
        ('timezone = "UTC"\ndays = []', "at least 1 item"),
        ('timezone = "UTC"\nhours = "00:00-24:00"', "the whole day"),
    ],
)
def test_business_hours_errors(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config(extra=f"\n[departments.billing.business_hours]\n{table}\n")
    assert message in str(caught.value)
    assert "departments.billing.business_hours" in str(caught.value)
