"""Cursors made of per-timeline positions in one JSON object: {"since_id": {"mentions": "17"}}.

X/Twitter, Reddit and Bluesky each keep the newest item seen per timeline (query, listing,
notifications) in one cursor string; they differ only in the key and the kind of position.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TypeVar

from smcc.models import Mention
from smcc.sources.base import Fetched, SourceHealth

T = TypeVar("T")
P = TypeVar("P", str, float)
"""A position that grows: an ISO time (Bluesky's indexedAt) or a Unix time (Reddit's created)."""

Reader = Callable[[P | None], Awaitable[tuple[list[Mention], P | None]]]
"""Reads one timeline from a position: the new mentions and the newest position among them."""


def load_positions(
    cursor: str | None, key: str, convert: Callable[[object], T | None]
) -> dict[str, T] | None:
    """The positions under `key`: {} for no cursor, None for one that cannot be read; values
    that `convert` turns into None are left out."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        return None
    table = data.get(key) if isinstance(data, dict) else None
    if not isinstance(table, dict):
        return None
    positions: dict[str, T] = {}
    for timeline, value in table.items():
        converted = convert(value)
        if converted is not None:
            positions[str(timeline)] = converted
    return positions


def dump_positions(key: str, positions: Mapping[str, object]) -> str:
    return json.dumps({key: dict(sorted(positions.items()))}, separators=(",", ":"))


async def poll_round(
    timelines: Iterable[tuple[str, Reader[P]]],
    positions: dict[str, P],
    key: str,
    health: SourceHealth,
) -> AsyncIterator[Fetched]:
    """One polling round: each timeline read from its position, the position moved forward
    (never back: a timeline can return older items than one already seen), and the mentions
    yielded with the cursor that resumes after them."""
    for timeline, read in timelines:
        mentions, newest = await read(positions.get(timeline))
        if newest is not None:
            positions[timeline] = max(positions.get(timeline, newest), newest)
        health.fetched += len(mentions)
        yield Fetched(mentions, dump_positions(key, positions))
