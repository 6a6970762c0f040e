"""The rules engine: a tier, a department, a deadline and an explanation for every mention.

Rules are evaluated in file order; the first rule that matches decides, unless it says
`continue = true` — then later rules are evaluated too: they add tags and score, and fill in what
earlier matches left unset (tier, department, SLA, canned reply). A mention no rule gives a tier
gets the configured default tier; one no rule gives a department gets the default department.

Speed: all words of all rules are in one automaton (`smcc.rules.matcher`); every rule that needs a
word is listed under its words (a bit per rule), so only rules whose words occur, plus the rules
that need no word, are tested for a mention.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from smcc.config import Config, Department, Then
from smcc.models import Alert, Mention, Tier, Triage
from smcc.rules.conditions import Condition, Facts, Terms, Test, Vocabulary, compile_when
from smcc.rules.matcher import TermMatcher
from smcc.rules.sla import SlaClock, SlaTimes
from smcc.rules.text import fold


class AlertBoard:
    """The active alerts, as the rules see them; the caller refreshes it from the store."""

    def __init__(self, alerts: Iterable[Alert] = ()) -> None:
        self._lock = threading.Lock()
        self.active: frozenset[tuple[str | None, str]] = frozenset()
        self.update(alerts)

    def update(self, alerts: Iterable[Alert]) -> None:
        pairs: set[tuple[str | None, str]] = set()
        for alert in alerts:
            if alert.active:
                pairs.add((alert.brand, str(alert.kind)))
                pairs.add((alert.brand, "any"))
        with self._lock:
            self.active = frozenset(pairs)


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    held: list[str]
    terms: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "held": self.held, "terms": self.terms}


@dataclass(frozen=True)
class Explanation:
    """Why a mention got its triage; stored as JSON in the mention's `explanation` column."""

    rule: str
    """The rule that decided the tier ('default' when none did)."""
    matched: list[RuleMatch] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)
    """The fields that came from the configured default (tier, department)."""
    sla_minutes: float | None = None
    reply: str | None = None
    notify: bool = False

    @property
    def terms(self) -> list[str]:
        seen: dict[str, None] = {}
        for match in self.matched:
            seen.update(dict.fromkeys(match.terms))
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "matched": [m.to_dict() for m in self.matched],
            "terms": self.terms,
            "defaults": self.defaults,
            "sla_minutes": self.sla_minutes,
            "reply": self.reply,
            "notify": self.notify,
        }

    def to_json(self) -> str:
        return _dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | None) -> Explanation:
        """Parse a stored explanation; text that is not ours becomes a rule-less summary."""
        try:
            data = json.loads(text or "")
            matched = [
                RuleMatch(str(m["rule"]), list(m["held"]), list(m["terms"]))
                for m in data["matched"]
            ]
            return cls(
                rule=str(data["rule"]),
                matched=matched,
                defaults=list(data.get("defaults", [])),
                sla_minutes=data.get("sla_minutes"),
                reply=data.get("reply"),
                notify=bool(data.get("notify", False)),
            )
        except (ValueError, KeyError, TypeError):
            return cls(rule="default", defaults=["tier", "department"])

    def summary(self) -> str:
        """One line for people: 'outage: keywords: "down"; sentiment < -0.3 (-0.62)'."""
        if not self.matched:
            return "no rule matched: configured default"
        parts = [f"{m.rule}: " + "; ".join(m.held) for m in self.matched]
        line = " → ".join(parts)
        if self.defaults:
            line += f" (default {' and '.join(self.defaults)})"
        return line


@dataclass(frozen=True, slots=True)
class CompiledRule:
    index: int
    name: str
    condition: Condition
    then: Then
    keep_going: bool


_DEFAULT_EXPLANATION_FIELDS = ("tier", "department")
OWN_ACCOUNT = "own account"
"""The rule name of a post by one of the brands' own handles (`[[brands]] handles`): tier 3."""


