"""Hot reload: the pipeline's triage stage follows config.toml without a restart.

`LiveRules` is the Triager the pipeline calls. Its owner calls `check()` now and then (ingest does
it every second); when the file's modification time or size changed, the file is validated again
and, if valid, a new engine replaces the old one between two batches — mentions of one batch are
never triaged by two rule sets. An invalid edit keeps the old rules running; the error is logged
once per edit and reported as an audit event (`rules_reload_failed`) that the console can show.

What a reload changes: rules, departments and their SLA and business hours, the default, the
competitors (for `competitor` conditions) and the operator's time zone (for `hours`). Sources,
brands and the rest apply at the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from smcc.config import ConfigError, load_config
from smcc.models import Event, Mention
from smcc.rules.engine import AlertBoard, RuleEngine

log = logging.getLogger(__name__)

Signature = tuple[int, int] | None


def _signature(path: Path | None) -> Signature:
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


class LiveRules:
    """The current rules engine, replaced when its config file changes on disk."""

    def __init__(
        self,
        engine: RuleEngine,
        path: Path | None = None,
        *,
        on_event: Callable[[Event], object] | None = None,
        actor: str = "smcc",
    ) -> None:
        self.engine = engine
        self.path = path
        self.on_event = on_event
        self.actor = actor
        self.error: str | None = None
        """Why the file on disk is not in effect (None when it is)."""
        self.reloads = 0
        self._signature = _signature(path)

    @property
    def alerts(self) -> AlertBoard:
        return self.engine.alerts

    def triage(self, batch: list[Mention]) -> None:
        engine = self.engine  # one engine for the whole batch, even if a reload lands meanwhile
        engine.triage(batch)

    def check(self) -> bool | None:
        """Reload if the file changed: True when new rules are in effect, False when the edit was
        invalid (the old rules stay), None when nothing changed."""
        if self.path is None:
            return None
        signature = _signature(self.path)
        if signature == self._signature:
            return None
        self._signature = signature
        try:
            config = load_config(self.path)
            engine = RuleEngine(config, self.engine.alerts)
        except ConfigError as exc:
            self.error = str(exc.problems[0]) if exc.problems else str(exc)
            more = len(exc.problems) - 1
            log.error(
                "rules not reloaded, the previous rules stay in effect: %s%s",
                self.error,
                f" (and {more} more problems)" if more > 0 else "",
            )
            self._event(
                "rules_reload_failed",
                {"path": str(self.path), "problems": [str(p) for p in exc.problems]},
            )
            return False
        self.engine = engine
        self.error = None
        self.reloads += 1
        log.info("rules reloaded from %s: %d rules", self.path, len(config.rules))
        self._event("rules_reloaded", {"path": str(self.path), "rules": len(config.rules)})
        return True

    def _event(self, action: str, detail: dict[str, object]) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(Event(actor=self.actor, action=action, detail=detail))
        except Exception:  # the audit log is best effort here: triage must go on
            log.exception("could not record the %s event", action)
