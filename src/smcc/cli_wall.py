"""`smcc wall [--dry-run]`: build a tmux session of `smcc view` panes from the `[wall]` config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import click

from smcc.cli import (
    EXIT_USAGE,
    THEME_HELP,
    Ctx,
    common,
    fail,
    out,
    unknown_departments,
    view_cmd,
)
from smcc.config import Config
from smcc.wall import pane_args, plan_wall

pass_ctx = click.make_pass_decorator(Ctx, ensure=True)

FORBIDDEN = ("--config", "--db", "--theme")
"""Set by `smcc wall` for every pane; a pane entry must not set them itself."""


def _terminal_size() -> tuple[int, int] | None:
    """The size of the terminal `smcc wall` runs in (where the wall is usually attached), or
    None when it does not run in one."""
    for stream in (sys.stdout, sys.stdin):
        try:
            if stream.isatty():
                columns, rows = os.get_terminal_size(stream.fileno())
                return columns, rows
        except (OSError, ValueError):
            continue
    return None


def check_panes(config: Config) -> None:
    """Every pane entry must be valid `smcc view` arguments: checked before tmux starts anything,
    with the entry's place in the config in the message."""
    for w, window in enumerate(config.wall.windows):
        for p, pane in enumerate(window.panes):
            where = f"wall.windows[{w}].panes[{p}] ({pane!r})"
            try:
                args = pane_args(pane)
            except ValueError as exc:
                fail(f"{where}: {exc}", EXIT_USAGE)
            clash = next((a for a in args if a.split("=")[0] in FORBIDDEN), None)
            if clash:
                fail(f"{where}: {clash} is set by smcc wall for every pane; remove it", EXIT_USAGE)
            try:
                parsed = view_cmd.make_context("view", list(args))
            except click.ClickException as exc:
                fail(f"{where}: {exc.format_message()}", EXIT_USAGE)
            unknown = unknown_departments(config, parsed.params.get("department") or ())
            if unknown:
                fail(f"{where}: --department {unknown}", EXIT_USAGE)


def _tmux(socket: str | None) -> list[str]:
    return ["tmux", *(["-L", socket] if socket else [])]


@click.command("wall")
@click.option("--dry-run", is_flag=True, help="Print the tmux commands instead of running them.")
@click.option("--theme", metavar="NAME", help=THEME_HELP + " Default: [wall] theme.")
@click.option("--socket", "-L", metavar="NAME", help="tmux server socket name (tmux -L).")
@click.option("--no-attach", is_flag=True, help="Build the session but do not attach to it.")
@common
@pass_ctx
def wall_cmd(
    ctx: Ctx, dry_run: bool, theme: str | None, socket: str | None, no_attach: bool
) -> None:
    """Build a tmux wall from the [wall] section of the config.

    One window per [[wall.windows]] entry (one per monitor), its panes running `smcc view …` with
    the same --config and --db, and a window running `smcc ingest` when `ingest = true`.
    """
    config, config_path = ctx.config()
    wall = config.wall
    if not wall.windows and not wall.ingest:
        fail("the [wall] section has no windows and no ingest: nothing to build", EXIT_USAGE)
    check_panes(config)
    from smcc.tui.themes import theme_problem

    problem = theme_problem(theme or wall.theme)
    if problem:
        fail(problem if theme else f"wall.theme: {problem.removeprefix('--theme ')}", EXIT_USAGE)
    db = ctx.database(config).resolve()
    plan = plan_wall(
        wall,
        smcc=[sys.executable, "-m", "smcc"],
        config=config_path.resolve() if config_path is not None else None,
        db=db,
        theme=theme,
        size=_terminal_size(),
    )
    tmux = _tmux(socket)
    if dry_run:
        out.print(plan.script(tmux), markup=False, highlight=False)
        return
    if shutil.which("tmux") is None:
        fail("tmux is not installed; install it, or use --dry-run to see the commands")
    running = subprocess.run(
        [*tmux, "has-session", "-t", f"={plan.session}"], capture_output=True, check=False
    )
    if running.returncode == 0:
        fail(
            f"tmux session {plan.session!r} already exists; attach with "
            f"`tmux attach -t {plan.session}` or end it with `tmux kill-session -t {plan.session}`"
        )
    with ctx.store(config):
        pass  # create (or migrate) the database first: views open it read-only
    for command in plan.commands:
        result = subprocess.run(
            [*tmux, *command], capture_output=True, text=True, check=False, timeout=20
        )
        if result.returncode != 0:
            subprocess.run(
                [*tmux, "kill-session", "-t", f"={plan.session}"], capture_output=True, check=False
            )
            reason = result.stderr.strip() or f"exit {result.returncode}"
            fail(f"tmux {command[0]} failed ({reason}); nothing is left running")
    windows = len(wall.windows) + (1 if wall.ingest else 0)
    out.print(f"wall {plan.session!r} ready: {windows} windows", markup=False)
    if no_attach or not (sys.stdin.isatty() and sys.stdout.isatty()):
        out.print(f"attach with: {' '.join(tmux)} attach -t {plan.session}", markup=False)
        return
    verb = "switch-client" if os.environ.get("TMUX") else "attach-session"
    os.execvp(tmux[0], [*tmux, verb, "-t", plan.session])
