"""The per-timeline cursor codec and the polling round shared by X, Reddit and Bluesky."""

from __future__ import annotations

import asyncio
import json

from smcc.models import Author, Mention
from smcc.sources.base import Fetched, SourceHealth
from smcc.sources.positions import Reader, dump_positions, load_positions, poll_round


def _mention(n: int) -> Mention:
    return Mention(
        source="r",
        external_id=str(n),
        author=Author(handle="a"),
        text=f"post {n}",
        created_at="2026-11-23T08:00:00Z",
    )


def _number(value: object) -> float | None:
    return value if isinstance(value, float) else None


def test_load_and_dump_round_trip_and_unreadable_cursors() -> None:
    cursor = dump_positions("newest", {"b": 2.0, "a": 1.5})
    assert cursor == '{"newest":{"a":1.5,"b":2.0}}'
    assert load_positions(cursor, "newest", _number) == {"a": 1.5, "b": 2.0}
    assert load_positions('{"newest":{"a":"x","b":3.0}}', "newest", _number) == {"b": 3.0}
    assert load_positions(None, "newest", _number) == {}
    assert load_positions("not json", "newest", _number) is None
    assert load_positions('{"other": {}}', "newest", _number) is None


def test_a_round_moves_each_position_forward_only_and_counts_what_it_fetched() -> None:
    asked: list[tuple[str, float | None]] = []

    def reader(name: str, newest: float | None, count: int) -> Reader[float]:
        async def read(since: float | None) -> tuple[list[Mention], float | None]:
            asked.append((name, since))
            return [_mention(i) for i in range(count)], newest

        return read

    positions = {"old": 50.0, "new": 10.0}
    health = SourceHealth()
    timelines = [
        ("old", reader("old", 40.0, 1)),  # a listing that returned an older item than seen
        ("new", reader("new", 20.0, 2)),
        ("empty", reader("empty", None, 0)),
    ]

    async def run() -> list[Fetched]:
        return [f async for f in poll_round(timelines, positions, "newest", health)]

    fetched = asyncio.run(run())
    assert asked == [("old", 50.0), ("new", 10.0), ("empty", None)]
    assert positions == {"old": 50.0, "new": 20.0}
    assert [len(f.mentions) for f in fetched] == [1, 2, 0]
    assert json.loads(fetched[0].cursor or "") == {"newest": {"new": 10.0, "old": 50.0}}
    assert json.loads(fetched[-1].cursor or "") == {"newest": {"new": 20.0, "old": 50.0}}
    assert health.fetched == 3
