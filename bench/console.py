"""Console benchmark on a 1,000,000-mention database: first paint, insert-to-visible, RSS, plans.

    python bench/console.py [--count 1000000] [--runs 3] [--inserts 50] [--rebuild]

- builds the database once with the store's batch insert of demo mentions (tiers mixed: 1 in 20
  tier 1, 1 in 5 tier 2, the rest tier 3; 9 in 10 already replied or dismissed, so about 100,000
  are open) and caches it under /tmp, keyed by smcc version, schema version and count;
- checks the console's queries with EXPLAIN QUERY PLAN (index used? temporary sort?) and times
  each (median of 5);
- time to first paint: a fresh process opens the console (main screen, 200×60, headless Textual
  driver) on the database; the clock runs from before the process starts to the first frame
  with the queue's and the feed's rows (so Python start-up and imports count); peak RSS of that
  process after the paint;
- insert-to-visible: while a console runs, this process stores one mention at a time (`--inserts`
  of them, at random phase to the console's 0.25 s poll) and the console reports when each one
  is in its live feed; median and p95.
Prints every run and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from smcc import __version__
from smcc.config import Config, default_config
from smcc.models import Mention, Status, Triage, utcnow
from smcc.sources.demo import DemoCatalog, demo_mentions
from smcc.store import MentionFilter, Store
from smcc.store.schema import LATEST

SEED = 11
CHUNK = 20_000
SIZE = (200, 60)


def _config() -> Config:
    config = default_config()
    config.operator.name = "bench"
    return config


def _catalog(config: Config) -> DemoCatalog:
    return DemoCatalog.build("demo", config.brands, config.competitors, ["en", "id", "ru", "nl"])


def _shape(mentions: list[Mention], start: int) -> None:
    """Tiers, SLA deadlines and statuses like a console that has been worked for a while."""
    rng = random.Random(start)
    for i, m in enumerate(mentions, start):
        tier = 1 if i % 20 == 0 else 2 if i % 5 == 0 else 3
        sla = {1: timedelta(minutes=15), 2: timedelta(hours=4)}.get(tier)
        m.triage = Triage(
            tier=tier,
            department="social",
            sla_due=m.created_at + sla if sla else None,
            rule="bench",
            explanation="bench/console.py",
        )
        k = rng.random()
        m.status = Status.REPLIED if k < 0.6 else Status.DISMISSED if k < 0.9 else Status.NEW


def db_path(count: int) -> Path:
    return Path(f"/tmp/smcc-bench-console-{__version__}-v{LATEST}-{count}.db")


def build(count: int, rebuild: bool) -> Path:
    path = db_path(count)
    if path.exists() and not rebuild:
        with Store.open(path, create=False) as store:
            # Earlier runs' inserts-to-visible add a few rows; the cache stays valid.
            if store.count_mentions() >= count:
                print(f"database: {path} (cached, {count:,} mentions)")
                return path
    building = path.with_suffix(".building")
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        stale.unlink(missing_ok=True)
    config = _config()
    catalog = _catalog(config)
    started = time.perf_counter()
    received = utcnow()
    with Store.open(building) as store:
        for start in range(0, count, CHUNK):
            batch = demo_mentions(SEED, start, min(CHUNK, count - start), catalog, received)
            _shape(batch, start)
            store.insert_batch(batch)
            print(f"\rbuilding {start + len(batch):,}/{count:,}", end="", flush=True)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # The log of the database this one replaces would be read as this one's (a log of another
    # page size reads as "malformed"; one of the same size would be replayed into it).
    for stale in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    building.rename(path)
    print(f"\ndatabase: {path} (built in {time.perf_counter() - started:.0f} s)")
    return path


# -- query plans ---------------------------------------------------------------------------------


def check_plans(path: Path) -> list[str]:
    """Run each console read once with a trace to capture its SQL, then EXPLAIN it and time it.
    Returns the problems found (a full scan of mentions, or a sort of many rows)."""
    problems: list[str] = []
    with Store.open(path, create=False) as store:
        some = store.latest_items(0, limit=1)[0]
        reads: dict[str, Any] = {
            "queue tier 1": lambda: store.queue(1),
            "queue tier 3": lambda: store.queue(3),
            "queue tier 2, brand filter": lambda: store.queue(
                2, MentionFilter(brands=(some.brand or "",))
            ),
            "queue counts": lambda: store.queue_counts(),
            "feed (latest)": lambda: store.latest_items(0, limit=200),
            "search 'signal'": lambda: store.search_items("signal"),
            "meters (rollups)": lambda: store.rollup_series(utcnow() - timedelta(hours=1), "brand"),
            "detail thread": lambda: store.thread(some.source, "x"),
            "detail author count": lambda: store.author_mention_count(
                some.source, some.author_handle
            ),
        }
        print("\nconsole queries at this size (median of 5, and the plan):")
        for name, read in reads.items():
            statements: list[str] = []
            store.conn.set_trace_callback(statements.append)
            read()
            store.conn.set_trace_callback(None)
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                read()
                times.append(time.perf_counter() - t0)
            ms = statistics.median(times) * 1000
            print(f"  {name:28} {ms:8.1f} ms")
            for sql in statements:
                if sql.lstrip().startswith("--"):
                    continue  # FTS5's own statements, traced as comments
                plan = [r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
                for step in plan:
                    print(f"      {step}")
                scans = [s for s in plan if s.startswith("SCAN mentions") and "INDEX" not in s]
                if scans:
                    problems.append(f"{name}: full scan of mentions ({scans[0]})")
                if name.startswith("queue tier") and "USE TEMP B-TREE FOR ORDER BY" in plan:
                    problems.append(
                        f"{name}: sorts every open mention of the tier for one page "
                        "(the mentions_open index of schema v4 should prevent this)"
                    )
            if ms > 100:
                problems.append(f"{name}: {ms:.0f} ms")
    return problems


# -- the console in a child process ----------------------------------------------------------------


def _rss_mb() -> float:
    """Peak RSS of this process. VmHWM, not getrusage's ru_maxrss: on Linux that one carries the
    parent's peak across fork and exec, and the parent here has just read a million rows."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _child(path: Path, watch: bool) -> None:
    from smcc.tui.app import ConsoleApp
    from smcc.tui.data import ConsoleData
    from smcc.tui.screens.main import MainScreen
    from smcc.tui.widgets.feed import FeedPane
    from smcc.tui.widgets.queue import QueuePane

    store = Store.open(path, create=False)
    app = ConsoleApp(ConsoleData(store, _config()), MainScreen)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        feed = app.screen.query_one(FeedPane)
        while not (queue.items and feed.items):
            await pilot.pause(0.002)
        await pilot.pause()  # the frame with those rows
        print(json.dumps({"painted": time.time(), "rss_mb": _rss_mb()}), flush=True)
        if not watch:
            return
        last = feed.items[-1].id
        while True:
            await pilot.pause(0.002)
            if feed.items and feed.items[-1].id != last:
                now = time.time()
                for item in feed.items:
                    if item.id > last:
                        seen = {"seen": item.id, "at": now, "rss_mb": _rss_mb()}
                        print(json.dumps(seen), flush=True)
                last = feed.items[-1].id


