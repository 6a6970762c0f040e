"""Sources → normalise → dedupe → analyse → triage → terms → store, in batches, with backpressure.

Each source runs in its own task and puts what it fetched into a bounded buffer; when the store
falls behind and the buffer is full, sources wait. One writer task takes batches (by count or by
time, whichever comes first), runs the stages, and writes the batch **and** every source's cursor
in one transaction in a worker thread — so the event loop keeps fetching while SQLite writes, and a
crash at any moment leaves the store and the cursors consistent: nothing lost, nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from smcc.config import PipelineSettings
from smcc.models import Mention
from smcc.sources.base import Backoff, Fetched, HealthState, Source, SourceError
from smcc.store import BatchResult, PreparedBatch, Store, prepare_batch
from smcc.textclean import clean_text, valid_unicode

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Pluggable stages


class Analyzer(Protocol):
    """Fills language, sentiment and brand of each mention in place."""

    def analyse(self, batch: list[Mention]) -> None: ...


@runtime_checkable
class SplitAnalyzer(Analyzer, Protocol):
    """An Analyzer that works elsewhere (another process): `submit` starts a batch and returns
    the call that waits for it and fills the mentions in. The pipeline submits the next batch
    before it finishes the current one, so that both sides stay busy."""

    def submit(self, batch: list[Mention]) -> Callable[[], None]: ...


class TermCounter(Protocol):
    """The terms of each mention (for the per-minute term rollups), in the batch's order."""

    def batch(self, mentions: Sequence[Mention]) -> Sequence[Collection[str]]: ...


class BatchWriter(Protocol):
    """Writes a batch's rows and the sources' cursors in one transaction, like
    `Store.insert_prepared`, elsewhere (smcc.store.writer.WriterProcess: in another process).

    `submit` starts the write and returns the call that waits for it; that call raises
    sqlite3.OperationalError when the database is locked or full, and calling it again writes
    the batch again. The pipeline submits a batch while the one before it is being written and
    waits for them in order."""

    def submit(
        self, rows: PreparedBatch, cursors: dict[str, str | None] | None = None
    ) -> Callable[[], BatchResult]: ...


class Triager(Protocol):
    """Gives each mention its Triage in place."""

    def triage(self, batch: list[Mention]) -> None: ...


def normalise(batch: list[Mention]) -> None:
    """Clean untrusted text in place (controls, escape sequences, bidi overrides; NFC). Handles,
    ids and links keep what they were (they are keys and addresses) but lose lone surrogates,
    which SQLite cannot store; the console cleans them when it shows them."""
    for mention in batch:
        # Assigned only when cleaning changed something: a pydantic assignment costs more than
        # the cleaning itself, and almost every text is clean already. Each field is read
        # once, and the ids and links (ASCII on every platform we know) are checked by hand:
        # this runs for every mention.
        text = mention.text
        cleaned = clean_text(text)
        if cleaned != text:
            mention.text = cleaned
        author = mention.author
        name = author.display_name
        cleaned = clean_text(name)
        if cleaned != name:
            author.display_name = cleaned
        handle = author.handle
        if not handle.isascii():
            author.handle = valid_unicode(handle)
        url = mention.url
        if not url.isascii():
            mention.url = valid_unicode(url)
        external_id = mention.external_id
        if not external_id.isascii():
            mention.external_id = valid_unicode(external_id)
        conversation = mention.conversation_id
        if conversation is not None and not conversation.isascii():
            mention.conversation_id = valid_unicode(conversation)
        reply_to = mention.reply_to_id
        if reply_to is not None and not reply_to.isascii():
            mention.reply_to_id = valid_unicode(reply_to)


class RecentKeys:
    """Keys seen lately, so that duplicates are dropped before they cost a database round trip.

    The database's UNIQUE(source, external_id) is the real guarantee; this only saves work.
    A key is one string (the source's name with its length, then the external id), not a tuple:
    strings are invisible to the cyclic garbage collector, and 200,000 live tuples made each of
    its full passes walk them all (≈ 1 µs a mention of the ingest benchmark's foundation stages).
    The newest `size` keys are kept: a set to look them up, a deque for their order (together a
    fifth cheaper than an OrderedDict).
    """

    def __init__(self, size: int = 200_000) -> None:
        self._seen: set[str] = set()
        self._order: deque[str] = deque()
        self._size = size

    def fresh(self, batch: list[Mention]) -> list[Mention]:
        out = []
        seen, order = self._seen, self._order
        prefixes: dict[str, str] = {}
        for mention in batch:
            source = mention.source
            prefix = prefixes.get(source)
            if prefix is None:
                prefixes[source] = prefix = f"{len(source)}:{source}"
            key = prefix + mention.external_id
            if key in seen:
                continue
            seen.add(key)
            order.append(key)
            out.append(mention)
        while len(order) > self._size:
            seen.remove(order.popleft())
        return out


