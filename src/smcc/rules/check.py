"""Static checks of a rule set: unreachable rules and departments nothing routes to.

A rule is unreachable when an earlier rule without `continue` matches every mention it could
match (it is *shadowed*), or when its own conditions contradict each other. Deciding that in
general is as hard as the conditions are rich, so the check is conservative: it reports a rule
only when it can prove it, by comparing the conditions both rules require (words, sets of
languages/sources/brands/weekdays, thresholds, yes/no fields, and any other condition written
identically). A shadowed rule it reports is certainly dead; a dead rule it cannot prove is missed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from smcc.config import Config, When
from smcc.rules.conditions import only_keywords
from smcc.rules.matcher import fold_term

AtomKind = Literal["terms", "in", "min", "max", "above", "below", "is", "same"]


@dataclass(frozen=True)
class Atom:
    """One condition a rule requires; a rule holds when all its atoms hold."""

    kind: AtomKind
    field: str
    value: object

    def implies(self, other: Atom) -> bool:
        """Whether every mention for which this atom holds also satisfies `other`."""
        if self.field != other.field or self.kind != other.kind:
            return False
        a, b = self.value, other.value
        if isinstance(a, frozenset) and isinstance(b, frozenset):
            return a <= b  # at least one of a ⇒ at least one of b; a value in a ⇒ in b
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        if isinstance(a, int | float) and isinstance(b, int | float):
            return a >= b if self.kind in ("min", "above") else a <= b
        return a == b


def atoms(when: When) -> list[Atom]:
    """The conditions `when` requires, flattened through `all` groups."""
    out: list[Atom] = []
    if when.keywords:
        out.append(Atom("terms", "text", frozenset(fold_term(k) for k in when.keywords)))
    if when.hashtags:
        out.append(Atom("terms", "text", frozenset(fold_term(h, "hashtag") for h in when.hashtags)))
    if when.handles:
        out.append(Atom("terms", "text", frozenset(fold_term(h, "handle") for h in when.handles)))
    if when.any:
        if all(only_keywords(item) for item in when.any):
            words = frozenset(fold_term(k) for item in when.any for k in item.keywords)
            out.append(Atom("terms", "text", words))
        else:
            out.append(Atom("same", "any", _canonical(when.any)))
    for item in when.all:
        out.extend(atoms(item))
    if when.none:
        out.append(Atom("same", "none", _canonical(when.none)))
    if when.not_ is not None:
        out.append(Atom("same", "not", _canonical(when.not_)))
    for name in ("sources", "languages", "brands", "weekdays"):
        values = getattr(when, name)
        if values:
            out.append(Atom("in", name, frozenset(values)))
    for name, kind in (
        ("followers_min", "min"),
        ("influence_min", "min"),
        ("followers_max", "max"),
        ("sentiment_above", "above"),
        ("sentiment_below", "below"),
    ):
        value = getattr(when, name)
        if value is not None:
            field = "sentiment" if name.startswith("sentiment") else name.split("_")[0]
            out.append(Atom(kind, field, value))  # type: ignore[arg-type]
    for name in ("is_question", "verified", "competitor"):
        value = getattr(when, name)
        if value is not None:
            out.append(Atom("is", name, value))
    for name in ("regex", "hours", "alert"):
        value = getattr(when, name)
        if value:
            out.append(Atom("same", name, _canonical(value)))
    return out


def _canonical(value: object) -> str:
    def plain(v: object) -> object:
        if isinstance(v, When):
            return v.model_dump(exclude_defaults=True, by_alias=True)
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return json.dumps(plain(value), sort_keys=True, ensure_ascii=False)


def implied(required: list[Atom], by: list[Atom]) -> bool:
    """Whether conditions `by` (all holding) guarantee every atom of `required`."""
    return all(any(have.implies(need) for have in by) for need in required)


def contradiction(required: list[Atom]) -> str | None:
    """Why these conditions can never hold together (None if no contradiction is evident)."""
    lowest: dict[str, float] = {}
    highest: dict[str, float] = {}
    truth: dict[str, object] = {}
    sets: dict[str, frozenset[object]] = {}
    for atom in required:
        value = atom.value
        if atom.kind in ("min", "above") and isinstance(value, int | float):
            lowest[atom.field] = max(lowest.get(atom.field, float("-inf")), value)
        elif atom.kind in ("max", "below") and isinstance(value, int | float):
            highest[atom.field] = min(highest.get(atom.field, float("inf")), value)
        elif atom.kind == "is":
            if atom.field in truth and truth[atom.field] != value:
                return f"'{atom.field}' must be both true and false"
            truth[atom.field] = value
        elif atom.kind == "in" and isinstance(value, frozenset):
            sets[atom.field] = sets[atom.field] & value if atom.field in sets else value
            if not sets[atom.field]:
                return f"no value of '{atom.field}' is in every list"
    for field, low in lowest.items():
        high = highest.get(field)
        if high is not None and (low > high or (field == "sentiment" and low >= high)):
            return f"'{field}' cannot be above {low:g} and below {high:g}"
    return None


@dataclass(frozen=True)
class Finding:
    loc: tuple[str | int, ...]
    message: str
    severe: bool
    """True for a rule that can never decide anything; False for a note (unused department)."""


def check_rules(config: Config) -> list[Finding]:
    findings: list[Finding] = []
    required = [atoms(rule.when) for rule in config.rules]
    for j, rule in enumerate(config.rules):
        why = contradiction(required[j])
        if why is not None:
            findings.append(Finding(("rules", j), f"unreachable: {why}", True))
            continue
        for i in range(j):
            earlier = config.rules[i]
            if earlier.continue_:
                continue
            if implied(required[i], required[j]):
                findings.append(
                    Finding(
                        ("rules", j),
                        f"unreachable: every mention rule '{rule.name}' matches is matched first "
                        f"by rule '{earlier.name}' (rules[{i}])",
                        True,
                    )
                )
                break
    used = {config.default.department}
    used.update(r.then.department for r in config.rules if r.then.department is not None)
    for name in config.departments:
        if name not in used:
            findings.append(
                Finding(
                    ("departments", name),
                    f"unused department '{name}': neither the default nor any rule routes to it",
                    False,
                )
            )
    return findings
