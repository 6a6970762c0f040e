"""Two processes on one database: another process's claim and new mention reach this console's
panes through the change counter, and the contested claim names the other operator."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from console_app import console_app, until
from console_seed import mention_id, seeded_store
from smcc.store import Store
from smcc.tui.widgets.detail import DetailPane
from smcc.tui.widgets.feed import FeedPane
from smcc.tui.widgets.queue import QueuePane

OTHER_OPERATOR = """
import sys
from datetime import timedelta
sys.path.insert(0, sys.argv[1])
from console_seed import make, mention_id
from smcc.store import Store

store = Store.open(sys.argv[2], create=False)
assert store.claim(mention_id(store, "t1-late"), "budi").ok
store.insert_batch([make("late-arrival", "nusantel down again", tier=1,
                         age=timedelta(minutes=18), sla=timedelta(minutes=10), handle="hadi")])
store.close()
"""


async def test_a_claim_and_a_mention_from_another_process_show_within_a_second(
    tmp_path: Path,
) -> None:
    db = tmp_path / "two.db"
    store = seeded_store(db)
    late = mention_id(store, "t1-late")
    app = console_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = app.screen.query_one(QueuePane)
        detail = app.screen.query_one(DetailPane)
        feed = app.screen.query_one(FeedPane)
        await until(pilot, lambda: queue.table.row_count == 4 and detail.mention_id == late)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", OTHER_OPERATOR, str(Path(__file__).parent), str(db)
        )
        assert await child.wait() == 0
        written = time.monotonic()
        await until(pilot, lambda: queue.table.row_count == 5, timeout=1.0)
        await until(pilot, lambda: feed.items[-1].author_handle == "hadi", timeout=1.0)
        # The claim shows in the queue's mark and the detail's status, then the claim is refused.
        await until(pilot, lambda: any(i.claimed_by == "budi" for i in queue.items), timeout=1.0)
        assert time.monotonic() - written < 1.0
        while queue.current_id != late:
            await pilot.press("j")
        await pilot.press("c")
        await until(pilot, lambda: any("already claimed by budi" in n for n in app.notes))
    with Store.open(db) as check:
        assert check.claimed_by(late) == "budi"
    store.close()