# ---------------------------------------------------------------------------------------------
# Bookkeeping


@dataclass
class SourceStats:
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    _window: deque[tuple[float, int]] = field(default_factory=deque)

    def note_stored(self, count: int, now: float) -> None:
        self.stored += count
        self._window.append((now, count))
        while self._window and self._window[0][0] < now - 5.0:
            self._window.popleft()

    def rate(self, now: float) -> float:
        """Mentions stored per second over the last five seconds."""
        recent = sum(c for t, c in self._window if t >= now - 5.0)
        return recent / 5.0


@dataclass
class PipelineStats:
    batches: int = 0
    stored: int = 0
    duplicates: int = 0
    last_batch_seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)
    sources: dict[str, SourceStats] = field(default_factory=dict)


class _Buffer:
    """Fetched pages waiting for the writer, bounded by the number of mentions they hold."""

    def __init__(self, limit: int) -> None:
        self._items: deque[tuple[str, Fetched]] = deque()
        self._count = 0
        self._limit = limit
        self._changed = asyncio.Condition()

    @property
    def mentions(self) -> int:
        return self._count

    @property
    def pages(self) -> int:
        """Pages waiting, including empty ones that only move a cursor."""
        return len(self._items)

    async def put(self, source: str, fetched: Fetched) -> None:
        async with self._changed:
            # An oversized page is let in alone rather than blocking forever.
            await self._changed.wait_for(
                lambda: self._count == 0 or self._count + len(fetched.mentions) <= self._limit
            )
            self._items.append((source, fetched))
            self._count += len(fetched.mentions)
            self._changed.notify_all()

    async def wait_nonempty(self, timeout: float | None = None) -> bool:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._items)), timeout)
            except TimeoutError:
                return False
            return True

    async def take(self, max_mentions: int) -> list[tuple[str, Fetched]]:
        async with self._changed:
            out: list[tuple[str, Fetched]] = []
            taken = 0
            # Pages are taken whole (a cursor belongs to a whole page), so a batch may end a
            # little past max_mentions rather than stop short of it.
            while self._items and taken < max_mentions:
                source, fetched = self._items.popleft()
                out.append((source, fetched))
                taken += len(fetched.mentions)
            self._count -= taken
            self._changed.notify_all()
            return out


# ---------------------------------------------------------------------------------------------
# The pipeline