def _handle_key(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


_OUTCOME_CACHE = 20_000
"""Distinct outcomes kept; the cache is emptied when full (cheap, and rarely happens)."""
_Part = tuple[int, tuple[str, ...], tuple[str, ...]]
"""A matched rule: its index, the conditions that held, the terms that matched."""
_Outcome = tuple[Tier, str, timedelta | None, tuple[str, ...], float, str, str]
"""Tier, department, SLA, tags, score, deciding rule, explanation JSON."""
_ROUND_THE_CLOCK = SlaClock()
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _trusted_triage(values: dict[str, Any]) -> Triage:
    """A Triage from values the engine built itself, without pydantic's validation.

    Same as `Triage.model_construct(**values)` with every field given, at a fifth of the cost
    (it was the largest single cost of a triage); `test_trusted_triage_equals_validated` keeps
    it honest.
    """
    triage = Triage.__new__(Triage)
    object.__setattr__(triage, "__dict__", values)
    object.__setattr__(triage, "__pydantic_fields_set__", set(values))
    object.__setattr__(triage, "__pydantic_extra__", None)
    object.__setattr__(triage, "__pydantic_private__", None)
    return triage


class RuleEngine:
    """Compiled rules of one config. `decide` and `triage` may run in several threads: after init
    the only state they change is a cache of outcomes (a dict, safe under the GIL)."""

    def __init__(self, config: Config, alerts: AlertBoard | None = None) -> None:
        self.config = config
        self.alerts = alerts or AlertBoard()
        self.zone = ZoneInfo(config.operator.timezone)
        self.matcher = TermMatcher()
        competitor_ids: set[int] = set()
        for competitor in config.competitors:
            competitor_ids.add(self.matcher.add(competitor.name))
            competitor_ids.update(self.matcher.add(k) for k in competitor.keywords)
            competitor_ids.update(self.matcher.add(h, "hashtag") for h in competitor.hashtags)
            competitor_ids.update(self.matcher.add(h, "handle") for h in competitor.handles)
        self._competitor_ids = frozenset(competitor_ids)
        self._competitor_names = frozenset(c.name for c in config.competitors)
        vocab = Vocabulary(self.matcher)
        self.rules = [
            CompiledRule(i, rule.name, compile_when(rule.when, vocab), rule.then, rule.continue_)
            for i, rule in enumerate(config.rules)
        ]
        self.matcher.compile()
        # A rule that is nothing but one word test holds whenever its gate let it through:
        # no test to run (None).
        self._tests: list[Test | None] = [
            None if isinstance(rule.condition, Terms) else rule.condition.fast()
            for rule in self.rules
        ]
        self._outcomes: dict[tuple[_Part, ...], _Outcome] = {}
        # Rule i is bit i. A rule with a gate is a candidate only when one of its terms occurs.
        # A rule without one that requires a field check (followers ≥ 50,000, language …) is a
        # candidate only when that check holds; rules that share a check share its test, so 20
        # rules on three follower thresholds cost three tests per mention, not twenty.
        self._ungated = 0
        self._by_term: dict[int, int] = {}
        by_check: dict[str, tuple[Test, int]] = {}
        for rule in self.rules:
            bit = 1 << rule.index
            gate = rule.condition.gate()
            check = rule.condition.required_check() if gate is None else None
            if gate is not None:
                for term in gate:
                    self._by_term[term] = self._by_term.get(term, 0) | bit
            elif check is not None:
                test, bits = by_check.get(check.describe(), (check.fast(), 0))
                by_check[check.describe()] = (test, bits | bit)
            else:
                self._ungated |= bit
        self._by_check = list(by_check.values())
        self.clocks = {
            name: SlaClock(dept.business_hours) for name, dept in config.departments.items()
        }
        # Posts of the brands' own accounts (our replies as they come back from the platform,
        # our announcements) are no work for the queue, whatever words they use.
        self._own_handles = frozenset(
            _handle_key(h) for brand in config.brands for h in brand.handles
        )
        self._default_sla = self._policy_sla(config.default.department, config.default.tier)
        self._default_json = Explanation(
            rule="default",
            defaults=list(_DEFAULT_EXPLANATION_FIELDS),
            sla_minutes=self._default_sla.total_seconds() / 60 if self._default_sla else None,
        ).to_json()

    # -- evaluation ------------------------------------------------------------------------------

    def facts(self, mention: Mention) -> Facts:
        text = fold(mention.text)
        terms = self.matcher.find(text)
        competitor = not self._competitor_ids.isdisjoint(terms) or (
            mention.brand in self._competitor_names
        )
        return Facts(mention, text, terms, self.alerts.active, competitor, self.zone)

    def matching(self, mention: Mention) -> tuple[Facts, list[CompiledRule]]:
        """The facts of `mention` and the rules that matched it, in evaluation order."""
        f = self.facts(mention)
        mask = self._ungated
        for test, bits in self._by_check:
            if test(f):
                mask |= bits
        by_term = self._by_term
        for term in f.terms:
            mask |= by_term.get(term, 0)
        matched: list[CompiledRule] = []
        rules, tests = self.rules, self._tests
        while mask:
            low = mask & -mask
            mask ^= low
            index = low.bit_length() - 1
            rule_test = tests[index]
            if rule_test is None or rule_test(f):
                rule = rules[index]
                matched.append(rule)
                if not rule.keep_going:
                    break
        return f, matched

    def decide(self, mention: Mention) -> tuple[Triage, Explanation]:
        """The triage of `mention` and its explanation (the triage holds it as JSON)."""
        triage = self._decide(mention)
        return triage, Explanation.from_json(triage.explanation)

    def _decide(self, mention: Mention) -> Triage:
        if self._own_handles and _handle_key(mention.author.handle) in self._own_handles:
            return self._own_triage(mention)
        f, matched = self.matching(mention)
        if not matched:
            return self._default_triage(mention)
        # What a triage says depends only on which rules matched and why (the explanation);
        # mentions that match alike share one computed outcome.
        parts: list[_Part] = []
        for rule in matched:
            held: list[str] = []
            f.hits = []
            rule.condition.explain(f, held)
            parts.append((rule.index, tuple(held), tuple(dict.fromkeys(f.hits))))
        key = tuple(parts)
        outcome = self._outcomes.get(key)
        if outcome is None:
            if len(self._outcomes) >= _OUTCOME_CACHE:
                self._outcomes.clear()
            outcome = self._outcomes[key] = self._outcome(key)
        tier, department, sla, tags, score, name, explanation = outcome
        return self._triage(mention, tier, department, sla, list(tags), score, name, explanation)

    def _outcome(self, parts: tuple[_Part, ...]) -> _Outcome:
        """Merge the actions of the matched rules (first one to set a field wins; tags and
        score add up) and write the explanation."""
        default = self.config.default
        set_tier: Tier | None = None
        set_department: str | None = None
        sla_override: timedelta | None = None
        reply: str | None = None
        notify = False
        tags: dict[str, None] = {}
        score = 0.0
        decider: str | None = None
        matches: list[dict[str, Any]] = []
        all_terms: dict[str, None] = {}
        for index, held, terms in parts:
            rule = self.rules[index]
            then = rule.then
            if set_tier is None and then.tier is not None:
                set_tier, decider = then.tier, rule.name
            if set_department is None and then.department is not None:
                set_department = then.department
            if sla_override is None and then.sla is not None:
                sla_override = then.sla
            if reply is None and then.reply is not None:
                reply = then.reply
            notify = notify or then.notify
            tags.update(dict.fromkeys(then.tags))
            score += then.score
            all_terms.update(dict.fromkeys(terms))
            matches.append({"rule": rule.name, "held": list(held), "terms": list(terms)})
        defaults = []
        if set_tier is None:
            defaults.append("tier")
        if set_department is None:
            defaults.append("department")
        tier = set_tier if set_tier is not None else default.tier
        department = set_department if set_department is not None else default.department
        sla = sla_override if sla_override is not None else self._policy_sla(department, tier)
        name = decider or self.rules[parts[0][0]].name
        explanation = _dumps(
            {
                "rule": name,
                "matched": matches,
                "terms": list(all_terms),
                "defaults": defaults,
                "sla_minutes": sla.total_seconds() / 60 if sla is not None else None,
                "reply": reply,
                "notify": notify,
            }
        )
        return tier, department, sla, tuple(tags), score, name, explanation

    def _default_triage(self, mention: Mention) -> Triage:
        default = self.config.default
        sla = self._default_sla
        return self._triage(
            mention, default.tier, default.department, sla, [], 0.0, "default", self._default_json
        )

    def _own_triage(self, mention: Mention) -> Triage:
        held = f"posted by the brand's own account @{_handle_key(mention.author.handle)}"
        why = Explanation(rule=OWN_ACCOUNT, matched=[RuleMatch(OWN_ACCOUNT, [held], [])])
        department = self.config.default.department
        return self._triage(mention, 3, department, None, [], 0.0, OWN_ACCOUNT, why.to_json())

    def _policy_sla(self, department: str, tier: Tier) -> timedelta | None:
        policy = self.config.departments.get(department)
        return policy.sla.for_tier(tier) if policy is not None else None

    def _triage(
        self,
        mention: Mention,
        tier: Tier,
        department: str,
        sla: timedelta | None,
        tags: list[str],
        score: float,
        rule: str,
        explanation: str,
    ) -> Triage:
        due = None
        if sla is not None:
            clock = self.clocks.get(department) or _ROUND_THE_CLOCK
            due = clock.add(mention.created_at, sla)
        return _trusted_triage(
            {
                "tier": tier,
                "department": department,
                "sla_due": due,
                "tags": tags,
                "rule": rule,
                "explanation": explanation,
                "score": score,
            }
        )

    def triage(self, batch: list[Mention]) -> None:
        """The pipeline's Triager: give every mention of `batch` its triage, in place."""
        decide = self._decide
        for mention in batch:
            mention.triage = decide(mention)


def sla_times(config: Config, mention: Mention) -> SlaTimes | None:
    """Due and warning time of a stored, triaged mention under `config` (None: no deadline).

    The response time is the one the triage used (kept in the explanation), so a rule's SLA
    override counts; the clock and the warning share are the department's.
    """
    triage = mention.triage
    if triage is None or triage.sla_due is None:
        return None
    minutes = Explanation.from_json(triage.explanation).sla_minutes
    department: Department | None = config.departments.get(triage.department)
    if minutes is None or department is None:
        return SlaTimes(due=triage.sla_due, warn_at=triage.sla_due)
    clock = SlaClock(department.business_hours)
    return clock.times(mention.created_at, timedelta(minutes=minutes), department.sla.warning)


def deadline_times(
    config: Config, department: str, created_at: datetime, due: datetime | None
) -> SlaTimes | None:
    """Due and warning time from a row's stored deadline, without reading its explanation.

    What a queue row carries (department, created_at, sla_due) is enough: the warning comes at the
    department's `warning` share of the working time between arrival and due, on its business-hours
    clock. Same answer as `sla_times` for a deadline triage set; None: no deadline.
    """
    if due is None:
        return None
    policy: Department | None = config.departments.get(department)
    if policy is None:  # a department since removed from the config: no warning, only breach
        return SlaTimes(due=due, warn_at=due)
    return SlaClock(policy.business_hours).times_until(created_at, due, policy.sla.warning)
