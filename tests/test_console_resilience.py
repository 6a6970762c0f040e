"""Never blocks, never crashes: a store that cannot be read, a pane that cannot load or draw, and
a failing source are said on screen and the console keeps working."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from console_app import console_app, until
from console_seed import console_config, make, seeded_store
from smcc.sources.base import Fetched, Source, SourceError
from smcc.store import Store
from smcc.tui.data import ConsoleData
from smcc.tui.ingester import BackgroundIngest
from smcc.tui.screens.main import MainScreen
from smcc.tui.widgets.feed import FeedPane
from smcc.tui.widgets.queue import QueuePane
from smcc.tui.widgets.status import StatusLine

SIZE = (100, 30)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "r.db"
    seeded_store(path).close()
    return path


@pytest.fixture
def store(db: Path) -> Store:
    return Store.open(db)


def locked(*_: Any, **__: Any) -> Any:
    raise sqlite3.OperationalError("database is locked")


async def test_a_store_that_cannot_be_read_is_said_once_and_the_console_recovers(
    store: Store, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        with monkeypatch.context() as patch:
            patch.setattr(ConsoleData, "changes", locked)
            await until(pilot, lambda: any("cannot read the store" in n for n in app.notes))
            await pilot.pause(0.3)  # several polls fail meanwhile
            said = [n for n in app.notes if "cannot read the store" in n]
            assert said == ["cannot read the store (database is locked); retrying"]
        await until(pilot, lambda: "store readable again" in app.notes)
        writer = Store.open(db)
        writer.insert_batch([make("after", "nusantel down", tier=1, age=timedelta(0))])
        writer.close()
        await until(pilot, lambda: queue.table.row_count == 5)


async def test_a_pane_that_cannot_load_says_so_and_loads_on_the_next_change(
    store: Store, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        with monkeypatch.context() as patch:
            patch.setattr(ConsoleData, "queue", locked)
            queue.reload()
            await until(pilot, lambda: any(n.startswith("Queues: cannot read") for n in app.notes))
            assert queue.table.row_count == 4  # the last data stays
        writer = Store.open(db)
        writer.insert_batch([make("after", "nusantel down", tier=1, age=timedelta(0))])
        writer.close()
        await until(pilot, lambda: queue.table.row_count == 5)


async def test_a_pane_that_fails_to_draw_is_said_and_the_rest_works(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: FeedPane, result: object) -> None:
        raise ValueError("a bug in the feed")

    monkeypatch.setattr(FeedPane, "show", broken)
    app = console_app(store)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueuePane)
        await until(pilot, lambda: queue.table.row_count == 4)
        await until(pilot, lambda: any("Live feed: cannot show" in n for n in app.notes))
        assert any("a bug in the feed" in n for n in app.notes)
        first = queue.current_id
        assert first is not None
        await pilot.press("c")  # the console still works
        await until(pilot, lambda: store.claimed_by(first) == "ayu")
        assert app.is_running


class BrokenSource(Source):
    """A platform that answers 503 (retried with backoff) or refuses the key (fatal)."""

    type = "broken"

    def __init__(self, name: str, *, fatal: bool) -> None:
        super().__init__(name)
        self.fatal = fatal

    async def stream(self, cursor: str | None) -> AsyncIterator[Fetched]:
        if self.fatal:
            raise SourceError("401 from api.example: the token was refused", fatal=True)
        raise SourceError("503 from api.example", retry_after=120)
        yield Fetched([], None)  # an async generator, like every source


@pytest.mark.parametrize(
    ("fatal", "expected"),
    [
        (False, "broken backing off until "),
        # The only source failed: the ingest ends, and the line says why.
        (True, "ingest stopped: broken failing: 401 from api.example: the token was refused"),
    ],
)
async def test_a_failing_source_shows_on_the_status_line(
    db: Path, store: Store, fatal: bool, expected: str
) -> None:
    config = console_config()
    ingest = BackgroundIngest(config, db, [BrokenSource("broken", fatal=fatal)])
    app = console_app(store, config, lambda d: MainScreen(d, ingest))
    ingest.start()
    try:
        async with app.run_test(size=(160, 30)) as pilot:
            status = app.screen.query_one(StatusLine)
            await until(pilot, lambda: expected in status.render_status().plain, timeout=10)
            if not fatal:
                assert ": 503 from api.example" in status.render_status().plain
            queue = app.screen.query_one(QueuePane)
            await until(pilot, lambda: queue.table.row_count == 4)  # the rest carries on
    finally:
        ingest.stop()


async def test_a_viewing_console_shows_the_health_the_ingesting_process_published(
    store: Store, db: Path
) -> None:
    from smcc.ingest import LEASE, LEASE_TTL

    other = Store.open(db)  # the `smcc ingest` of another process
    assert other.acquire_lease(LEASE, "wall-host:4242", LEASE_TTL)
    other.publish_health(
        "wall-host:4242",
        [
            {"name": "demo", "state": "connected", "until": None, "reason": ""},
            {
                "name": "x",
                "state": "backing_off",
                "until": "2026-11-23T08:05:00+00:00",
                "reason": "429 from api.x.com",
            },
        ],
    )
    app = console_app(store)
    async with app.run_test(size=(160, 30)) as pilot:
        status = app.screen.query_one(StatusLine)
        expected = (
            "viewing ingest by wall-host:4242: demo connected · "
            "x backing off until 08:05:00: 429 from api.x.com  ·  operator ayu"
        )
        await until(pilot, lambda: status.render_status().plain == expected)
        other.publish_health(
            "wall-host:4242", [{"name": "x", "state": "failing", "until": None, "reason": "401"}]
        )
        await until(pilot, lambda: "x failing: 401" in status.render_status().plain)
    other.close()
