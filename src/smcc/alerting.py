"""Spike and crisis detection while ingesting: per brand and per keyword, in the mentions' time.

The ingest process (the lease holder) runs one `AlertWatcher` in a thread of its own with its own
database connection, off the pipeline's path: the pipeline only pokes it after each committed batch.
The watcher then reads what the batch added to the per-minute rollups (brands) and term rollups
(keywords and hashtags), and runs `SpikeDetector` over them, writing Alert rows — raised, held back
by the cool-down, cleared — each with its audit event and a bump of the `alerts` change counter.

Time is the mentions' own clock (`created_at`), so a demo or a replay running faster than real
time is judged exactly as a live stream: the watcher's "now" is the latest `created_at` stored,
moved on by the wall clock while nothing arrives (so alerts clear when a stream goes quiet). When a
batch covers several minutes (a fast stream), every minute boundary in it is evaluated in turn on
whole minutes, then the latest moment on the minute still filling — never reading ahead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smcc.analysis.spikes import AlertChange, Minute, SpikeDetector, SpikeSettings
from smcc.analysis.terms import keywords
from smcc.config import Config, SpikeConfig
from smcc.models import Alert, AlertKind, utcnow
from smcc.store import Store

log = logging.getLogger(__name__)

ACTOR = "smcc"
"""Who raised and cleared alerts, in the audit log."""
MAX_STEPS = 24 * 60
"""At most this many minute boundaries are caught up at once (a day, after a long pause)."""


def spike_settings(config: SpikeConfig) -> SpikeSettings:
    return SpikeSettings(
        window=config.window,
        baseline=config.baseline,
        min_volume=config.min_volume,
        ratio=config.ratio,
        z=config.z,
        sentiment_drop=config.sentiment_drop,
        cooldown=config.cooldown,
        clear_after=config.clear_after,
    )


def _floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


@dataclass
class _Series:
    """Recent minutes of one kind of series (brands, or keywords), by name and minute."""

    minutes: dict[str, dict[datetime, Minute]] = field(default_factory=dict)

    def put(self, rows: list[tuple[datetime, str, int, float, int]]) -> None:
        for at, name, count, s_sum, s_n in rows:
            self.minutes.setdefault(name, {})[at] = Minute(at, count, s_sum, s_n)

    def prune(self, before: datetime) -> None:
        for by_minute in self.minutes.values():
            for at in [at for at in by_minute if at < before]:
                del by_minute[at]

    def of(self, name: str) -> list[Minute]:
        return list(self.minutes.get(name, {}).values())


class AlertWatcher:
    """Watches the store's rollups and keeps its alerts in step; see the module docstring."""

    def __init__(
        self, store: Store, config: Config, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        spikes = config.analysis.spikes
        self.settings = spike_settings(spikes)
        self.brands = [b.name for b in (*config.brands, *config.competitors)]
        self.keywords = keywords(config.brands, config.competitors) if spikes.keywords else {}
        self.clock = clock
        self._store = store
        self._own_store: Store | None = None
        self._brand_detector = SpikeDetector(self.settings)
        self._keyword_detector = SpikeDetector(self.settings)
        self._alert_ids: dict[tuple[AlertKind, str, str], int] = {}
        """(kind, "brand" | "keyword", name) → id of the active alert in the store."""
        self._brands = _Series()
        self._terms = _Series()
        self._last_id = 0
        self._data_time: datetime | None = None
        self._seen_at: datetime | None = None
        self._evaluated: datetime | None = None
        self._loaded_from: datetime | None = None
        self._history_start: datetime | None = None
        self._started = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    # -- running in a thread -------------------------------------------------------------------

    def start(self) -> None:
        """Run in a thread of its own (with its own connection to a file database)."""
        if self._store.path != ":memory:":
            self._own_store = self._store.another()
            self._store = self._own_store
        self._thread = threading.Thread(target=self._loop, name="alert-watcher", daemon=True)
        self._thread.start()

    def notify(self, *_: object) -> None:
        """A batch was committed (the pipeline's on_batch hook): look at it soon."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread after a last look at everything stored."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._own_store is not None:
            self._own_store.close()
            self._own_store = None

    def _loop(self) -> None:
        while True:
            # Also every second without batches: time moves on, so alerts can clear.
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            stopping = self._stopping.is_set()
            try:
                self.step()
            except Exception:  # the watcher must never take ingest down; it retries next time
                self.errors += 1
                log.exception("spike detection failed")
            if stopping:
                return

    # -- one look --------------------------------------------------------------------------------

    def now(self) -> datetime | None:
        """The watcher's clock: the latest `created_at` stored, plus wall time since it came."""
        if self._data_time is None or self._seen_at is None:
            return None
        return self._data_time + max(timedelta(0), self.clock() - self._seen_at)

    def step(self) -> list[Alert]:
        """Catch up with what was stored since the last step; returns the alerts raised."""
        store = self._store
        # "now" comes from the latest mention, and the minutes read must be of that same moment:
        # a batch committed in between would fill the minute still filling ahead of "now" (its
        # first seconds read with the whole minute's mentions: a false spike, seen in CI).
        with store.snapshot():
            now = self._look(store)
        if now is None:
            return []
        raised: list[Alert] = []
        for at in self._moments(now):
            raised += self._evaluate(at)
        self._evaluated = now
        self._prune(now)
        return raised

    def _look(self, store: Store) -> datetime | None:
        """Read what is new (in one snapshot: see `step`); the watcher's "now", if any."""
        latest = store.latest_mention(self._last_id)
        if latest is not None:
            self._last_id = latest[0]
            if self._data_time is None or latest[1] > self._data_time:
                self._data_time = latest[1]
            self._seen_at = self.clock()
        now = self.now()
        if now is None:
            return None
        if not self._started:
            self._adopt_active()
            span = store.rollup_span()
            self._history_start = span[0] if span else None
            self._started = True
        self._load(now)
        return now

    def _moments(self, now: datetime) -> list[datetime]:
        """Minute boundaries since the last evaluation (whole minutes), then `now` itself."""
        last = self._evaluated if self._evaluated is not None else now - timedelta(minutes=1)
        first = _floor_minute(last) + timedelta(minutes=1)
        first = max(first, _floor_minute(now) - timedelta(minutes=MAX_STEPS))
        moments = []
        at = first
        while at <= now:
            moments.append(at)
            at += timedelta(minutes=1)
        if not moments or moments[-1] != now:
            moments.append(now)
        return moments

    def _load(self, now: datetime) -> None:
        """Read the rollups' new and still-filling minutes into memory."""
        horizon = self.settings.window + self.settings.baseline + timedelta(minutes=2)
        since = _floor_minute(now - horizon)
        if self._loaded_from is not None:
            # Minutes from the last one read on may still have been filling then.
            since = max(since, self._loaded_from)
        store = self._store
        self._brands.put(store.brand_minutes(since))
        if self.keywords:
            self._terms.put(store.term_minutes(list(self.keywords), since))
        if self._data_time is not None:
            self._loaded_from = _floor_minute(self._data_time)

    def _prune(self, now: datetime) -> None:
        keep = _floor_minute(now - self.settings.window - self.settings.baseline)
        keep -= timedelta(minutes=2)
        self._brands.prune(keep)
        self._terms.prune(keep)

    def _evaluate(self, at: datetime) -> list[Alert]:
        raised: list[Alert] = []
        history = self._history_start
        for brand in self.brands:
            for change in self._brand_detector.evaluate(brand, self._brands.of(brand), at, history):
                alert = self._apply(change, brand, None, at)
                if alert is not None:
                    raised.append(alert)
        for keyword, brand in self.keywords.items():
            for change in self._keyword_detector.evaluate(
                keyword, self._terms.of(keyword), at, history
            ):
                # One outage is one alert: while the brand itself is alerted for the same
                # thing, its keywords spiking with it say nothing new.
                if change.action == "raise" and (change.kind, "brand", brand) in self._alert_ids:
                    continue
                alert = self._apply(change, brand, keyword, at)
                if alert is not None:
                    raised.append(alert)
        return raised

    def _apply(
        self, change: AlertChange, brand: str, keyword: str | None, at: datetime
    ) -> Alert | None:
        key = (change.kind, "keyword" if keyword else "brand", keyword or brand)
        store = self._store
        if change.action == "clear":
            alert_id = self._alert_ids.pop(key, None)
            if alert_id is not None:
                store.close_alert(alert_id, at, actor=ACTOR, reason=change.message)
            return None
        r = change.reading
        detail: dict[str, object] = {}
        if r is not None:
            detail = {
                "observed": r.observed,
                "expected": round(r.expected, 2),
                "ratio": round(r.ratio, 2),
                "z": round(r.z, 2),
                "window_sentiment": r.window_sentiment,
                "baseline_sentiment": r.baseline_sentiment,
            }
        alert = Alert(
            kind=change.kind,
            brand=brand,
            keyword=keyword,
            severity=max(1, min(10, change.severity)),
            description=change.message,
            since=at,
            detail=detail,
        )
        alert.id = store.open_alert(alert, actor=ACTOR)
        self._alert_ids[key] = alert.id
        return alert

    def _adopt_active(self) -> None:
        """Alerts an earlier run left active are ours to clear."""
        for alert in self._store.active_alerts():
            if alert.id is None or alert.kind not in (
                AlertKind.VOLUME_SPIKE,
                AlertKind.SENTIMENT_DROP,
            ):
                continue
            if alert.keyword:
                self._keyword_detector.adopt(alert.kind, alert.keyword, alert.since)
                self._alert_ids[(alert.kind, "keyword", alert.keyword)] = alert.id
            elif alert.brand:
                self._brand_detector.adopt(alert.kind, alert.brand, alert.since)
                self._alert_ids[(alert.kind, "brand", alert.brand)] = alert.id
