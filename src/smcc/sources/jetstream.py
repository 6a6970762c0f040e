"""Bluesky's Jetstream: every post on the network as JSON over a websocket, with a time cursor.

Jetstream (``wss://jetstream2.us-east.bsky.network/subscribe``) relays the network's commits as
JSON events ``{did, time_us, kind, commit: {operation, collection, rkey, record, cid}}``. smcc asks
only for ``app.bsky.feed.post`` (``wantedCollections``) and keeps, client side, the posts that
concern the brand: a configured term in the text, or a mention of, reply to or quote of the
signed-in account (its DID in a mention facet, the reply's parent or root, or the quoted post).

Resuming: ``cursor`` is a ``time_us``; Jetstream replays from that moment. smcc keeps the newest
``time_us`` it has handed on and resumes a little before it (:data:`REWIND_US`), because events
reach a Jetstream instance slightly out of time order; what is replayed twice is dropped by the
pipeline's dedupe (same source + post URI). A connection that drops, closes or stays silent past
the idle limit raises SourceError, and the pipeline reconnects with backoff from the cursor.

aiohttp's websocket client is used because aiohttp is already here (tweepy's async client is
built on it); httpx has no websocket support.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import aiohttp

from smcc.sources.base import SourceError

DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POST = "app.bsky.feed.post"
REWIND_US = 5_000_000
"""Resume this many microseconds before the cursor: Jetstream's events are only roughly ordered
by time (the recorded production stream has 42 inversions in 152 events)."""


def resume_from(cursor: str | None) -> int | None:
    """The `cursor` to ask Jetstream for, from the stored newest time_us (None: live only)."""
    if not cursor or not cursor.isdigit():
        return None
    return max(0, int(cursor) - REWIND_US)


def _mentioned_dids(record: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else []:
        features = facet.get("features") if isinstance(facet, Mapping) else None
        for feature in features if isinstance(features, list) else []:
            if (
                isinstance(feature, Mapping)
                and feature.get("$type") == "app.bsky.richtext.facet#mention"
                and isinstance(feature.get("did"), str)
            ):
                found.add(feature["did"])
    return found


def _uri_did(value: object) -> str | None:
    uri = value.get("uri") if isinstance(value, Mapping) else None
    if isinstance(uri, str) and uri.startswith("at://"):
        return uri[5:].split("/", 1)[0]
    return None


def _quoted_did(record: Mapping[str, Any]) -> str | None:
    embed = record.get("embed")
    if not isinstance(embed, Mapping):
        return None
    inner = embed.get("record")
    # app.bsky.embed.record {record: strongRef}; recordWithMedia {record: {record: strongRef}}
    if isinstance(inner, Mapping) and isinstance(inner.get("record"), Mapping):
        inner = inner["record"]
    return _uri_did(inner)


def concerns(record: Mapping[str, Any], terms: Iterable[str], did: str | None) -> bool:
    """Whether a post record is for the brand: a term in its text (case-insensitive), or the
    account `did` mentioned, replied to (parent or root) or quoted."""
    text = record.get("text")
    if isinstance(text, str):
        folded = text.casefold()
        if any(term in folded for term in terms):
            return True
    if not did:
        return False
    if did in _mentioned_dids(record):
        return True
    reply = record.get("reply")
    if isinstance(reply, Mapping) and did in (
        _uri_did(reply.get("parent")),
        _uri_did(reply.get("root")),
    ):
        return True
    return _quoted_did(record) == did


class Jetstream:
    """One websocket subscription for posts; :meth:`events` yields decoded events until it fails."""

    def __init__(self, url: str, *, timeout: float, idle: float) -> None:
        self.url = url or DEFAULT_URL
        self.timeout = timeout
        self.idle = idle
        self.warnings: list[str] = []

    async def events(self, cursor: int | None) -> AsyncIterator[dict[str, Any]]:
        params: dict[str, str] = {"wantedCollections": POST}
        if cursor is not None:
            params["cursor"] = str(cursor)
        timeout = aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_connect=self.timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.ws_connect(
                    self.url,
                    params=params,
                    heartbeat=max(1.0, self.idle / 2),
                    timeout=aiohttp.ClientWSTimeout(ws_receive=self.idle, ws_close=self.timeout),
                ) as ws,
            ):
                async for message in ws:
                    if message.type is aiohttp.WSMsgType.TEXT:
                        try:
                            event = json.loads(message.data)
                        except ValueError:
                            self.warnings.append("jetstream: an event that is not JSON skipped")
                            continue
                        if isinstance(event, dict):
                            yield event
                    elif message.type is aiohttp.WSMsgType.ERROR:
                        raise SourceError(f"jetstream: connection failed ({ws.exception()!r})")
                raise SourceError("jetstream: the server closed the connection")
        except TimeoutError:
            raise SourceError(f"jetstream: silent for {self.idle:g}s") from None
        except aiohttp.WSServerHandshakeError as exc:
            raise SourceError(
                f"jetstream: refused ({exc.status} {exc.message})",
                fatal=exc.status in (400, 404),
            ) from None
        except aiohttp.ClientError as exc:
            raise SourceError(f"jetstream: connection failed ({type(exc).__name__})") from None


async def probe(url: str, timeout: float) -> str:
    """Open a subscription and wait for its first event (`smcc doctor`); what was seen."""
    stream = Jetstream(url, timeout=timeout, idle=timeout)
    events = stream.events(None)
    try:
        event = await anext(aiter(events))
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    return f"connected to {stream.url}; first event {event.get('kind', '?')}"


def event_post(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The record of a post-creating commit event, else None."""
    commit = event.get("commit")
    if event.get("kind") != "commit" or not isinstance(commit, Mapping):
        return None
    if commit.get("operation") != "create" or commit.get("collection") != POST:
        return None
    record = commit.get("record")
    return record if isinstance(record, Mapping) else None
