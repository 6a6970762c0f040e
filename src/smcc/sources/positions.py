"""Cursors made of per-timeline positions in one JSON object: {"since_id": {"mentions": "17"}}.

X/Twitter, Reddit and Bluesky each keep the newest item seen per timeline (query, listing,
notifications) in one cursor string; they differ only in the key and the kind of position.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")


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
