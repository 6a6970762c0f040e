"""Producer-side benchmark: what the ingest process itself spends on a mention, in CPU µs.

    python bench/producer.py [--count 200000] [--runs 3]

With the SQLite write in a process of its own, the ingest process of the foundation stages (issue
2, point 10) still runs the demo source, normalise, dedupe and the rows for SQL: ≈ 14 µs of CPU a
mention at most leaves room for 50,000 mentions/s. This times each of them as the pipeline runs
them: the demo source's own stream at full speed (pages of 256 with demo times), pages gathered
into batches of the pipeline's size, the pipeline's garbage-collector threshold, no analyse, triage
or terms; and the freeing of each batch (done when the next one is made), which the pipeline pays
too. Each run in a fresh process; prints every run and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from smcc.config import DemoSourceConfig, default_config
from smcc.models import Mention
from smcc.pipeline import GC_THRESHOLD, RecentKeys, normalise
from smcc.sources.demo import DemoSource
from smcc.store import PreparedBatch, prepare_batch

SEED = 7
STAGES = ("demo source", "normalise", "dedupe", "rows for SQL", "freeing a batch")


async def trial(count: int) -> dict[str, float]:
    """CPU µs a mention of each stage over `count` mentions."""
    config = default_config()
    settings = DemoSourceConfig(rate=0, seed=SEED)
    source = DemoSource("demo", settings, config.brands, config.competitors, limit=count)
    batch_size = config.pipeline.batch_size
    recent = RecentKeys()
    spent = dict.fromkeys(STAGES, 0.0)
    clock = time.process_time
    pending: list[Mention] = []
    done: tuple[list[Mention], PreparedBatch] | None = None

    def process(batch: list[Mention]) -> None:
        nonlocal done
        t0 = clock()
        done = None  # the batch before, written by now
        t1 = clock()
        normalise(batch)
        t2 = clock()
        fresh = recent.fresh(batch)
        t3 = clock()
        done = (fresh, prepare_batch(fresh))
        t4 = clock()
        for stage, seconds in zip(STAGES[1:], (t2 - t1, t3 - t2, t4 - t3, t1 - t0), strict=True):
            spent[stage] += seconds

    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])  # as `Pipeline.run` does
    waited = clock()
    async for fetched in source.stream(None):
        spent["demo source"] += clock() - waited
        pending.extend(fetched.mentions)
        if len(pending) >= batch_size:  # pages are taken whole, as by the pipeline's buffer
            process(pending)
            pending = []
        waited = clock()
    if pending:
        process(pending)
    return {stage: seconds / count * 1e6 for stage, seconds in spent.items()}


def run_trial(count: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--trial", "--count", str(count)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"trial failed:\n{result.stderr}")
    data: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trial", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trial:
        print(json.dumps(asyncio.run(trial(args.count))))
        return
    runs: list[dict[str, Any]] = []
    for run in range(1, args.runs + 1):
        r = run_trial(args.count)
        runs.append(r)
        figures = ", ".join(f"{stage} {micros:.2f}" for stage, micros in r.items())
        print(f"run {run}: {figures}; sum {sum(r.values()):.2f} µs a mention", flush=True)
    print(f"medians of {args.runs} runs of {args.count:,} mentions, CPU µs a mention:")
    medians = {stage: statistics.median(r[stage] for r in runs) for stage in STAGES}
    for stage, micros in medians.items():
        print(f"  {stage:16} {micros:6.2f}")
    total = statistics.median(sum(r.values()) for r in runs)
    print(f"  {'sum':16} {total:6.2f}  (= {1e6 / total:,.0f} mentions per CPU-second)")


if __name__ == "__main__":
    main()
