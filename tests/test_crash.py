"""Crash safety: `smcc ingest` killed with SIGKILL at several points loses and repeats nothing.

The demo stream is deterministic, so after every kill and restart the stored mentions must be
exactly the first K mentions of the demo sequence, in order, for some K — no gap (a lost mention),
no repeat (a duplicate) — and the stored cursor must say K-1.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from smcc.config import Config, DemoSourceConfig, load_config
from smcc.sources.demo import DemoCatalog, expected_mentions, schedule_of

SEED = 11
RATE = 1500

CONFIG = f"""
[[brands]]
name = "Nusantel"
keywords = ["nusantel"]
hashtags = ["#nusantel"]
handles = ["@nusantel"]

[[competitors]]
name = "Tarawa Mobile"
keywords = ["tarawa"]

[sources.demo]
rate = {RATE}
seed = {SEED}

[pipeline]
batch_size = 100
batch_interval = "50ms"
"""


def _catalog(config: Config) -> DemoCatalog:
    """The catalog the source builds: the stream depends on the demo's schedule (its rate)."""
    settings = config.sources["demo"]
    assert isinstance(settings, DemoSourceConfig)
    return DemoCatalog.build(
        "demo", config.brands, config.competitors, settings.languages, schedule_of(settings)
    )


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM mentions").fetchone()[0])
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def _ingest(config: Path, db: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SMCC_CONFIG": str(config)}
    return subprocess.Popen(
        [sys.executable, "-m", "smcc", "ingest", "--db", str(db), "--quiet", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _stored(db: Path) -> tuple[list[tuple[str, str, str]], str | None]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT external_id, text, author_handle FROM mentions ORDER BY id"
        ).fetchall()
        cursor = conn.execute("SELECT cursor FROM cursors WHERE source = 'demo'").fetchone()
    return [tuple(r) for r in rows], (cursor[0] if cursor else None)


def test_sigkill_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    config = load_config(config_path)
    db = tmp_path / "crash.db"
    catalog = _catalog(config)

    def check() -> int:
        rows, cursor = _stored(db)
        expected = expected_mentions(SEED, len(rows), catalog, "demo")
        assert rows == [(m.external_id, m.text, m.author.handle) for m in expected]
        assert cursor == (str(len(rows) - 1) if rows else None)
        return len(rows)

    # Kill at several points: early (maybe before the first commit), and mid-stream later on.
    seen = 0
    for threshold in (0, 300, 900, 1600):
        proc = _ingest(config_path, db)
        deadline = time.monotonic() + 30
        while _count(db) <= threshold and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1].decode()
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        count = check()
        assert count >= seen
        seen = count
    assert seen > 1600

    # A last run to completion continues the same sequence exactly.
    final = _ingest(config_path, db, "--limit", "500")
    _, stderr = final.communicate(timeout=60)
    assert final.returncode == 0, stderr.decode()
    assert check() == seen + 500


def test_sigint_stops_cleanly_and_keeps_everything(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    db = tmp_path / "int.db"
    proc = _ingest(config_path, db)
    deadline = time.monotonic() + 30
    while _count(db) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    rows, cursor = _stored(db)
    assert len(rows) >= 200
    assert cursor == str(len(rows) - 1)
    # and the lease was released: a new ingester starts at once
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM leases").fetchone()[0] == 0


def test_standby_ingester_takes_over_when_the_holder_dies(tmp_path: Path) -> None:
    """A second ingester waits on the lease, and continues the same sequence after a SIGKILL."""
    config_path = tmp_path / "config.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    config = load_config(config_path)
    catalog = _catalog(config)
    db = tmp_path / "lease.db"
    holder = _ingest(config_path, db)
    deadline = time.monotonic() + 30
    while _count(db) < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    standby = _ingest(config_path, db, "--limit", "200")
    time.sleep(1.0)
    assert standby.poll() is None  # waiting for the lease, not ingesting beside the holder
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=10)
    killed_at = _count(db)
    _, err = standby.communicate(timeout=30)
    assert standby.returncode == 0, err.decode()
    rows, cursor = _stored(db)
    assert len(rows) == killed_at + 200
    expected = expected_mentions(SEED, len(rows), catalog, "demo")
    assert rows == [(m.external_id, m.text, m.author.handle) for m in expected]
    assert cursor == str(len(rows) - 1)