class Pipeline:
    """Runs sources concurrently into the store until stopped, finished, or `limit` is reached."""

    def __init__(
        self,
        store: Store,
        sources: Sequence[Source],
        settings: PipelineSettings,
        *,
        analyzer: Analyzer | None = None,
        triager: Triager | None = None,
        terms: TermCounter | None = None,
        limit: int | None = None,
        on_batch: Callable[[BatchResult], None] | None = None,
        writer: BatchWriter | None = None,
    ) -> None:
        self.store = store
        self.sources = list(sources)
        self.settings = settings
        self.analyzer = analyzer
        self.triager = triager
        self.terms = terms
        self.limit = limit
        self.on_batch = on_batch
        self.writer = writer
        """Writes the batches; None: this process's store connection, in a worker thread."""
        self.stats = PipelineStats(sources={s.name: SourceStats() for s in self.sources})
        self.store_error: str | None = None
        """Set while writes to the database fail and are being retried."""
        self.recent: deque[Mention] = deque(maxlen=100)
        """The latest mentions written, for live displays (newest last)."""
        self._buffer = _Buffer(settings.queue_size)
        self._recent = RecentKeys()
        self._stop = asyncio.Event()
        self._fetched_total = 0

    def stop(self) -> None:
        """Ask the pipeline to stop: sources stop fetching, what was fetched is still stored."""
        self._stop.set()

    @property
    def stop_requested(self) -> asyncio.Event:
        return self._stop

    @property
    def queued(self) -> int:
        return self._buffer.mentions

    async def run(self) -> PipelineStats:
        with _young_collections_spaced():
            return await self._run()

    async def _run(self) -> PipelineStats:
        feeders = [
            asyncio.create_task(self._feed(s), name=f"source:{s.name}") for s in self.sources
        ]
        writer = asyncio.create_task(self._write_loop(feeders), name="writer")
        try:
            await writer
        finally:
            for task in feeders:
                task.cancel()
            await asyncio.gather(*feeders, return_exceptions=True)
            if not writer.done():
                writer.cancel()
            for source in self.sources:
                if source.health.state not in (HealthState.FINISHED, HealthState.FAILING):
                    source.health.set(HealthState.STOPPED)
                await source.aclose()
        return self.stats

    async def _feed(self, source: Source) -> None:
        """Pump one source into the buffer, restarting it with backoff when it fails."""
        cursor = await asyncio.to_thread(self.store.cursor, source.name)
        backoff = Backoff()
        stats = self.stats.sources[source.name]
        while not self._stop.is_set():
            try:
                async for fetched in source.stream(cursor):
                    await self._buffer.put(source.name, fetched)
                    # The next restart of the stream resumes after what is already buffered:
                    # the writer will store it with this cursor.
                    cursor = fetched.cursor if fetched.cursor is not None else cursor
                    stats.fetched += len(fetched.mentions)
                    self._fetched_total += len(fetched.mentions)
                    backoff.reset()
                    if self.limit is not None and self._fetched_total >= self.limit:
                        self.stop()
                    if self._stop.is_set():
                        return
                if source.health.state is not HealthState.FINISHED:
                    source.health.set(HealthState.FINISHED)
                return
            except asyncio.CancelledError:
                raise
            except SourceError as exc:
                if exc.fatal:
                    source.health.set(HealthState.FAILING, str(exc))
                    log.error("source %s failed: %s", source.name, exc)
                    return
                delay = backoff.next_delay(exc.retry_after)
                reason = str(exc)
            except Exception as exc:  # a bug or an unexpected platform answer in one source
                log.exception("source %s crashed", source.name)
                delay = backoff.next_delay()
                reason = f"{type(exc).__name__}: {exc}"
            source.health.errors += 1
            source.health.set(HealthState.BACKING_OFF, reason, until=backoff.until(delay))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    def _sources_done(self, feeders: list[asyncio.Task[None]]) -> bool:
        return all(task.done() for task in feeders)

    async def _write_loop(self, feeders: list[asyncio.Task[None]]) -> None:
        interval = self.settings.batch_interval.total_seconds()
        size = self.settings.batch_size
        # One write in flight at a time (cursors must land in order), but the next batch is
        # prepared while the previous one is written: SQLite releases the GIL while it works.
        # With a SplitAnalyzer a batch is analysed elsewhere while the batch before it is
        # triaged and written here (`ahead`: submitted, not finished yet).
        in_flight: asyncio.Task[None] | None = None
        ahead: _Started | None = None
        split = isinstance(self.analyzer, SplitAnalyzer)

        async def complete(started: _Started) -> None:
            nonlocal in_flight
            prepared = await asyncio.to_thread(self._finish, started)
            if in_flight is not None:
                await in_flight
            in_flight = asyncio.create_task(self._store(prepared))

        try:
            while True:
                finished = self._stop.is_set() or self._sources_done(feeders)
                if finished and self._buffer.pages == 0:
                    return
                if not await self._buffer.wait_nonempty(timeout=0.1):
                    if ahead is not None:  # nothing more came: do not hold this batch back
                        started, ahead = ahead, None
                        await complete(started)
                    continue
                # Give the batch a chance to fill, but never wait longer than the interval.
                deadline = time.monotonic() + interval
                while (
                    self._buffer.mentions < size
                    and not self._stop.is_set()
                    and not self._sources_done(feeders)
                    and (remaining := deadline - time.monotonic()) > 0
                ):
                    await asyncio.sleep(min(remaining, 0.01))
                pages = await self._buffer.take(size)
                if not pages:
                    continue
                started = await asyncio.to_thread(self._begin, pages)
                if ahead is not None:
                    await complete(ahead)
                ahead = None
                if split:
                    ahead = started
                else:
                    await complete(started)
        finally:
            if ahead is not None:
                await complete(ahead)
            if in_flight is not None:
                await in_flight

    def _begin(self, pages: list[tuple[str, Fetched]]) -> _Started:
        """normalise → dedupe → analyse (or, with a SplitAnalyzer, its start), in a worker
        thread."""
        started = time.monotonic()
        batch: list[Mention] = []
        cursors: dict[str, str | None] = {}
        for source, fetched in pages:
            batch.extend(fetched.mentions)
            if fetched.cursor is not None:
                cursors[source] = fetched.cursor
        normalise(batch)
        fresh = self._recent.fresh(batch)
        finish: Callable[[], None] | None = None
        analyzer = self.analyzer
        if isinstance(analyzer, SplitAnalyzer):
            finish = analyzer.submit(fresh)
        elif analyzer is not None:
            analyzer.analyse(fresh)
        return _Started(batch, fresh, cursors, finish, started)

    def _finish(self, started: _Started) -> _Prepared:
        """The rest of the CPU stages, in a worker thread: (analysed) → triage → rows."""
        fresh = started.fresh
        if started.finish is not None:
            started.finish()
        if self.triager is not None:
            self.triager.triage(fresh)
        per_source: dict[str, int] = {}
        for mention in started.batch:
            per_source[mention.source] = per_source.get(mention.source, 0) + 1
        rows = prepare_batch(fresh, self.terms.batch(fresh) if self.terms else None)
        write: Callable[[], BatchResult]
        if self.writer is None:
            write = functools.partial(self.store.insert_prepared, rows, started.cursors)
        else:  # sent now, while the batch before it may still be being written
            write = self.writer.submit(rows, started.cursors)
        return _Prepared(
            mentions=fresh,
            write=write,
            received=len(started.batch),
            per_source=per_source,
            started=started.started,
        )

    async def _store(self, prepared: _Prepared) -> None:
        stored = await self._write_with_retry(prepared)
        result = BatchResult(stored.inserted, prepared.received - stored.inserted, stored.first_id)
        now = time.monotonic()
        self.stats.batches += 1
        self.stats.stored += result.inserted
        self.stats.duplicates += result.duplicates
        self.stats.last_batch_seconds = now - prepared.started
        # Attribute stored/duplicate counts per source in proportion; exact per-source counts
        # would cost a query per batch for a number that is only shown as a rate.
        total = prepared.received or 1
        for source, count in prepared.per_source.items():
            stats = self.stats.sources.setdefault(source, SourceStats())
            share = round(result.inserted * count / total)
            stats.note_stored(share, now)
            stats.duplicates += count - share
        if result.inserted:
            self.recent.extend(prepared.mentions)
        if self.on_batch is not None:
            self.on_batch(result)

    async def _write_with_retry(self, prepared: _Prepared) -> BatchResult:
        """Write one batch, retrying while the database is busy, locked or full.

        The same batch is retried as it is: its mentions are already past the dedupe stage, so
        dropping it would lose them. Waiting here also holds the sources back (backpressure).
        Only a stop request ends the retries; the batch's cursors were not stored either, so the
        sources fetch it again on the next start.
        """
        backoff = Backoff(base=0.5, cap=30.0)
        while True:
            try:
                result = await asyncio.to_thread(prepared.write)
            except sqlite3.OperationalError as exc:
                delay = backoff.next_delay()
                self.store_error = f"store write failed ({exc}); retrying in {delay:.0f}s"
                log.warning("%s", self.store_error)
                if self._stop.is_set() and backoff.attempt > 3:
                    raise PipelineError(f"could not write to the database: {exc}") from exc
                await asyncio.sleep(delay)
                continue
            self.store_error = None
            return result


