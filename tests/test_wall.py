"""`smcc wall`: the tmux commands from `[wall]`, --dry-run, the refusals, and a real tmux server
on a private socket (skipped when tmux is missing)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from console_seed import CONFIG_TOML
from smcc import config as cfg
from smcc.cli import main
from smcc.config import parse_config
from smcc.wall import plan_wall

WALL = """
[wall]
session = "ops"

[[wall.windows]]
name = "triage"
layout = "main-vertical"
panes = ["queue --tier 1", "queue --tier 2 --department support", "detail"]

[[wall.windows]]
name = "overview"
layout = "tiled"
panes = ["feed", "meters"]
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(cfg, "user_config_path", lambda: tmp_path / "user-config" / "config.toml")
    monkeypatch.setattr(cfg, "user_data_dir", lambda: tmp_path / "user-data")
    for name in ("SMCC_CONFIG", "SMCC_DB", "TMUX"):
        monkeypatch.delenv(name, raising=False)
    return cwd


def run(tmp_path: Path, wall: str, *args: str) -> Result:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML + wall, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["--config", str(config), "--db", str(tmp_path / "wall.db"), "wall", *args]
    )
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None)
    return result


def test_plan_has_one_window_per_monitor_with_its_panes_and_the_ingester(tmp_path: Path) -> None:
    wall = parse_config(CONFIG_TOML + WALL).wall
    plan = plan_wall(wall, smcc=["smcc"], config=Path("/c.toml"), db=Path("/d.db"))
    verbs = [c[0] for c in plan.commands]
    assert verbs.count("new-session") == 1
    assert verbs.count("new-window") == 2  # overview, ingest
    assert verbs.count("split-window") == 3  # 2 in triage, 1 in overview
    first = plan.commands[0]
    assert first[:6] == ["new-session", "-d", "-s", "ops", "-n", "triage"]
    assert shlex.split(first[6]) == [
        *("smcc", "--config", "/c.toml", "--db", "/d.db"),
        *("view", "queue", "--tier", "1", "--theme", "wall"),
    ]
    ingest = plan.commands[verbs.index("new-window", verbs.index("new-window") + 1)]
    assert ingest[-2:] == ["ingest", "smcc --config /c.toml --db /d.db ingest"]
    assert ["select-layout", "-t", "ops:triage", "main-vertical"] in plan.commands
    assert plan.commands[-1] == ["select-window", "-t", "ops:triage"]


def test_plan_lays_the_session_out_at_the_terminal_size_when_given() -> None:
    wall = parse_config(CONFIG_TOML + WALL).wall
    plan = plan_wall(wall, smcc=["smcc"], config=None, db=Path("/d.db"), size=(240, 67))
    assert plan.commands[0][:8] == ["new-session", "-d", "-x", "240", "-y", "67", "-s", "ops"]
    unsized = plan_wall(wall, smcc=["smcc"], config=None, db=Path("/d.db"))
    assert "-x" not in unsized.commands[0]  # not in a terminal: tmux's default size


def test_theme_option_overrides_the_config_and_no_ingest_window(tmp_path: Path) -> None:
    wall = parse_config(CONFIG_TOML + WALL.replace('"ops"', '"ops"\ningest = false')).wall
    plan = plan_wall(wall, smcc=["smcc"], config=None, db=Path("/d.db"), theme="nord")
    script = plan.script(["tmux", "-L", "x"])
    assert "--theme nord" in script
    assert "--theme wall" not in script
    assert " ingest" not in script
    assert "--config" not in script  # the built-in config: nothing to pass
    assert all(line.startswith("tmux -L x ") for line in script.splitlines())


def test_dry_run_prints_the_tmux_commands(tmp_path: Path) -> None:
    result = run(tmp_path, WALL, "--dry-run", "-L", "mine")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tmux -L mine new-session -d -s ops -n triage ")
    assert sum("split-window" in line for line in lines) == 3
    assert f"--db {tmp_path / 'wall.db'}" in lines[0]
    assert f"--config {tmp_path / 'config.toml'}" in lines[0]
    assert not (tmp_path / "wall.db").exists()  # a dry run touches nothing


@pytest.mark.parametrize(
    ("wall", "message"),
    [
        (
            WALL.replace('"detail"', '"calender"'),
            "wall.windows[0].panes[2] ('calender'): Invalid value",
        ),
        (
            WALL.replace('"feed"', '"feed --db other.db"'),
            "wall.windows[1].panes[0] ('feed --db other.db'): --db is set by smcc wall",
        ),
        (
            WALL.replace("support", "legal"),
            "wall.windows[0].panes[1] ('queue --tier 2 --department legal'): --department legal: "
            "no such department",
        ),
        (WALL.replace('"ops"', '"ops"\ntheme = "neon"'), "wall.theme: neon: no such theme"),
        ("[wall]\ningest = false\n", "the [wall] section has no windows and no ingest"),
    ],
)
def test_bad_wall_config_is_refused_in_one_line(tmp_path: Path, wall: str, message: str) -> None:
    result = run(tmp_path, wall, "--dry-run")
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_view_refuses_an_unknown_theme(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "view", "feed", "--theme", "neon"])
    assert result.exit_code == 2
    assert result.stderr.startswith("smcc: --theme neon: no such theme (choose one of ")


@pytest.fixture
def socket(tmp_path: Path) -> Iterator[str]:
    name = f"smcc-wall-{os.getpid()}-{tmp_path.name}"
    yield name
    subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, timeout=10)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_wall_builds_the_windows_and_panes_in_tmux(tmp_path: Path, socket: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG_TOML + WALL + "\n[sources.demo]\nrate = 5\n", encoding="utf-8")
    db = tmp_path / "wall.db"
    smcc = [sys.executable, "-m", "smcc", "--config", str(config), "--db", str(db)]
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    env.pop("TMUX", None)
    done = subprocess.run(
        [*smcc, "wall", "-L", socket], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "wall 'ops' ready: 3 windows" in done.stdout
    assert db.exists()  # created before the views start

    listing = subprocess.run(
        ["tmux", "-L", socket, "list-panes", "-s", "-t", "ops", "-F",
         "#{window_name}\t#{pane_start_command}"],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout  # fmt: skip
    panes = [line.split("\t") for line in listing.splitlines()]
    assert [w for w, _ in panes] == ["triage"] * 3 + ["overview"] * 2 + ["ingest"]
    commands = [shlex.split(c.strip('"')) for _, c in panes]
    tails = [c[c.index("--db") + 2 :] for c in commands]
    assert tails == [
        ["view", "queue", "--tier", "1", "--theme", "wall"],
        ["view", "queue", "--tier", "2", "--department", "support", "--theme", "wall"],
        ["view", "detail", "--theme", "wall"],
        ["view", "feed", "--theme", "wall"],
        ["view", "meters", "--theme", "wall"],
        ["ingest"],
    ]
    assert all(c[c.index("--db") + 1] == str(db) for c in commands)

    again = subprocess.run(
        [*smcc, "wall", "-L", socket], capture_output=True, text=True, timeout=60, env=env
    )
    assert again.returncode == 1
    assert "tmux session 'ops' already exists" in again.stderr
