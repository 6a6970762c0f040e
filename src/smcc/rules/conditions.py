"""Compiled conditions: a tree of small objects that test one mention's facts.

`compile_when` turns a config `When` table into a tree of `Condition`s. Each condition can
`test` the facts of a mention (fast path, for every candidate rule) and `explain` why it held
(only for the rules that matched), and says by `gate` which terms it needs at least one of — so
the engine skips rules whose words are absent without testing them at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from operator import attrgetter

from smcc.config import WEEKDAYS, When
from smcc.models import Mention
from smcc.rules.matcher import TermMatcher


class Facts:
    """What the conditions look at, for one mention."""

    __slots__ = ("_local", "alerts", "competitor", "hits", "mention", "terms", "text", "zone")

    def __init__(
        self,
        mention: Mention,
        text: str,
        terms: set[int],
        alerts: frozenset[tuple[str | None, str]],
        competitor: bool,
        zone: tzinfo,
    ) -> None:
        self.mention = mention
        self.text = text
        """The folded text."""
        self.terms = terms
        """Ids of the terms found in the text."""
        self.alerts = alerts
        """Active alerts as (brand, kind) pairs; kind 'any' is listed for every alert too."""
        self.competitor = competitor
        self.zone = zone
        self.hits: list[str] = []
        """Terms that held, collected by `explain`."""
        self._local: datetime | None = None

    def local_time(self) -> datetime:
        if self._local is None:
            self._local = self.mention.created_at.astimezone(self.zone)
        return self._local


Test = Callable[[Facts], bool]


class Condition:
    __slots__ = ()

    def test(self, f: Facts) -> bool:
        raise NotImplementedError

    def explain(self, f: Facts, out: list[str]) -> None:
        """Append why this condition holds for `f` (call only when `test(f)` is true)."""
        out.append(self.describe())

    def describe(self) -> str:
        raise NotImplementedError

    def gate(self) -> frozenset[int] | None:
        """Terms of which at least one must be in the text for this condition to hold."""
        return None

    def fast(self) -> Test:
        """A plain function equivalent to `test`, with as few calls inside as possible."""
        return self.test

    def required_check(self) -> Check | None:
        """A field check that must hold for this condition to hold (None if there is none)."""
        return None


class Terms(Condition):
    """At least one of these words/phrases/hashtags/handles is in the text."""

    __slots__ = ("ids", "kind", "labels")

    def __init__(self, kind: str, labels: dict[int, str]) -> None:
        self.kind = kind
        self.labels = labels
        self.ids = frozenset(labels)

    def test(self, f: Facts) -> bool:
        return not self.ids.isdisjoint(f.terms)

    def fast(self) -> Test:
        disjoint = self.ids.isdisjoint
        return lambda f: not disjoint(f.terms)

    def explain(self, f: Facts, out: list[str]) -> None:
        found = [label for i, label in self.labels.items() if i in f.terms]
        f.hits.extend(found)
        out.append(f"{self.kind}: " + ", ".join(f'"{t}"' for t in found))

    def describe(self) -> str:
        return f"{self.kind}: " + " | ".join(f'"{t}"' for t in self.labels.values())

    def gate(self) -> frozenset[int] | None:
        return self.ids


class Regex(Condition):
    __slots__ = ("patterns",)

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = [re.compile(p, re.IGNORECASE) for p in patterns]

    def test(self, f: Facts) -> bool:
        text = f.mention.text
        return any(p.search(text) for p in self.patterns)

    def explain(self, f: Facts, out: list[str]) -> None:
        for pattern in self.patterns:
            match = pattern.search(f.mention.text)
            if match:
                f.hits.append(match.group(0))
                out.append(f'regex /{pattern.pattern}/: "{match.group(0)}"')
                return

    def describe(self) -> str:
        return "regex: " + " | ".join(f"/{p.pattern}/" for p in self.patterns)


class Check(Condition):
    """A test on the mention's fields, with a description that shows the value it saw."""

    __slots__ = ("_describe", "_test", "_value")

    def __init__(
        self,
        describe: str,
        test: Callable[[Facts], bool],
        value: Callable[[Facts], object] | None = None,
    ) -> None:
        self._describe = describe
        self._test = test
        self._value = value

    def test(self, f: Facts) -> bool:
        return self._test(f)

    def fast(self) -> Test:
        return self._test

    def required_check(self) -> Check | None:
        return self

    def explain(self, f: Facts, out: list[str]) -> None:
        if self._value is None:
            out.append(self._describe)
        else:
            out.append(f"{self._describe} ({self._value(f)})")

    def describe(self) -> str:
        return self._describe


