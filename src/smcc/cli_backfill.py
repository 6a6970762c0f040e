"""`smcc backfill SOURCE --since TIME [--until TIME] [--limit N]`: history into the store."""

from __future__ import annotations

import asyncio
import re
import signal
from datetime import UTC, datetime, timedelta

import click
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from smcc.backfill import BackfillSource, prepare_backfill
from smcc.cli import EXIT_PROBLEM, EXIT_USAGE, Ctx, common, err, fail, out, pass_ctx
from smcc.ingest import IngestRun
from smcc.models import utcnow
from smcc.pipeline import PipelineError, PipelineStats
from smcc.sources import SourceUnavailable, build_source
from smcc.sources.base import HealthState, Source

AGE = re.compile(r"^(\d+)\s*([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str, option: str, now: datetime) -> datetime:
    """An ISO 8601 date/time (UTC when no zone is given) or an age such as 90m, 36h, 7d, 2w."""
    age = AGE.match(value.strip().lower())
    if age:
        return now - timedelta(**{UNITS[age.group(2)]: int(age.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(
            f"{option} {value!r}: not a time; write e.g. 2026-11-20, 2026-11-20T08:00+07:00 "
            "or an age such as 36h or 7d",
            EXIT_USAGE,
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def supports_backfill(source: Source) -> bool:
    return type(source).backfill is not Source.backfill


@click.command("backfill")
@click.argument("source_name", metavar="SOURCE")
@click.option("--since", required=True, metavar="TIME", help="Oldest time (ISO 8601 or 7d/36h).")
@click.option("--until", metavar="TIME", help="Newest time (default: now).")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N mentions fetched.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars; print the summary only.")
@common
@pass_ctx
def backfill_cmd(
    ctx: Ctx, source_name: str, since: str, until: str | None, limit: int | None, quiet: bool
) -> None:
    """Fetch SOURCE's history from --since to --until through the ingest pipeline.

    Live cursors are left as they are, reruns store nothing twice, and it may run beside
    `smcc ingest`.
    """
    now = utcnow()
    start = parse_when(since, "--since", now)
    end = parse_when(until, "--until", now) if until else now
    if start >= end:
        fail(
            f"--since ({start:%Y-%m-%d %H:%M}Z) must be before --until ({end:%Y-%m-%d %H:%M}Z)",
            EXIT_USAGE,
        )
    config, _ = ctx.config()
    settings = config.sources.get(source_name)
    if settings is None:
        known = ", ".join(config.sources) or "none configured"
        fail(f"no source named '{source_name}' in the config (known: {known})", EXIT_USAGE)
    try:
        source = build_source(source_name, settings, config)
    except SourceUnavailable as exc:
        fail(str(exc), EXIT_USAGE)
    if not supports_backfill(source):
        fail(
            f"source '{source_name}' ({settings.type}) has no history to fetch; "
            "backfill works for mastodon, twitter, bluesky, reddit and rss sources",
            EXIT_USAGE,
        )
    if source.backfill_limits:
        err.print(Text(f"{source_name} ({settings.type}): {source.backfill_limits}", style="dim"))
    with ctx.store(config) as store:
        run, history = prepare_backfill(config, store, source, start, end, limit=limit)
        try:
            stats = asyncio.run(_backfill(run, history, quiet))
        except PipelineError as exc:
            fail(f"backfill stopped: {exc} (everything stored before is kept)")
        health = source.health
        for warning in health.warnings[-10:]:
            err.print(Text(f"source {source_name}: {warning}", style="yellow"))
        fetched = sum(p.fetched for p in history.timelines.values())
        out.print(
            Text(
                f"backfilled {source_name} from {start:%Y-%m-%d %H:%M}Z to {end:%Y-%m-%d %H:%M}Z: "
                f"{fetched:,} fetched, {stats.stored:,} new mentions stored, "
                f"{stats.duplicates:,} already stored, in {store.path}"
            )
        )
        if health.state is HealthState.FAILING:
            fail(f"source {source_name}: failed: {health.reason}", EXIT_PROBLEM)


async def _backfill(run: IngestRun, history: BackfillSource, quiet: bool) -> PipelineStats:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, run.stop)
    task = asyncio.create_task(run.pipeline.run())
    if quiet or not err.is_terminal:
        return await task
    span = max(1.0, (history.until - history.since).total_seconds())
    bars: dict[str, TaskID] = {}
    said = ""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[back_to]}"),
        TextColumn("{task.fields[count]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        while True:
            for key, state in history.timelines.items():
                if key not in bars:
                    bars[key] = progress.add_task(Text(key).plain, total=span, back_to="", count="")
                reached = state.oldest or history.until
                done = span if state.done else (history.until - reached).total_seconds()
                progress.update(
                    bars[key],
                    completed=min(span, max(0.0, done)),
                    back_to=f"back to {max(reached, history.since):%Y-%m-%d %H:%M}Z",
                    count=f"{state.kept:,} in range",
                )
            health = history.health
            if health.state is HealthState.BACKING_OFF and health.reason != said:
                said = health.reason
                until = f" until {health.until:%H:%M:%S}Z" if health.until else ""
                progress.console.print(Text(f"backing off{until}: {said}", style="yellow"))
            if task.done():
                break
            await asyncio.wait({task}, timeout=0.25)
    return task.result()
