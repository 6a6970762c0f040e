"""`smcc` (the console) and `smcc view` from the command line: the refusals, in one line each.

The console itself is exercised by the Pilot tests and, in a real terminal, by the tmux tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from console_seed import CONFIG_TOML, seeded_store
from smcc import config as cfg
from smcc.cli import main


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(cfg, "user_config_path", lambda: tmp_path / "user-config" / "config.toml")
    monkeypatch.setattr(cfg, "user_data_dir", lambda: tmp_path / "user-data")
    for name in ("SMCC_CONFIG", "SMCC_DB"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config.toml").write_text(CONFIG_TOML, encoding="utf-8")
    return cwd


def run(tmp_path: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "config.toml"), *args])
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None)
    return result


def test_console_needs_a_terminal(tmp_path: Path) -> None:
    result = run(tmp_path, "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "smcc: the console needs a terminal; for headless ingest run `smcc ingest`"
    )


def test_view_names_are_checked(tmp_path: Path) -> None:
    result = run(tmp_path, "view", "calender")
    assert result.exit_code == 2
    assert (
        "'calender' is not one of 'queue', 'feed', 'detail', 'meters', 'alerts', 'calendar', "
        "'approvals'" in result.stderr
    )


def test_view_of_an_unknown_department(tmp_path: Path) -> None:
    seeded_store(tmp_path / "x.db").close()
    result = run(tmp_path, "--db", str(tmp_path / "x.db"), "view", "queue", "--department", "hr")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "smcc: --department hr: no such department in the config (known: social, support)"
    )


def test_view_of_a_missing_database(tmp_path: Path) -> None:
    result = run(tmp_path, "--db", str(tmp_path / "none.db"), "view", "feed")
    assert result.exit_code == 1
    assert "no such database; run `smcc ingest` first" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_view_outside_a_terminal(tmp_path: Path) -> None:
    seeded_store(tmp_path / "x.db").close()
    result = run(tmp_path, "--db", str(tmp_path / "x.db"), "view", "queue", "--tier", "1")
    assert result.exit_code == 2
    assert "the console needs a terminal" in result.stderr