class All(Condition):
    __slots__ = ("children",)

    def __init__(self, children: Sequence[Condition]) -> None:
        # Word tests first: they are the cheapest and usually the most selective.
        self.children = sorted(children, key=lambda c: not isinstance(c, Terms))

    def test(self, f: Facts) -> bool:
        return all(child.test(f) for child in self.children)

    def fast(self) -> Test:
        tests = [child.fast() for child in self.children]
        if not tests:
            return lambda f: True
        if len(tests) == 1:
            return tests[0]
        if len(tests) == 2:
            first, second = tests
            return lambda f: first(f) and second(f)

        def every(f: Facts) -> bool:
            for test in tests:  # noqa: SIM110 - a plain loop is faster than all(generator)
                if not test(f):
                    return False
            return True

        return every

    def explain(self, f: Facts, out: list[str]) -> None:
        for child in self.children:
            child.explain(f, out)

    def describe(self) -> str:
        if not self.children:
            return "always"
        return "all(" + "; ".join(c.describe() for c in self.children) + ")"

    def gate(self) -> frozenset[int] | None:
        gates = [g for g in (c.gate() for c in self.children) if g is not None]
        return min(gates, key=len) if gates else None

    def required_check(self) -> Check | None:
        return next((c for c in self.children if isinstance(c, Check)), None)


class Any(Condition):
    __slots__ = ("children",)

    def __init__(self, children: Sequence[Condition]) -> None:
        self.children = list(children)

    def test(self, f: Facts) -> bool:
        return any(child.test(f) for child in self.children)

    def fast(self) -> Test:
        tests = [child.fast() for child in self.children]

        def some(f: Facts) -> bool:
            for test in tests:  # noqa: SIM110 - a plain loop is faster than any(generator)
                if test(f):
                    return True
            return False

        return some

    def explain(self, f: Facts, out: list[str]) -> None:
        for child in self.children:
            if child.test(f):
                child.explain(f, out)

    def describe(self) -> str:
        return "any(" + "; ".join(c.describe() for c in self.children) + ")"

    def gate(self) -> frozenset[int] | None:
        gates = [c.gate() for c in self.children]
        if not gates or any(g is None for g in gates):
            return None
        return frozenset().union(*(g for g in gates if g is not None))


class Not(Condition):
    __slots__ = ("child",)

    def __init__(self, child: Condition) -> None:
        self.child = child

    def test(self, f: Facts) -> bool:
        return not self.child.test(f)

    def fast(self) -> Test:
        test = self.child.fast()
        return lambda f: not test(f)

    def describe(self) -> str:
        return f"not {self.child.describe()}"


# ---------------------------------------------------------------------------------------------
# From config to conditions


@dataclass(frozen=True)
class Vocabulary:
    """What compiling needs besides the rule: the matcher shared by every rule's words."""

    matcher: TermMatcher


def _terms(vocab: Vocabulary, kind: str, words: Sequence[str], label: str) -> Terms:
    return Terms(label, {vocab.matcher.add(w, kind): w for w in words})


def _minutes(text: str) -> int:
    hours, minutes = (int(p) for p in text.split(":"))
    return hours * 60 + minutes


def _hours_check(window: str) -> Check:
    start_text, end_text = window.split("-")
    start, end = _minutes(start_text), _minutes(end_text)

    def minute_of_day(f: Facts) -> int:
        local = f.local_time()
        return local.hour * 60 + local.minute

    if start < end:

        def inside(f: Facts) -> bool:
            return start <= minute_of_day(f) < end
    else:  # crosses midnight

        def inside(f: Facts) -> bool:
            minute = minute_of_day(f)
            return minute >= start or minute < end

    return Check(f"local time in {window}", inside, lambda f: f"{f.local_time():%a %H:%M}".lower())


def only_keywords(when: When) -> bool:
    """Whether `when` is nothing but a list of words (as a string item of a group becomes)."""
    rest = when.model_dump(exclude={"keywords"}, exclude_defaults=True)
    return bool(when.keywords) and not rest


def _any_of(items: Sequence[When], vocab: Vocabulary) -> Condition:
    """An `any` group; its plain words and phrases become one word test (one set lookup)."""
    words = [w for item in items if only_keywords(item) for w in item.keywords]
    others = [compile_when(item, vocab) for item in items if not only_keywords(item)]
    children: list[Condition] = others
    if words:
        children = [_terms(vocab, "keyword", words, "keywords"), *others]
    return children[0] if len(children) == 1 else Any(children)