GC_THRESHOLD = 50_000
"""Net container allocations between collections of the youngest generation while a pipeline
runs (Python's default is 700)."""


@contextlib.contextmanager
def _young_collections_spaced() -> Iterator[None]:
    """Collect the youngest generation every GC_THRESHOLD net allocations instead of every 700.

    A running pipeline keeps ten to twenty thousand mentions alive (the buffer, the batches
    being analysed and written), each a dozen container objects. With the default threshold a
    collection ran every ≈ 50 mentions allocated, so every mention survived a few, was promoted
    to the oldest generation and then walked by its full collections (170,000 objects each):
    ≈ 9 µs a mention, a sixth of the foundation stages' CPU time (bench/ingest.py). Mentions
    are freed by reference counting when their batch is written, so spacing the collections
    out costs little memory; cyclic garbage is still collected. Restored when the run ends
    (unless someone else changed it meanwhile)."""
    threshold = gc.get_threshold()
    if threshold[0] == 0 or threshold[0] >= GC_THRESHOLD:  # collection off, or spaced already
        yield
        return
    ours = (GC_THRESHOLD, *threshold[1:])
    gc.set_threshold(*ours)
    try:
        yield
    finally:
        if gc.get_threshold() == ours:
            gc.set_threshold(*threshold)


class PipelineError(Exception):
    """The pipeline cannot go on; what was stored before is kept."""


@dataclass(frozen=True, slots=True)
class _Started:
    batch: list[Mention]
    fresh: list[Mention]
    cursors: dict[str, str | None]
    finish: Callable[[], None] | None
    """Waits for the SplitAnalyzer's results and fills them in (None: analysed already)."""
    started: float


@dataclass(frozen=True, slots=True)
class _Prepared:
    mentions: list[Mention]
    write: Callable[[], BatchResult]
    """Stores the batch's rows with its cursors (again, when called again after a failure)."""
    received: int
    per_source: dict[str, int]
    started: float