def _spawn(path: Path, watch: bool) -> subprocess.Popen[str]:
    args = [sys.executable, __file__, "--child", str(path)] + (["--watch"] if watch else [])
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def first_paint(path: Path) -> dict[str, float]:
    started = time.time()
    child = _spawn(path, watch=False)
    assert child.stdout is not None
    line = json.loads(child.stdout.readline())
    child.wait(60)
    return {"seconds": line["painted"] - started, "rss_mb": line["rss_mb"]}


def insert_to_visible(path: Path, inserts: int) -> tuple[list[float], float]:
    child = _spawn(path, watch=True)
    assert child.stdout is not None
    painted = json.loads(child.stdout.readline())
    config = _config()
    catalog = _catalog(config)
    rng = random.Random(SEED)
    latencies: list[float] = []
    rss = painted["rss_mb"]
    with Store.open(path, create=False) as store:
        # Demo numbers (external ids) no run has used: each run adds `inserts` mentions, so the
        # count moves the range on. Kept small: the demo's outage schedule up to a mention
        # number takes longer to work out the larger it is (minutes for one at 2e12).
        base = 10_000_000 + store.count_mentions()
        for n in range(inserts):
            time.sleep(rng.uniform(0.1, 0.35))
            [mention] = demo_mentions(SEED, base + n, 1, catalog, utcnow())
            inserted_at = time.time()
            result = store.insert_batch([mention])
            assert result.first_id is not None
            while True:
                seen = json.loads(child.stdout.readline())
                if seen.get("seen") == result.first_id:
                    latencies.append(seen["at"] - inserted_at)
                    rss = seen["rss_mb"]
                    break
    child.kill()
    child.wait(10)
    return latencies, rss


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--inserts", type=int, default=50)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--watch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_child(args.child, args.watch))
        return

    measure(build(args.count, args.rebuild), args)


def measure(path: Path, args: argparse.Namespace) -> None:
    problems = check_plans(path)

    print("\ntime to first paint (fresh process, main screen 200×60):")
    paints = []
    for run in range(args.runs):
        paint = first_paint(path)
        paints.append(paint)
        print(f"  run {run + 1}: {paint['seconds']:.2f} s, peak RSS {paint['rss_mb']:.0f} MB")

    print(f"\ninsert-to-visible ({args.inserts} single inserts from this process):")
    latencies, rss = insert_to_visible(path, args.inserts)
    print(f"  min {min(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")

    print("\nmedians:")
    print(f"  mentions in the database    {args.count:,}")
    print(f"  first paint                 {statistics.median(p['seconds'] for p in paints):.2f} s")
    print(f"  peak RSS after first paint  {statistics.median(p['rss_mb'] for p in paints):.0f} MB")
    print(f"  insert-to-visible median    {statistics.median(latencies) * 1000:.0f} ms")
    print(f"  insert-to-visible p95       {p95(latencies) * 1000:.0f} ms")
    print(f"  peak RSS of the console after the inserts  {rss:.0f} MB")
    if problems:
        print("\nproblems:")
        for problem in problems:
            print(f"  {problem}")


if __name__ == "__main__":
    main()
