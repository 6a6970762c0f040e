"""The queue colours its SLA countdowns by the rules engine's policy: the department's warning
share of the response time, counted on its business-hours clock; breached once due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.text import Text

from console_app import console_app, until
from console_seed import NOW, console_config, make
from smcc.config import BusinessHours
from smcc.rules import SlaClock
from smcc.store import Store
from smcc.tui.widgets.queue import QueuePane

AMS = ZoneInfo("Europe/Amsterdam")
# NOW is Monday 09:00 in Amsterdam, before billing opens at 10:00.
BILLING = """
[departments.billing]
sla = { tier1 = "15m", warning = 0.8 }
[departments.billing.business_hours]
timezone = "Europe/Amsterdam"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "10:00-18:00"
"""
BILLING_HOURS = BusinessHours(timezone="Europe/Amsterdam", hours="10:00-18:00")


async def test_queue_warns_at_the_departments_share_and_on_its_clock(tmp_path: Path) -> None:
    second = timedelta(seconds=1)
    # Support answers tier 1 in 10 minutes and warns at the default 80 %: after 8 minutes.
    support = {
        "early": 8 * 60 - 1,  # 79.8 % used, 2m01 left: still ok
        "warned": 8 * 60,  # 80 %: warning
        "late": 10 * 60,  # due now: breached
    }
    mentions = [
        make(
            h,
            "no signal",
            tier=1,
            age=s * second,
            sla=timedelta(minutes=10),
            handle=h,
            department="support",
        )
        for h, s in support.items()
    ]
    # Billing: arrived Friday 17:50, ten working minutes before closing. 15 working minutes are
    # due Monday 10:05; on Monday at 09:00 only 10 of them (67 %) have passed, so it is ok even
    # though 98 % of the wall-clock window has.
    friday = datetime(2026, 11, 20, 17, 50, tzinfo=AMS).astimezone(UTC)
    due = SlaClock(BILLING_HOURS).add(friday, timedelta(minutes=15))
    assert due == datetime(2026, 11, 23, 10, 5, tzinfo=AMS)
    mentions.append(
        make(
            "billing",
            "wrong bill",
            tier=1,
            age=NOW - friday,
            sla=due - friday,
            handle="billing",
            department="billing",
        )
    )
    store = Store.open(tmp_path / "sla.db")
    store.insert_batch(mentions)
    app = console_app(store, console_config(BILLING))
    async with app.run_test(size=(80, 24)) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        cells: dict[str, tuple[str, str]] = {}
        for i in range(queue.table.row_count):
            due_cell, _, who, _ = queue.table.get_row_at(i)
            assert isinstance(due_cell, Text)
            assert isinstance(who, Text)
            cells[who.plain] = (due_cell.plain, str(due_cell.style))
    assert cells == {
        "@early": ("2m", "green"),
        "@warned": ("2m", "bold yellow"),
        "@late": ("0s", "bold white on red"),
        "@billing": ("1h05", "green"),
    }
    store.close()
