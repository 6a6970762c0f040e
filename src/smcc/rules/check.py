"""Static checks of a rule set: unreachable rules, terms that can add nothing, unused departments.

A rule is unreachable when an earlier rule without `continue` matches every mention it could
match (it is *shadowed*), or when its own conditions contradict each other. Deciding that in
general is as hard as the conditions are rich, so the check is conservative: it reports a rule
only when it can prove it, by comparing the conditions both rules require (words, sets of
languages/sources/brands/weekdays, thresholds, yes/no fields, and any other condition written
identically). A shadowed rule it reports is certainly dead; a dead rule it cannot prove is missed.

Terms get two warnings that change no result but clutter a rule: a term listed twice in one
condition (after folding: `CAFÉ` and `cafe` are one term), and a word of a later rule's
`any`/`keywords` list that an earlier rule made only of words (no `continue`) already takes —
every mention with that word is decided there, so the later copy can never decide anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from smcc.config import Config, When, walk_when
from smcc.rules.conditions import only_keywords
from smcc.rules.matcher import TermMatcher, fold_term

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


Loc = tuple[str | int, ...]


def _group_words(when: When, loc: Loc, group: str) -> list[tuple[Loc, str]]:
    """The plain words of group `any`, `all` or `none` of `when`, each with its location: a
    string item is one word at (group, j), a `{ keywords = [...] }` item holds several."""
    words: list[tuple[Loc, str]] = []
    for j, item in enumerate(getattr(when, group)):
        if only_keywords(item):
            if len(item.keywords) == 1:
                words.append(((*loc, group, j), item.keywords[0]))
            else:
                words += [((*loc, group, j, "keywords", k), t) for k, t in enumerate(item.keywords)]
    return words


def _term_lists(when: When, loc: Loc) -> list[tuple[str, list[tuple[Loc, str]]]]:
    """The term lists of one condition table as (kind, [(location, term)]); a group's plain words
    form one list, as the engine tests them together."""
    lists = [
        (kind, [((*loc, name, k), t) for k, t in enumerate(getattr(when, name))])
        for name, kind in (
            ("keywords", "keyword"),
            ("hashtags", "hashtag"),
            ("handles", "handle"),
            ("regex", "regex"),
        )
    ]
    lists += [("keyword", _group_words(when, loc, group)) for group in ("any", "all", "none")]
    return lists


def duplicate_terms(config: Config) -> list[Finding]:
    """Terms listed twice in the same condition (compared folded, as the matcher sees them)."""
    findings: list[Finding] = []
    for i, rule in enumerate(config.rules):
        for loc, when in walk_when(rule.when, ("rules", i, "when")):
            if isinstance(loc[-1], int) and only_keywords(when):
                continue  # a group's word item: checked with the other words of its group
            for kind, terms in _term_lists(when, loc):
                first: dict[str, str] = {}
                for where, term in terms:
                    key = term if kind == "regex" else fold_term(term, kind)
                    if key not in first:
                        first[key] = term
                        continue
                    same = "" if first[key] == term else f" (as '{first[key]}', once folded)"
                    findings.append(Finding(where, f"term '{term}' listed twice{same}", False))
    return findings


def _deciding_words(when: When, loc: Loc) -> list[tuple[Loc, str]]:
    """The words one of which `when` needs (its `keywords`, else the plain words of its `any`)."""
    if when.keywords:
        return [((*loc, "keywords", k), t) for k, t in enumerate(when.keywords)]
    return _group_words(when, loc, "any")


def taken_terms(config: Config, skip: set[int]) -> list[Finding]:
    """Words of a later rule that an earlier rule made only of words already takes.

    Rule A (no `continue`) whose only condition is a list of words decides every mention holding
    one of them; a later rule's word that contains one of A's words (on word boundaries, as the
    matcher finds it) can then never make that rule decide. Rules in `skip` (unreachable) are not
    reported again.
    """
    findings: list[Finding] = []
    takers: list[tuple[int, TermMatcher]] = []
    for j, rule in enumerate(config.rules):
        words = _deciding_words(rule.when, ("rules", j, "when"))
        if j not in skip:
            for where, term in words:
                taker = next(
                    ((i, m.find_terms(term)) for i, m in takers if m.find_terms(term)), None
                )
                if taker is not None:
                    i, found = taker
                    findings.append(
                        Finding(
                            where,
                            f"term '{term}' can never decide: rule '{config.rules[i].name}' "
                            f"(rules[{i}]) takes every mention with '{found[0]}' first",
                            False,
                        )
                    )
        required = atoms(rule.when)
        if not rule.continue_ and [a.kind for a in required] == ["terms"] and words:
            matcher = TermMatcher()
            for _, word in words:
                matcher.add(word)
            matcher.compile()
            takers.append((j, matcher))
    return findings


def check_rules(config: Config) -> list[Finding]:
    findings: list[Finding] = []
    required = [atoms(rule.when) for rule in config.rules]
    dead: set[int] = set()
    for j, rule in enumerate(config.rules):
        why = contradiction(required[j])
        if why is not None:
            findings.append(Finding(("rules", j), f"unreachable: {why}", True))
            dead.add(j)
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
                dead.add(j)
                break
    findings += duplicate_terms(config)
    findings += taken_terms(config, dead)
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
