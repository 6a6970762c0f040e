"""The `smcc` command: a thin layer over the library.

Every command takes `--config PATH` and `--db PATH` (also accepted before the command name). Bad
input ends with one line per problem on stderr and a non-zero exit; never a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from smcc import __version__, cli_sentiment
from smcc import config as cfg
from smcc import ingest as ingest_mod
from smcc.jsonout import json_text
from smcc.models import Mention
from smcc.pipeline import PipelineError, PipelineStats
from smcc.sources import Source, SourceUnavailable, build_sources
from smcc.store import LeaseInfo, MentionFilter, Store, StoreError
from smcc.textclean import one_line
from smcc.transfer import dumps_stats, export_mentions, import_jsonl

EXIT_PROBLEM = 1
EXIT_USAGE = 2

# soft_wrap: one problem is one line, whatever the terminal width (scripts grep these lines).
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = EXIT_PROBLEM) -> NoReturn:
    err.print(Text(f"smcc: {message}", style="red"))
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# Shared options and context


class Ctx:
    def __init__(self) -> None:
        self.config_path: Path | None = None
        self.db_path: Path | None = None

    def config(self) -> tuple[cfg.Config, Path | None]:
        try:
            return cfg.load(self.config_path)
        except cfg.ConfigError as exc:
            for problem in exc.problems:
                err.print(Text(str(problem)))
            err.print(Text("smcc: fix the config (see `smcc config check`)", style="red"))
            sys.exit(EXIT_USAGE)

    def database(self, config: cfg.Config) -> Path:
        """--db, else $SMCC_DB, else [store] path, else smcc.db in the user data dir."""
        if self.db_path is not None:
            return self.db_path
        env = os.environ.get("SMCC_DB")
        if env:
            return Path(env)
        if config.store.path is not None:
            return config.store.path
        return cfg.user_data_dir() / "smcc.db"

    @contextmanager
    def store(self, config: cfg.Config, *, create: bool = True) -> Iterator[Store]:
        try:
            store = Store.open(self.database(config), create=create)
        except StoreError as exc:
            fail(str(exc))
        try:
            yield store
        finally:
            store.close()


def _remember(kind: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _: click.Parameter, value: Any) -> Any:
        if value is not None:
            setattr(ctx.ensure_object(Ctx), kind, value)
        return value

    return callback


def common(func: F) -> F:
    """--config and --db on every command (and on the group)."""
    func = click.option(
        "--db",
        type=click.Path(dir_okay=False, path_type=Path),
        callback=_remember("db_path"),
        expose_value=False,
        is_eager=True,
        help="SQLite database (default: $SMCC_DB, [store] path, or the user data dir).",
    )(func)
    return click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        callback=_remember("config_path"),
        expose_value=False,
        is_eager=True,
        help="config.toml to use (default: $SMCC_CONFIG, ./config.toml, user config dir).",
    )(func)


# Annotated so that modules registered below (cli_signals) can use it despite the import cycle.
pass_ctx: Callable[[Callable[..., Any]], Callable[..., Any]] = click.make_pass_decorator(
    Ctx, ensure=True
)


THEME_HELP = "Console theme: wall (high contrast, big counters) or a Textual theme name."


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="smcc")
@click.option("--theme", metavar="NAME", help=THEME_HELP)
@common
@click.pass_context
def main(ctx: click.Context, theme: str | None) -> None:
    """smcc — a social media command center for the terminal.

    Without a command, smcc opens the console and ingests from the configured sources in the same
    process (the built-in demo when nothing else is configured). When `smcc ingest` already runs
    on the database, the console only views, and takes over ingest if that process stops.
    """
    state = ctx.ensure_object(Ctx)
    if ctx.invoked_subcommand is None:
        open_console(state, theme)


# ---------------------------------------------------------------------------------------------
# config


@main.group("config")
def config_group() -> None:
    """Check or create config.toml."""


@config_group.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@common
@pass_ctx
def config_check(ctx: Ctx, path: Path | None) -> None:
    """Validate a config file: exit 0 when valid, else one line per problem and exit 2."""
    target = path or cfg.find_config(ctx.config_path)
    if target is None:
        out.print("no config file found; smcc uses its built-in demo config")
        return
    try:
        config = cfg.load_config(target)
    except cfg.ConfigError as exc:
        for problem in exc.problems:
            err.print(Text(str(problem)))
        sys.exit(EXIT_USAGE)
    out.print(
        Text(
            f"{target}: ok — {len(config.brands)} brands, {len(config.competitors)} competitors, "
            f"{len(config.sources)} sources, {len(config.departments)} departments, "
            f"{len(config.rules)} rules"
        )
    )


@config_group.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "--path",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write (default: the user config dir).",
)
def config_init(force: bool, target: Path | None) -> None:
    """Write the documented starter config to the user config dir."""
    target = target or cfg.user_config_path()
    if target.exists() and not force:
        fail(f"{target} exists; use --force to overwrite it", EXIT_PROBLEM)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(cfg.starter_config_text(), encoding="utf-8")
    out.print(Text(f"wrote {target}"))


# ---------------------------------------------------------------------------------------------
# ingest


_TIER_STYLE = {1: "bold red", 2: "yellow", 3: "dim"}


def _recent_table(recent: Iterable[Mention], rows: int) -> Table:
    """The latest mentions, newest first. Post text is untrusted: plain Text, one line, cleaned."""
    table = Table(title="latest mentions", title_justify="left", expand=True, show_edge=False)
    table.add_column("time", no_wrap=True)
    table.add_column("tier", no_wrap=True)
    table.add_column("lang", no_wrap=True)
    table.add_column("brand", no_wrap=True, max_width=14)
    table.add_column("author", no_wrap=True, max_width=18)
    table.add_column("text", no_wrap=True, overflow="ellipsis", ratio=1)
    for m in list(recent)[::-1][:rows]:
        tier = m.triage.tier if m.triage else None
        table.add_row(
            f"{m.created_at:%H:%M:%S}",
            Text(f"T{tier}" if tier else "-", style=_TIER_STYLE.get(tier or 0, "")),
            Text(m.language or "?"),
            Text(one_line(m.brand or "")),
            Text("@" + one_line(m.author.handle)),
            Text(one_line(m.text)),
        )
    return table


def _health_table(
    stats: PipelineStats,
    sources: list[Source],
    queued: int,
    store_error: str | None = None,
    rules_error: str | None = None,
) -> Table:
    now = time.monotonic()
    table = Table(title="smcc ingest", title_justify="left", expand=False)
    for column in ("source", "state", "fetched", "stored", "dupes", "rate/s", "detail"):
        table.add_column(column, justify="right" if column in ("fetched", "stored") else "left")
    for source in sources:
        s = stats.sources[source.name]
        health = source.health
        detail = health.reason
        if health.until is not None and health.state == "backing_off":
            detail = f"retry at {health.until:%H:%M:%S}: {detail}"
        elif health.warnings:
            detail = health.warnings[-1]
        table.add_row(
            Text(source.name),
            Text(health.state.value),
            f"{s.fetched:,}",
            f"{s.stored:,}",
            f"{s.duplicates:,}",
            f"{s.rate(now):,.0f}",
            Text(detail[:80]),
        )
    elapsed = now - stats.started
    if store_error:
        table.add_row(
            Text("store"), Text("retrying", style="red"), "", "", "", "", Text(store_error)
        )
    if rules_error:
        # An invalid edit of config.toml: the previous rules keep running (see smcc.rules.live).
        table.add_row(
            Text("rules"), Text("old rules", style="red"), "", "", "", "", Text(rules_error)
        )
    table.caption = (
        f"{stats.stored:,} stored in {elapsed:,.0f}s · {stats.batches:,} batches · "
        f"queue {queued:,} · Ctrl-C stops (all fetched mentions are kept)"
    )
    return table


@main.command("ingest")
@click.option("--source", "source_names", multiple=True, metavar="NAME", help="Only this source.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N new mentions.")
@click.option("--quiet", "-q", is_flag=True, help="No live table; print the summary only.")
@common
@pass_ctx
def ingest_cmd(ctx: Ctx, source_names: tuple[str, ...], limit: int | None, quiet: bool) -> None:
    """Run the sources headless into the database, with live rates."""
    config, config_path = ctx.config()
    try:
        sources = build_sources(config, source_names, limit=limit)
    except SourceUnavailable as exc:
        fail(str(exc), EXIT_USAGE)
    if not sources:
        fail("no enabled sources in the config; add one under [sources.NAME]", EXIT_USAGE)
    with ctx.store(config) as store:
        run = ingest_mod.prepare(config, store, sources, limit=limit, config_path=config_path)
        try:
            stats = asyncio.run(_ingest(run, sources, quiet))
        except PipelineError as exc:
            fail(f"ingest stopped: {exc} (everything stored before is kept)")
        for source in sources:
            health = source.health
            if health.state == "failing":
                err.print(Text(f"source {source.name}: failed: {health.reason}", style="red"))
            for warning in health.warnings[-10:]:
                err.print(Text(f"source {source.name}: {warning}", style="yellow"))
        out.print(
            Text(
                f"stored {stats.stored:,} new mentions ({stats.duplicates:,} duplicates skipped) "
                f"in {store.path}"
            )
        )


async def _ingest(run: ingest_mod.IngestRun, sources: list[Source], quiet: bool) -> PipelineStats:
    loop = asyncio.get_running_loop()
    interrupted = 0

    def on_signal() -> None:
        nonlocal interrupted
        interrupted += 1
        if interrupted > 1:
            # A second Ctrl-C while draining: stop now; committed batches are safe in the store.
            os._exit(130)
        run.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    announced = False

    def waiting(lease: LeaseInfo | None) -> None:
        # Said once (also with --quiet: a silent wait looks like a hang), then kept up to date
        # on a terminal.
        nonlocal announced
        if lease is None or (announced and (quiet or not err.is_terminal)):
            return
        announced = True
        err.print(
            Text(
                f"standby: {lease.holder} holds the ingest lease (until "
                f"{lease.expires_at:%H:%M:%S} UTC); taking over when it stops"
            ),
            end="\r" if err.is_terminal and not quiet else "\n",
        )

    task = asyncio.create_task(ingest_mod.run(run, on_wait=waiting))
    if quiet or not err.is_terminal:
        return await task

    def view() -> Group:
        pipeline = run.pipeline
        health = _health_table(
            pipeline.stats, sources, pipeline.queued, pipeline.store_error, run.rules.error
        )
        room = max(0, err.size.height - len(sources) - 10)
        return Group(health, _recent_table(pipeline.recent, room))

    with Live(console=err, refresh_per_second=4, transient=False, screen=False) as live:
        while not task.done():
            live.update(view())
            await asyncio.wait({task}, timeout=0.25)
        live.update(_health_table(run.pipeline.stats, sources, run.pipeline.queued))
    return task.result()


# ---------------------------------------------------------------------------------------------
# the console and its single-pane views (smcc.tui is imported only here: the rest of the CLI runs
# without Textual)

VIEWS = ("queue", "feed", "detail", "meters", "alerts", "calendar", "approvals")


def _need_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail("the console needs a terminal; for headless ingest run `smcc ingest`", EXIT_USAGE)


def _check_theme(theme: str | None) -> None:
    from smcc.tui.themes import theme_problem

    problem = theme_problem(theme)
    if problem:
        fail(problem, EXIT_USAGE)


def open_console(ctx: Ctx, theme: str | None = None) -> None:
    """Open the console with the embedded ingester (plain `smcc`)."""
    _check_theme(theme)
    _need_terminal()
    config, _ = ctx.config()
    if not config.enabled_sources():
        config.sources["demo"] = cfg.DemoSourceConfig()
    try:
        sources = build_sources(config, ())
    except SourceUnavailable as exc:
        fail(str(exc), EXIT_USAGE)
    from smcc.tui.launch import run_console

    with ctx.store(config) as store:
        failure = run_console(config, store, sources, theme=theme)
    if failure:
        fail(failure)


@main.command("view")
@click.argument("name", type=click.Choice(VIEWS))
@click.option("--tier", type=click.IntRange(1, 3), help="queue: only this tier.")
@click.option("--department", multiple=True, metavar="NAME", help="queue: only this department.")
@click.option("--theme", metavar="NAME", help=THEME_HELP)
@common
@pass_ctx
def view_cmd(
    ctx: Ctx, name: str, tier: int | None, department: tuple[str, ...], theme: str | None
) -> None:
    """One pane full-screen (for tmux walls): queue, feed, detail, meters, alerts, calendar
    (the week's posts) or approvals (the approvers' queue).

    A view reads and acts on the store and never ingests; `detail` follows the mention you
    select in a `queue` view in another terminal.
    """
    config, _ = ctx.config()
    unknown = unknown_departments(config, department)
    if unknown:
        fail(f"--department {unknown}", 2)
    _check_theme(theme)
    where = MentionFilter(departments=department) if department else None
    with ctx.store(config, create=False) as store:
        _need_terminal()
        from smcc.tui.launch import run_view

        run_view(config, store, name, tier=tier, where=where, theme=theme)


def unknown_departments(config: cfg.Config, departments: Iterable[str]) -> str | None:
    """The first department not in the config, worded for an error, or None."""
    for department in departments:
        if department not in config.departments:
            known = ", ".join(sorted(config.departments))
            return f"{department}: no such department in the config (known: {known})"
    return None


# ---------------------------------------------------------------------------------------------
# export, import, stats


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(
            f"{option} {value!r}: not a date/time; write e.g. 2026-11-23 or 2026-11-23T08:00+07:00"
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def filter_options(func: Callable[..., None]) -> Callable[..., None]:
    """The mention filters shared by export and stats, handed to the command as `where`."""

    @functools.wraps(func)
    def command(
        *args: Any,
        since: str | None,
        until: str | None,
        tier: tuple[int, ...],
        department: tuple[str, ...],
        brand: tuple[str, ...],
        source: tuple[str, ...],
        **kwargs: Any,
    ) -> None:
        where = MentionFilter(
            since=_parse_time(since, "--since"),
            until=_parse_time(until, "--until"),
            tiers=tier,
            departments=department,
            brands=brand,
            sources=source,
        )
        func(*args, where=where, **kwargs)

    options = (
        click.option(
            "--since", metavar="TIME", help="Created at or after (ISO 8601; UTC if no zone)."
        ),
        click.option("--until", metavar="TIME", help="Created before (ISO 8601)."),
        click.option("--tier", type=click.IntRange(1, 3), multiple=True, help="Tier 1, 2 or 3."),
        click.option("--department", multiple=True, metavar="NAME"),
        click.option("--brand", multiple=True, metavar="NAME"),
        click.option("--source", multiple=True, metavar="NAME"),
    )
    for option in reversed(options):
        command = option(command)
    return command


@main.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl", show_default=True
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File (default stdout)."
)
@filter_options
@common
@pass_ctx
def export_cmd(ctx: Ctx, fmt: str, output: Path | None, where: MentionFilter) -> None:
    """Write stored mentions as CSV or JSONL (JSONL can be imported and replayed)."""
    config, _ = ctx.config()
    with ctx.store(config, create=False) as store:
        if output is None:
            count = export_mentions(store, where, fmt, sys.stdout)
        else:
            try:
                with output.open("w", encoding="utf-8", newline="") as fh:
                    count = export_mentions(store, where, fmt, fh)
            except OSError as exc:
                fail(f"{output}: cannot write ({exc.strerror})")
    err.print(Text(f"exported {count:,} mentions"))


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@common
@pass_ctx
def import_cmd(ctx: Ctx, file: Path) -> None:
    """Import a JSONL file written by `smcc export`; bad lines are reported and skipped."""
    config, _ = ctx.config()
    try:
        with file.open("rb") as fh:
            total_lines = sum(1 for _ in fh)
    except OSError as exc:
        fail(f"{file}: cannot read ({exc.strerror})")
    with ctx.store(config) as store:
        progress = Progress(
            TextColumn("importing"),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,  # scripts read stderr for the bad-line reports only
        )
        with progress:
            task = progress.add_task("import", total=total_lines)
            result = import_jsonl(
                store, file, progress=lambda line: progress.update(task, completed=line)
            )
    for bad in result.bad:
        err.print(Text(bad.format(file)))
    out.print(
        Text(
            f"imported {result.imported:,} mentions, {result.duplicates:,} already stored, "
            f"{len(result.bad):,} bad lines"
        )
    )
    if result.bad:
        sys.exit(EXIT_PROBLEM)


@main.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@filter_options
@common
@pass_ctx
def stats_cmd(ctx: Ctx, as_json: bool, where: MentionFilter) -> None:
    """Counts of stored mentions by tier, department, source, language, status and brand."""
    config, _ = ctx.config()
    with ctx.store(config, create=False) as store:
        stats = store.stats(where)
    if as_json:
        click.echo(dumps_stats(stats))
        return
    out.print(Text(f"{stats['total']:,} mentions"))
    for key, title in (
        ("by_tier", "tier"),
        ("by_department", "department"),
        ("by_source", "source"),
        ("by_language", "language"),
        ("by_status", "status"),
        ("by_brand", "brand"),
    ):
        table = Table()
        table.add_column(title)
        table.add_column("count", justify="right")
        for name, count in stats[key].items():
            table.add_row(Text(name), f"{count:,}")
        out.print(table)


@main.command("analyze")
@common
@pass_ctx
def analyze_cmd(ctx: Ctx) -> None:
    """Analyse texts from stdin: one per line, or JSONL with a `text` field; JSON lines out.

    Each output line has lang, lang_confidence, sentiment, label, analyzer and is_question; an
    empty or undecodable line gives an object with an `error` field instead, and the run goes on.
    """
    from smcc.analysis.analyzer import MentionAnalyzer, analyze_line
    from smcc.analysis.sentiment.linear import ModelFileError

    config, _ = ctx.config()
    analyzer = MentionAnalyzer(config.analysis.languages)
    stdout = sys.stdout
    try:
        for raw in sys.stdin.buffer:
            stdout.write(json_text(analyze_line(raw, analyzer)))
            stdout.write("\n")
            stdout.flush()  # results as they come, for `tail -f … | smcc analyze`
    except ModelFileError as exc:  # a damaged install: say which file, not a traceback
        fail(str(exc))


# ---------------------------------------------------------------------------------------------
# eval, train (commands in smcc.cli_sentiment)


@main.group("eval")
def eval_group() -> None:
    """Measure analyzers against labelled data."""


@main.group("train")
def train_group() -> None:
    """Retrain the shipped models (needs the `train` extra)."""


eval_group.add_command(common(cli_sentiment.eval_sentiment))
train_group.add_command(common(cli_sentiment.train_sentiment))


# Signals (alerts, trends, share, hours) live in their own module; registered here.
from smcc.cli_signals import COMMANDS as _SIGNAL_COMMANDS  # noqa: E402

for _command in _SIGNAL_COMMANDS:
    main.add_command(_command)

# `smcc rules …` lives in its own module, which uses the helpers above (hence the late import).
from smcc.cli_rules import rules_group  # noqa: E402

main.add_command(rules_group)

from smcc.cli_doctor import doctor_cmd  # noqa: E402

main.add_command(doctor_cmd)

from smcc.cli_backfill import backfill_cmd  # noqa: E402

main.add_command(backfill_cmd)


def run() -> None:  # pragma: no cover - console entry for `python -m smcc`
    main()


__all__ = ["main"]


# `smcc wall` lives in its own module; imported last because it builds on the helpers above.
from smcc.cli_wall import wall_cmd  # noqa: E402

main.add_command(wall_cmd)

# The outbox from the shell: reply, post, schedule, outbox (cli_outbox.py).
from smcc.cli_outbox import COMMANDS as _OUTBOX_COMMANDS  # noqa: E402

for _outbox_command in _OUTBOX_COMMANDS:
    main.add_command(_outbox_command)
