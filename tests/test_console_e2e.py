"""End to end in a real terminal: `smcc` in tmux (private socket, fixed size), driven by keys.

Polls `capture-pane` for the expected text instead of sleeping a fixed time.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smcc.store import Store

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

CONFIG = """
[operator]
name = "e2e-op"
timezone = "UTC"

[sources.demo]
rate = 40
seed = 7

[canned.thanks]
key = 1
text = { en = "Thanks {author}, we are on it. {operator}" }
"""


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return result.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen after {timeout}s:\n{screen}")
            time.sleep(0.1)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "e2e", *keys)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    server = Tmux(f"smcc-e2e-{os.getpid()}-{tmp_path.name}")
    yield server
    subprocess.run(["tmux", "-L", server.socket, "kill-server"], capture_output=True, timeout=10)


def start_console(
    tmux: Tmux, tmp_path: Path, size: tuple[int, int] = (80, 24)
) -> tuple[Path, Path]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db = tmp_path / "e2e.db"
    command = (
        f"cd {tmp_path} && TEXTUAL_ANIMATIONS=none {sys.executable} -m smcc "
        f"--config {config} --db {db}; echo SMCC-EXIT=$?; sleep 60"
    )
    width, height = size
    tmux.run("new-session", "-d", "-s", "e2e", "-x", str(width), "-y", str(height), command)
    return config, db


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
def test_console_ingests_and_claims_with_keys(
    tmux: Tmux, tmp_path: Path, size: tuple[int, int]
) -> None:
    _, db = start_console(tmux, tmp_path, size)
    tmux.wait_for("ingesting demo connected")
    for title in ("Queues", "Live feed", "Detail", "c Claim", "operator e2e-op"):
        tmux.wait_for(title, timeout=5)
    tmux.wait_for("@")  # queue and feed rows have arrived
    tmux.keys("c")
    tmux.wait_for(" claimed", timeout=10)
    tmux.wait_for("claimed by e2e-op", timeout=10)  # the detail pane follows
    # Reply: the composer, the canned list (Ctrl+T) and its digit 1, Ctrl+S. (Alt+1 does not
    # arrive as Alt inside tmux: Textual reads it as `¡`.)
    tmux.keys("o")
    tmux.wait_for("Reply to #", timeout=10)
    tmux.keys("C-t")
    tmux.wait_for("Canned reply", timeout=10)
    tmux.keys("1")
    tmux.wait_for("we are on it. e2e-op", timeout=10)
    tmux.keys("C-s")
    tmux.wait_for("queued in the", timeout=10)
    with Store.open(db, create=False) as store:
        deadline = time.monotonic() + 15
        while [i.state.value for i in store.outbox_items()] != ["sent"]:
            assert time.monotonic() < deadline, store.outbox_items()
            time.sleep(0.1)
        (reply,) = store.outbox_items()
        assert reply.operator == "e2e-op"
        assert reply.text.startswith("Thanks @")
        assert reply.text.endswith(", we are on it. e2e-op")
    # Full-text search: a word of the claimed mention; its results are the queue.
    with Store.open(db, create=False) as store:
        claimed = next(e.mention_id for e in store.events() if e.action == "claim")
        mention = store.get_mention(claimed or 0)
        assert mention is not None
    word = max(re.findall(r"[^\W\d_]{4,}", mention.text), key=len)
    tmux.keys("/")
    tmux.wait_for("Search mentions", timeout=10)
    tmux.keys("-l", word)
    tmux.keys("Enter")
    screen = tmux.wait_for(" found · esc: back", timeout=10)  # not while "searching…"
    assert f"search  {word}" in screen
    found = re.search(r"· ([\d,]+)\+? found", screen)
    assert found is not None
    assert int(found.group(1).replace(",", "")) >= 1  # at least the claimed mention
    tmux.keys("Escape")
    tmux.wait_for(" T1 ", timeout=10)
    tmux.keys("q")
    tmux.wait_for("SMCC-EXIT=0", timeout=20)
    with Store.open(db, create=False) as store:
        claims = [e for e in store.events() if e.action == "claim"]
        assert [e.actor for e in claims] == ["e2e-op"]
        assert store.claimed_by(claims[0].mention_id or 0) == "e2e-op"
        assert store.lease("ingest") is None  # released on quit
        assert store.count_mentions() > 0


def test_console_views_while_another_process_ingests_and_takes_over(
    tmux: Tmux, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db = tmp_path / "e2e.db"
    ingester = subprocess.Popen(
        [sys.executable, "-m", "smcc", "--config", str(config), "--db", str(db), "ingest", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not db.exists() or Store.open(db).lease("ingest") is None:
            assert time.monotonic() < deadline, "smcc ingest did not take the lease"
            time.sleep(0.1)
        # Wide: the status line names the other process (host:pid) before its sources' health.
        start_console(tmux, tmp_path, (160, 40))
        tmux.wait_for("viewing ingest by")
        tmux.wait_for(": demo connected", timeout=10)  # the health `smcc ingest` published
        ingester.send_signal(signal.SIGKILL)
        ingester.wait(10)
        tmux.wait_for("ingesting demo connected", timeout=15)  # took over from the dead holder
    finally:
        if ingester.poll() is None:
            ingester.kill()
            ingester.wait(10)
    tmux.keys("q")
    tmux.wait_for("SMCC-EXIT=0", timeout=20)
