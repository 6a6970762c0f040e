"""`smcc wall`: the tmux commands that build a wall from the `[wall]` section of the config.

One tmux window per `[[wall.windows]]` entry (one per monitor), one pane per entry of its `panes`
running `smcc view …` with the same --config and --db, laid out with the window's tmux layout;
plus a window running `smcc ingest` when `ingest = true`. Pure: builds argument lists, runs
nothing (the CLI runs them, or prints them for --dry-run).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from smcc.config import Wall

INGEST_WINDOW = "ingest"


@dataclass(frozen=True)
class WallPlan:
    session: str
    commands: list[list[str]]
    """tmux invocations in order, without the leading `tmux` and socket options."""

    def script(self, tmux: Sequence[str] = ("tmux",)) -> str:
        """The commands as a shell script (what --dry-run prints)."""
        return "\n".join(shlex.join([*tmux, *c]) for c in self.commands)


def smcc_command(
    smcc: Sequence[str], config: Path | None, db: Path, *args: str, theme: str | None = None
) -> str:
    """One shell command running smcc with the wall's --config and --db (tmux runs it in a pane;
    the pane stays open with the message if smcc exits, so a mistake is readable)."""
    argv = [*smcc]
    if config is not None:
        argv += ["--config", str(config)]
    argv += ["--db", str(db), *args]
    if theme is not None:
        argv += ["--theme", theme]
    return shlex.join(argv)


def plan_wall(
    wall: Wall,
    *,
    smcc: Sequence[str],
    config: Path | None,
    db: Path,
    theme: str | None = None,
    size: tuple[int, int] | None = None,
) -> WallPlan:
    """The tmux commands for `wall`; `theme` overrides `wall.theme`. Pane arguments are split
    like a shell would ("queue --tier 1" → view queue --tier 1); the caller checks them.

    `size` (columns, rows) is the terminal the wall will be shown in: a detached session is
    otherwise laid out at tmux's default 80×24, and the layouts' side panes keep the few
    columns they got there after the window grows."""
    sized = ["-x", str(size[0]), "-y", str(size[1])] if size is not None else []
    session = wall.session
    theme = theme or wall.theme
    commands: list[list[str]] = []
    first = True
    for window in wall.windows:
        panes = [
            smcc_command(smcc, config, db, "view", *shlex.split(pane), theme=theme)
            for pane in window.panes
        ]
        target = f"{session}:{window.name}"
        if first:
            commands.append(
                ["new-session", "-d", *sized, "-s", session, "-n", window.name, panes[0]]
            )
            # A pane whose command fails stays open with its message instead of vanishing.
            commands.append(["set-option", "-t", session, "remain-on-exit", "on"])
            first = False
        else:
            commands.append(["new-window", "-d", "-t", f"{session}:", "-n", window.name, panes[0]])
        for pane in panes[1:]:
            # Without -d the new pane becomes the active one and the next split follows it, so
            # the panes keep the config's order (whatever the user's pane-base-index).
            commands.append(["split-window", "-t", target, pane])
            # Re-layout after each split so that the next split has room.
            commands.append(["select-layout", "-t", target, window.layout])
        if len(panes) == 1:
            commands.append(["select-layout", "-t", target, window.layout])
        commands.append(["select-pane", "-t", f"{target}.{{top-left}}"])
    if wall.ingest:
        ingest = smcc_command(smcc, config, db, "ingest")
        if first:
            commands.append(
                ["new-session", "-d", *sized, "-s", session, "-n", INGEST_WINDOW, ingest]
            )
            commands.append(["set-option", "-t", session, "remain-on-exit", "on"])
        else:
            commands.append(["new-window", "-d", "-t", f"{session}:", "-n", INGEST_WINDOW, ingest])
    if wall.windows:
        commands.append(["select-window", "-t", f"{session}:{wall.windows[0].name}"])
    return WallPlan(session, commands)


def pane_args(pane: str) -> list[str]:
    """The `smcc view` arguments of one pane entry (raises ValueError on bad quoting)."""
    return shlex.split(pane)
