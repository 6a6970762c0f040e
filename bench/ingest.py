"""Ingest benchmark: the whole pipeline against a raw executemany of the same rows.

    python bench/ingest.py [--count 200000] [--runs 3]

Each trial runs in a fresh subprocess (so peak RSS is its own) against a fresh database file:
- pipeline: the demo source at full speed → normalise → dedupe → analyse (brand, language,
  sentiment, question, influence) → triage (the rules of config.toml) → terms (for trends and
  keyword spikes) → store, as `smcc ingest` runs it: the analyse stage and the SQLite writer each
  in a child process (`--in-process`: both in the ingest process, as before); CPU time of the
  ingest process and of its children is reported;
- foundation: the stages of the foundation issue alone, as the pipeline runs them: the demo
  source at full speed → normalise → dedupe → store (mentions, authors, full-text index, rollups,
  change counter and the source's cursor in one transaction per batch, written by the writer's
  child process as `smcc ingest` does); no analyse, triage or terms. Issue 2's goal for these
  stages is 50,000 mentions/s;
- raw: the same rows (generated and triaged beforehand, not timed) inserted with a plain
  `executemany` of one-row INSERTs (authors, then mentions) in transactions of the same batch size
  into the same schema, plus the full-text index fill the schema needs — the floor for the store.
- stages: each stage alone in one thread over the same batches, in CPU µs per mention — where the
  time goes.
Prints every trial, the stage breakdown, the medians, and the ratio pipeline/raw. `--foundation`
runs only the foundation trials. `--compare`
runs only pipeline trials, alternately with the child processes and without them, and prints both
medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from smcc.analysis.analyzer import MentionAnalyzer
from smcc.analysis.terms import TermExtractor
from smcc.childproc import Supervised, use_child_processes
from smcc.config import Config, DemoSourceConfig, default_config
from smcc.ingest import prepare
from smcc.models import utcnow
from smcc.pipeline import Pipeline, RecentKeys, normalise
from smcc.rules import RuleEngine
from smcc.sources.demo import DemoCatalog, DemoSource, demo_mentions, schedule_of
from smcc.store import Store, prepare_batch
from smcc.store.store import _INDEX_NEW, _INSERT_MENTION, _UPSERT_AUTHOR
from smcc.store.writer import WriterProcess

SEED = 7
T = TypeVar("T")


def _config() -> Config:
    config = default_config()
    config.sources = {"demo": DemoSourceConfig(rate=0, seed=SEED)}
    return config


def _catalog(config: Config) -> DemoCatalog:
    """The catalog the source builds (the stream depends on the demo's schedule)."""
    settings = config.sources["demo"]
    assert isinstance(settings, DemoSourceConfig)
    return DemoCatalog.build(
        "demo", config.brands, config.competitors, settings.languages, schedule_of(settings)
    )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ready(*stages: object) -> float:
    """Wait until the stages' child processes are set up; the seconds that took.

    A child's start-up (imports, models: 0.3 s for the writer, more for analyse) happens once
    per ingest, which then runs for hours: it is left out of the rate and printed apart."""
    started = time.perf_counter()
    for stage in stages:
        if isinstance(stage, Supervised):
            stage.wait_ready()
    return time.perf_counter() - started


def trial_pipeline(count: int, db: Path, in_process: bool = False) -> dict[str, Any]:
    config = _config()
    settings = config.sources["demo"]
    assert isinstance(settings, DemoSourceConfig)
    source = DemoSource("demo", settings, config.brands, config.competitors, limit=count)
    with Store.open(db) as store:
        run = prepare(config, store, [source])
        if in_process:
            run.close()
            run.pipeline.writer = None
            run.pipeline.analyzer = MentionAnalyzer(
                config.analysis.languages, config.brands, config.competitors
            )
        start_up = _ready(run.pipeline.analyzer, run.pipeline.writer)
        started, cpu_started = time.perf_counter(), time.process_time()
        stats = asyncio.run(run.pipeline.run())
        cpu = time.process_time() - cpu_started
        elapsed = time.perf_counter() - started
        stored = store.count_mentions()
        run.close()  # so that the child processes' peak RSS and CPU time are counted below
    assert stored == count == stats.stored, (stored, count, stats.stored)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_mb = children.ru_maxrss / 1024  # the larger of the two
    return {
        "kind": "pipeline",
        "count": count,
        "seconds": elapsed,
        "rss_mb": _peak_rss_mb(),
        "child_rss_mb": child_mb,
        "cpu_seconds": cpu,
        "child_cpu_seconds": children.ru_utime + children.ru_stime,
        "start_up_seconds": start_up,
    }


def trial_foundation(count: int, db: Path) -> dict[str, Any]:
    """demo → normalise → dedupe → store through the Pipeline, without analyse/triage/terms."""
    config = _config()
    settings = config.sources["demo"]
    assert isinstance(settings, DemoSourceConfig)
    source = DemoSource("demo", settings, config.brands, config.competitors, limit=count)
    with Store.open(db) as store:
        # The writer in its own process, as `smcc ingest` runs it on a machine with two cores.
        writer = WriterProcess(store) if use_child_processes() else None
        pipeline = Pipeline(store, [source], config.pipeline, writer=writer)
        start_up = _ready(writer)
        started, cpu_started = time.perf_counter(), time.process_time()
        stats = asyncio.run(pipeline.run())
        cpu = time.process_time() - cpu_started
        elapsed = time.perf_counter() - started
        if writer is not None:
            writer.close()  # so that its peak RSS and CPU time are counted below
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        stored = store.count_mentions()
    assert stored == count == stats.stored, (stored, count, stats.stored)
    return {
        "kind": "foundation",
        "count": count,
        "seconds": elapsed,
        "rss_mb": _peak_rss_mb(),
        "cpu_seconds": cpu,
        "child_rss_mb": children.ru_maxrss / 1024,
        "child_cpu_seconds": children.ru_utime + children.ru_stime,
        "start_up_seconds": start_up,
    }


def trial_raw(count: int, db: Path) -> dict[str, Any]:
    config = _config()
    catalog = _catalog(config)
    mentions = demo_mentions(SEED, 0, count, catalog, utcnow())
    RuleEngine(config).triage(mentions)  # the same rows the pipeline writes
    batch = config.pipeline.batch_size
    with Store.open(db) as store:
        prepared = [prepare_batch(mentions[i : i + batch]) for i in range(0, count, batch)]
        conn = store.conn
        started, cpu_started = time.perf_counter(), time.process_time()
        for rows in prepared:
            conn.execute("BEGIN IMMEDIATE")
            before = conn.execute("SELECT coalesce(max(id), 0) FROM mentions").fetchone()[0]
            conn.executemany(_UPSERT_AUTHOR, rows.authors)
            conn.executemany(_INSERT_MENTION, rows.mentions)
            conn.execute(_INDEX_NEW, (before,))
            conn.execute("COMMIT")
        cpu = time.process_time() - cpu_started
        elapsed = time.perf_counter() - started
        assert store.count_mentions() == count
    return {
        "kind": "raw",
        "count": count,
        "seconds": elapsed,
        "rss_mb": _peak_rss_mb(),
        "cpu_seconds": cpu,
    }


def trial_stages(count: int, db: Path) -> dict[str, Any]:
    """Where the time goes: each stage run alone, in one thread, over the same batches."""
    config = _config()
    catalog = _catalog(config)
    recent, tagger, triager = (
        RecentKeys(),
        MentionAnalyzer(config.analysis.languages, config.brands, config.competitors),
        RuleEngine(config),
    )
    extractor = TermExtractor(config.brands, config.competitors)
    spent: dict[str, float] = {}

    def timed(stage: str, func: Callable[..., T], *args: Any) -> T:
        started = time.process_time()
        result = func(*args)
        spent[stage] = spent.get(stage, 0.0) + time.process_time() - started
        return result

    batch = config.pipeline.batch_size
    with Store.open(db) as store:
        for i in range(0, count, batch):
            mentions = timed("generate (demo)", demo_mentions, SEED, i, batch, catalog, utcnow())
            timed("normalise", normalise, mentions)
            mentions = timed("dedupe", recent.fresh, mentions)
            timed("analyse (lang, sentiment, …)", tagger.analyse, mentions)
            timed("triage (rules)", triager.triage, mentions)
            terms = timed("terms (trends, keywords)", extractor.batch, mentions)
            rows = timed("rows for SQL", prepare_batch, mentions, terms)
            timed("store (SQL)", store.insert_prepared, rows, {"demo": str(i + batch - 1)})
    return {
        "kind": "stages",
        "count": count,
        "us_per_mention": {stage: seconds / count * 1e6 for stage, seconds in spent.items()},
    }


def run_trial(kind: str, count: int, in_process: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [
                sys.executable,
                __file__,
                "--trial",
                kind,
                "--count",
                str(count),
                "--db",
                f"{tmp}/b.db",
                *(["--in-process"] if in_process else []),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        sys.exit(f"{kind} trial failed:\n{result.stderr}")
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def compare(count: int, runs: int) -> None:
    """Pipeline trials back to back, with analyse and the writer in child processes or not."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    for run in range(1, runs + 1):
        for in_process in (True, False):
            r = run_trial("pipeline", count, in_process)
            rate = count / r["seconds"]
            cpu = (r["cpu_seconds"] + r["child_cpu_seconds"]) / count * 1e6
            rates[in_process].append(rate)
            cpus[in_process].append(cpu)
            where = "in the ingest process" if in_process else "in child processes"
            print(
                f"run {run} analyse and writer {where:21} {rate:,.0f} mentions/s, "
                f"CPU {cpu:.0f} µs/mention, peak RSS {r['rss_mb']:.0f} MB",
                flush=True,
            )
    for in_process in (False, True):
        where = "in the ingest process" if in_process else "in child processes"
        print(
            f"median, analyse and writer {where:21} "
            f"{statistics.median(rates[in_process]):,.0f} mentions/s, "
            f"CPU {statistics.median(cpus[in_process]):.0f} µs/mention"
        )


def _describe(r: dict[str, Any]) -> str:
    """One trial's line: rate, peak RSS and (where measured) CPU time per mention."""
    line = (
        f"{r['kind']:10} {r['count']:,} mentions in {r['seconds']:.2f}s = "
        f"{r['count'] / r['seconds']:,.0f}/s, peak RSS {r['rss_mb']:.0f} MB"
    )
    if r.get("child_rss_mb"):
        line += f" (+ {r['child_rss_mb']:.0f} MB the larger child process)"
    if "cpu_seconds" in r:
        line += f"; CPU {r['cpu_seconds'] / r['count'] * 1e6:.1f} µs/mention"
    if "child_cpu_seconds" in r:
        line += f" + {r['child_cpu_seconds'] / r['count'] * 1e6:.1f} in child processes"
    if r.get("start_up_seconds"):
        line += f"; children set up in {r['start_up_seconds']:.2f}s before the clock started"
    return line


def _foundation_median(runs: list[dict[str, Any]]) -> str:
    rate = statistics.median(r["count"] / r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu_seconds"] / r["count"] * 1e6 for r in runs)
    child = statistics.median(r.get("child_cpu_seconds", 0.0) / r["count"] * 1e6 for r in runs)
    rss = statistics.median(r["rss_mb"] for r in runs)
    return (
        f"median foundation stages (demo → normalise → dedupe → store): {rate:,.0f} mentions/s "
        f"(goal 50,000), CPU {cpu:.1f} µs/mention in the ingest process + {child:.1f} in the "
        f"writer process, peak RSS {rss:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--trial", choices=["pipeline", "foundation", "raw", "stages"], help=argparse.SUPPRESS
    )
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--compare",
        action="store_true",
        help="only the pipeline, alternately with the child processes (analyse, writer) and not",
    )
    parser.add_argument(
        "--foundation",
        action="store_true",
        help="only the foundation stages (demo → normalise → dedupe → store)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the analyse stage and the writer in the ingest process (as before)",
    )
    args = parser.parse_args()
    if args.trial:
        if args.trial == "pipeline":
            print(json.dumps(trial_pipeline(args.count, args.db, args.in_process)))
        else:
            trial = {"foundation": trial_foundation, "raw": trial_raw, "stages": trial_stages}
            print(json.dumps(trial[args.trial](args.count, args.db)))
        return

    if args.compare:
        compare(args.count, args.runs)
        return
    kinds = ("foundation",) if args.foundation else ("pipeline", "foundation", "raw")
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for run in range(1, args.runs + 1):
        for kind in kinds:
            r = run_trial(kind, args.count, args.in_process)
            results[kind].append(r)
            print(f"run {run} {_describe(r)}", flush=True)
    if args.foundation:
        print(_foundation_median(results["foundation"]))
        return
    med = {
        kind: statistics.median(r["count"] / r["seconds"] for r in rs)
        for kind, rs in results.items()
    }
    rss = {kind: statistics.median(r["rss_mb"] for r in rs) for kind, rs in results.items()}
    stages = run_trial("stages", args.count)["us_per_mention"]
    print("where the time goes (each stage alone, one thread, CPU µs per mention):")
    for stage, micros in stages.items():
        print(f"  {stage:28} {micros:6.1f}")
    print(f"  {'sum':28} {sum(stages.values()):6.1f}")
    pipeline_runs = results["pipeline"]
    cpu = statistics.median(r["cpu_seconds"] / r["count"] * 1e6 for r in pipeline_runs)
    child_cpu = statistics.median(r["child_cpu_seconds"] / r["count"] * 1e6 for r in pipeline_runs)
    child_rss = statistics.median(r["child_rss_mb"] for r in pipeline_runs)
    print(
        f"median pipeline CPU: {cpu:.0f} µs per mention in the ingest process + {child_cpu:.0f} "
        f"in its child processes = {1e6 / (cpu + child_cpu):,.0f} mentions per CPU-second; "
        f"the larger child's peak RSS {child_rss:.0f} MB"
    )
    print(_foundation_median(results["foundation"]))
    print(
        f"median pipeline: {med['pipeline']:,.0f} mentions/s, peak RSS {rss['pipeline']:.0f} MB\n"
        f"median raw executemany: {med['raw']:,.0f} rows/s, peak RSS {rss['raw']:.0f} MB\n"
        f"pipeline / raw: {med['pipeline'] / med['raw']:.2f}"
    )


if __name__ == "__main__":
    main()