def compile_when(when: When, vocab: Vocabulary) -> Condition:
    """The condition tree of one `when` table (an implicit `all`)."""
    parts: list[Condition] = []
    if when.keywords:
        parts.append(_terms(vocab, "keyword", when.keywords, "keywords"))
    if when.hashtags:
        parts.append(_terms(vocab, "hashtag", when.hashtags, "hashtags"))
    if when.handles:
        parts.append(_terms(vocab, "handle", when.handles, "handles"))
    if when.any:
        parts.append(_any_of(when.any, vocab))
    if when.all:
        parts.append(All([compile_when(item, vocab) for item in when.all]))
    if when.none:
        parts.append(Not(_any_of(when.none, vocab)))
    if when.not_ is not None:
        parts.append(Not(compile_when(when.not_, vocab)))
    if when.regex:
        parts.append(Regex(when.regex))
    parts.extend(_field_checks(when, vocab))
    if len(parts) == 1:
        return parts[0]
    return All(parts)


def _one_of(field: str, values: Iterable[str]) -> Check:
    """`field in [...]`: the mention's `field` is one of `values`."""
    allowed = frozenset(values)
    value = attrgetter(f"mention.{field}")  # C-level: the rules' hot path stays as fast
    return Check(f"{field} in {sorted(allowed)}", lambda f: value(f) in allowed, value)


def _field_checks(when: When, vocab: Vocabulary) -> list[Condition]:
    checks: list[Condition] = []
    if when.sources:
        checks.append(_one_of("source", when.sources))
    if when.languages:
        checks.append(_one_of("language", when.languages))
    if when.brands:
        checks.append(_one_of("brand", when.brands))
    if when.competitor is not None:
        wanted = when.competitor
        label = "names a competitor" if wanted else "names no competitor"
        checks.append(Check(label, lambda f: f.competitor is wanted))
    if when.sentiment_below is not None:
        below = when.sentiment_below
        checks.append(
            Check(
                f"sentiment < {below:g}",
                lambda f: (
                    f.mention.sentiment.score is not None and f.mention.sentiment.score < below
                ),
                lambda f: f"{f.mention.sentiment.score:+.2f}",
            )
        )
    if when.sentiment_above is not None:
        above = when.sentiment_above
        checks.append(
            Check(
                f"sentiment > {above:g}",
                lambda f: (
                    f.mention.sentiment.score is not None and f.mention.sentiment.score > above
                ),
                lambda f: f"{f.mention.sentiment.score:+.2f}",
            )
        )
    if when.is_question is not None:
        question = when.is_question
        checks.append(
            Check(
                "is a question" if question else "is not a question",
                lambda f: f.mention.is_question is question,
            )
        )
    if when.followers_min is not None:
        least = when.followers_min
        checks.append(
            Check(
                f"followers ≥ {least:,}",
                lambda f: f.mention.author.followers >= least,
                lambda f: f"{f.mention.author.followers:,}",
            )
        )
    if when.followers_max is not None:
        most = when.followers_max
        checks.append(
            Check(
                f"followers ≤ {most:,}",
                lambda f: f.mention.author.followers <= most,
                lambda f: f"{f.mention.author.followers:,}",
            )
        )
    if when.verified is not None:
        verified = when.verified
        checks.append(
            Check(
                "verified author" if verified else "unverified author",
                lambda f: f.mention.author.verified is verified,
            )
        )
    if when.influence_min is not None:
        influence = when.influence_min
        checks.append(
            Check(
                f"influence ≥ {influence:g}",
                lambda f: f.mention.influence >= influence,
                lambda f: f"{f.mention.influence:.2f}",
            )
        )
    if when.hours is not None:
        checks.append(_hours_check(when.hours))
    if when.weekdays:
        days = frozenset(WEEKDAYS.index(d) for d in when.weekdays)
        checks.append(
            Check(
                f"weekday in {when.weekdays}",
                lambda f: f.local_time().weekday() in days,
                lambda f: WEEKDAYS[f.local_time().weekday()],
            )
        )
    if when.alert is not None:
        kind = when.alert
        checks.append(
            Check(
                f"active {kind} alert on the brand",
                lambda f: (f.mention.brand, kind) in f.alerts or (None, kind) in f.alerts,
                lambda f: f.mention.brand or "all brands",
            )
        )
    return checks


__all__ = ["All", "Any", "Check", "Condition", "Facts", "Not", "Terms", "Vocabulary"]
