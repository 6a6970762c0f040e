"""The `demo` source: a seeded, deterministic stream of realistic mentions, the embedded default.

It talks about the configured brands and competitors in English, Indonesian, Russian and Dutch:
complaints, questions, praise, news and passing mentions, spam, influencer posts, replies in
threads, competitor comparisons, and every ~3,000 mentions an outage burst about one brand, so the
console has tier-1 items and volume spikes to show without any credentials. The words live in
`demo_content`; this module only chooses and assembles.

Determinism is the contract (the crash test and the benchmarks rely on it): mention number `n` is a
pure function of `(seed, n, catalog)` apart from its timestamps, so a restart from a cursor
continues the exact sequence and any mention can be regenerated on its own (`demo_mention`).

Speed is the other concern: the demo feeds the ingest benchmark, so a mention should cost little
more than making its objects. They are built without pydantic's validation, from values known to
be valid (see "The pure generator" below), and everything that does not depend on `n` is prepared
once in a `DemoCatalog` (templates compiled to `%` formats with their
filler pools resolved per brand and language, decorations as lookup tables), and randomness is
drawn per block of 1,024 mentions from one `random.Random(f"{seed}:{block}")`: a fixed number of
draws per mention, in order. A block's plans (who says what about whom, which the threads need)
are cached, so sequential generation plans each block once while random access (resuming
anywhere) costs at most a block and stays exact.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import hashlib
import itertools
import math
import random
import re
import struct
import unicodedata
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple, TypeVar, cast

from pydantic import BaseModel, TypeAdapter

from smcc.config import Brand, DemoSourceConfig
from smcc.models import (
    Author,
    Engagement,
    Mention,
    Sentiment,
    Status,
    UtcDatetime,
    utcnow,
)
from smcc.sources import demo_content as content
from smcc.sources.base import Check, CheckStatus, Fetched, HealthState, Source, SourceError

__all__ = [
    "CATEGORIES",
    "DemoCatalog",
    "DemoSource",
    "Outages",
    "Schedule",
    "demo_mention",
    "demo_mentions",
    "expected_mentions",
]

BLOCK: Final = 1024
"""Mentions per random block: one seeded Random each, so resuming anywhere costs one block."""
_BLOCK_BITS: Final = 10

PAGE: Final = 256
"""Mentions per page when streaming as fast as possible (and the most per paced page)."""

TICK: Final = 0.05
"""Seconds between paced pages: small groups each tick keep both 20/s and 5,000/s smooth."""

MAX_BACKLOG_SECONDS: Final = 2.0
"""After a longer stall (backpressure) the pacer forgets the backlog instead of flooding."""

REPLY_WINDOW: Final = 50
"""A reply answers one of the previous this-many mentions."""

DEFAULT_RATE: Final = 20.0
"""Mentions per second of demo time outside outages when the config says `rate = 0`."""

CALM_START: Final = 600.0
"""The first ten minutes of demo time are always calm: long enough for the spike detector's
baseline (`[analysis.spikes] min_baseline`), short enough that a new user sees a crisis soon."""
FIRST_OUTAGE: Final = (600.0, 900.0)
"""When (seconds of demo time) the first outage starts: 10–15 minutes into the demo."""
OUTAGE_GAP: Final = (20 * 60.0, 60 * 60.0)
"""Seconds of demo time from the end of one outage to the start of the next."""
OUTAGE_LENGTH: Final = (4 * 60.0, 10 * 60.0)
"""How long an outage lasts, in seconds of demo time."""
BURST_SHARE: Final = 0.8
"""Within an outage, this share of mentions are outage complaints about the outage's brand."""
BURST_SPEED: Final = 4.0
"""During an outage mentions come this many times faster (in demo time): a volume spike."""

CATEGORY_WEIGHTS: Final[dict[str, float]] = {
    # Outside bursts. Complaints lead, as in any webcare queue; `outage` only comes in bursts.
    "complaint": 0.30,
    "question": 0.17,
    "praise": 0.12,
    "neutral": 0.11,
    "reply": 0.10,
    "competitor": 0.09,
    "influencer": 0.06,
    "spam": 0.05,
}
CATEGORIES: Final = (*CATEGORY_WEIGHTS, "outage")
"""Every value of `raw["category"]` a numbered mention can carry."""

LANGUAGE_WEIGHTS: Final[dict[str, float]] = {"id": 0.34, "en": 0.28, "ru": 0.20, "nl": 0.18}

NEWS_SHARE: Final = 0.3
"""Share of neutral posts that are news items by news accounts."""

_MASK: Final = 0xFFFF_FFFF
_TABLE: Final = 1024
_TABLE_SHIFT: Final = 32 - 10
"""Weighted choices use a table of 1,024 entries, indexed by a draw's top 10 bits."""
_NEWS_BELOW: Final = round(NEWS_SHARE * 2**32)
_RIVAL_OUTAGE: Final = round(0.2 * 2**32)
"""Share of later outage bursts that hit a competitor instead of our brand."""
BURST_PERCENT: Final = round(BURST_SHARE * 100)

_ENGAGEMENT_RATE: Final[dict[str, float]] = {
    # Likes per follower (times a lognormal factor): what a post of this kind typically gets.
    "complaint": 0.004,
    "question": 0.002,
    "praise": 0.005,
    "neutral": 0.004,
    "reply": 0.002,
    "competitor": 0.004,
    "influencer": 0.02,
    "spam": 0.0005,
    "outage": 0.006,
}

_MOODS: Final[dict[str, str]] = {
    # What replies to a thread sound like, by the category of its first post.
    "complaint": "negative",
    "outage": "negative",
    "question": "question",
    "praise": "other",
    "neutral": "other",
    "competitor": "other",
    "influencer": "other",
    "spam": "other",
}
_REPLY_KEY: Final = {mood: "reply-" + mood for mood in content.REPLIES}
_REPLY_KEYS: Final = {category: _REPLY_KEY[mood] for category, mood in _MOODS.items()}
"""Template key of a reply, by the category of its thread's first post."""

_SLOT_RE: Final = re.compile(r"\{(\w+)\}")
_URL_CHARS: Final = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_URL_BASE: Final = "https://demo.smcc.invalid/"

AuthorData = dict[str, Any]
"""An author as the fields of an `Author`."""

_Poster = tuple[Author, str]
"""An author and the start of their posts' URLs (`https://demo.smcc.invalid/<handle>/`). The
Author is a validated prototype, shared by the catalog and never handed out: every mention gets
a copy of its own (see `_materialise`)."""


# ---------------------------------------------------------------------------------------------
# Randomness: per-block draws and burst windows (independent of the catalog)
#
# Draws are unsigned 32-bit integers: a pick from a pool of size k is `(u * k) >> 32`, and the
# low 32 bits of `u * k` are again uniform, so one draw can fill several slots in turn. Integer
# arithmetic keeps this exact (no float rounding to the pool's length) and fast.

_Draws = tuple[int, int, int, int, int, int, int, int]
"""One mention's draws: category, language, subject, template, slots, author, decoration,
engagement. Replies take language and subject from their thread, so their subject draw picks
the offset of the post they answer instead."""

_DRAWS_FORMAT: Final = struct.Struct("<8I")
_draw_cache: OrderedDict[tuple[int, int], list[_Draws]] = OrderedDict()
_DRAW_CACHE_SIZE: Final = 8


def _block_draws(seed: int, block: int) -> list[_Draws]:
    """The draws of one block's mentions, in mention order, from one seeded Random."""
    key = (seed, block)
    draws = _draw_cache.get(key)
    if draws is None:
        data = random.Random(f"{seed}:{block}").randbytes(BLOCK * 8 * 4)
        # Little-endian whatever the machine: the same stream everywhere.
        draws = cast(list[_Draws], list(_DRAWS_FORMAT.iter_unpack(data)))
        _draw_cache[key] = draws
        while len(_draw_cache) > _DRAW_CACHE_SIZE:
            _draw_cache.popitem(last=False)
    return draws


@dataclass(frozen=True, slots=True)
class Schedule:
    """The demo's clock: its calm rate and whether outages happen (see `Outages`)."""

    rate: float = DEFAULT_RATE
    """Mentions per second of demo time outside outages."""
    bursts: bool = True


class Outage(NamedTuple):
    first: int
    """The first mention number of the outage."""
    end: int
    """One past its last mention number."""
    start_seconds: float
    """Demo time (seconds after mention 0) at which it starts."""
    end_seconds: float
    subject_draw: int
    rival_draw: int


class Outages:
    """When outages happen in one stream (seed and schedule), in demo time and in mention numbers.

    Demo time is the stream's own clock: mention n is `seconds(n)` after mention 0. Outside
    outages mentions come at the schedule's rate, during one BURST_SPEED times faster. The first
    hour is calm; then an outage starts every 20–60 minutes (after the previous one ended) and
    lasts 4–10 minutes, each drawn from `Random(f"{seed}:outage:{k}")`. Outages are worked out
    lazily as far as the stream has got, in mention numbers so that the generator needs no
    floating point to tell whether mention n is in one.
    """

    def __init__(self, seed: int, schedule: Schedule) -> None:
        if schedule.rate <= 0:
            raise ValueError("a demo schedule needs a rate above zero")
        self.seed = seed
        self.schedule = schedule
        self._calm_step = 1.0 / schedule.rate
        self._burst_step = self._calm_step / BURST_SPEED
        self._list: list[Outage] = []
        self._firsts: list[int] = []

    def _extend(self, n: int) -> None:
        """Work out outages until one starts after mention n."""
        if not self.schedule.bursts:
            return
        rate = self.schedule.rate
        outages = self._list
        while not outages or outages[-1].first <= n:
            k = len(outages)
            rng = random.Random(f"{self.seed}:outage:{k}")
            if k == 0:
                start_s = rng.uniform(*FIRST_OUTAGE)
                first = round(start_s * rate)
                start_s = first * self._calm_step
            else:
                prev = outages[-1]
                first = prev.end + max(1, round(rng.uniform(*OUTAGE_GAP) * rate))
                start_s = prev.end_seconds + (first - prev.end) * self._calm_step
            count = max(1, round(rng.uniform(*OUTAGE_LENGTH) * rate * BURST_SPEED))
            outages.append(
                Outage(
                    first,
                    first + count,
                    start_s,
                    start_s + count * self._burst_step,
                    rng.getrandbits(32),
                    rng.getrandbits(32),
                )
            )
            self._firsts.append(first)

    def index(self, n: int) -> int:
        """The number of the last outage that starts at or before mention n (-1: none)."""
        self._extend(n)
        return bisect.bisect_right(self._firsts, n) - 1

    def containing(self, n: int) -> Outage | None:
        k = self.index(n)
        if k >= 0 and n < self._list[k].end:
            return self._list[k]
        return None

    def number(self, k: int) -> Outage:
        """Outage k (0-based), worked out if need be."""
        if not self.schedule.bursts:
            raise IndexError("this schedule has no outages")
        while len(self._list) <= k:
            self._extend(self._list[-1].first if self._list else 0)
        return self._list[k]

    def overlapping(self, first: int, end: int) -> list[Outage]:
        """Outages that hold any of the mentions first … end-1."""
        k = max(0, self.index(first))
        self._extend(end)
        return [o for o in self._list[k:] if o.first < end and o.end > first]

    def seconds(self, n: int) -> float:
        """Demo time of mention n, in seconds after mention 0."""
        k = self.index(n)
        if k < 0:
            return n * self._calm_step
        o = self._list[k]
        if n < o.end:
            return o.start_seconds + (n - o.first) * self._burst_step
        return o.end_seconds + (n - o.end) * self._calm_step

    def times(self, start: int, count: int) -> list[float]:
        """`seconds(n)` of mentions start … start+count-1, without a search per mention."""
        out: list[float] = []
        n, end = start, start + count
        while n < end:
            k = self.index(n)
            if k >= 0 and n < self._list[k].end:
                o = self._list[k]
                stop = min(end, o.end)
                base_n, base_s, step = o.first, o.start_seconds, self._burst_step
            else:
                base_n, base_s = (
                    (self._list[k].end, self._list[k].end_seconds) if k >= 0 else (0, 0.0)
                )
                following = self._list[k + 1].first if k + 1 < len(self._list) else end
                stop = min(end, following)
                step = self._calm_step
            out.extend(base_s + (i - base_n) * step for i in range(n, stop))
            n = stop
        return out

    def step(self, n: int) -> float:
        """Seconds of demo time from mention n to mention n + 1."""
        return self._burst_step if self.containing(n) is not None else self._calm_step


_outages_cache: OrderedDict[tuple[int, Schedule], Outages] = OrderedDict()


def outages(seed: int, schedule: Schedule) -> Outages:
    """The (shared, cached) outage plan of a stream."""
    key = (seed, schedule)
    found = _outages_cache.get(key)
    if found is None:
        found = _outages_cache[key] = Outages(seed, schedule)
        while len(_outages_cache) > 16:
            _outages_cache.popitem(last=False)
    return found


def _table(weights: Sequence[tuple[Any, float]], size: int) -> tuple[Any, ...]:
    """A lookup table of `size` entries in which each value fills its weight's share."""
    total = sum(w for _, w in weights)
    bounds = list(itertools.accumulate(w / total for _, w in weights))
    values = [v for v, _ in weights]
    return tuple(
        values[min(bisect.bisect_right(bounds, (i + 0.5) / size), len(values) - 1)]
        for i in range(size)
    )


_CATEGORY_TABLE: Final = _table(list(CATEGORY_WEIGHTS.items()), 100)
"""Category by `(u * 100) >> 32`: the weights are whole percents, so this is exact."""


def _category(plan: Outages, n: int, u: int) -> str:
    """The category mention n is drawn in (the catalog may still map an unavailable one).

    `DemoCatalog._plan_block` inlines this for speed; a test keeps the two in agreement.
    """
    if plan.containing(n) is not None:
        v = u * 100
        if v >> 32 < BURST_PERCENT:
            return "outage"
        u = v & _MASK  # what is left of the draw is uniform again
    category: str = _CATEGORY_TABLE[(u * 100) >> 32]
    if category == "reply" and n == 0:
        return "complaint"  # nothing to answer yet
    return category


def _reply_offset(n: int, u: int) -> int:
    """How far back the post that mention n answers is (1 … REPLY_WINDOW)."""
    return 1 + ((u * min(REPLY_WINDOW, n)) >> 32)


def _pick(pool: Sequence[Any], u: int) -> Any:
    return pool[(u * len(pool)) >> 32]


# ---------------------------------------------------------------------------------------------
# The catalog's pieces


class _Template(NamedTuple):
    fmt: str
    """The template as a `%s` format (literal `%` doubled)."""
    slots: tuple[tuple[str, ...], ...]
    """The filler pool of each `%s`, in order (capitalised variants already applied)."""


class _Style(NamedTuple):
    """How one kind of post (a template key) about one subject in one language is written.

    `prefixes` (10 entries) and `suffixes` (1,000 entries) are decoration tables indexed by the
    decimal digits of one draw; their entries are mixed in the right proportions already, so
    decorating a post costs two lookups.
    """

    templates: tuple[_Template, ...]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]


_Context = dict[str, _Style]
"""Styles by template key (the categories, "news", "reply-<mood>") for one subject and language."""


@dataclass(frozen=True, slots=True, eq=False)
class _Subject:
    """A brand or competitor as the demo talks about it."""

    name: str
    domain: str
    competitor: bool
    contexts: dict[str, _Context]


_Plan = tuple[str, str, _Context, str, _Poster, int, _Style, str]
"""Who says what about whom in one mention, as a tuple for speed: (category, language, context,
subject name, poster, root n, style, category of the thread's first post). Replies inherit
language, context, subject, root and thread from their parent."""

_Entry = tuple[
    str, str, str, Author, str, int, tuple[_Template, ...], tuple[str, ...], tuple[str, ...],
    int, str, int, int, int, int,
]  # fmt: skip
"""A planned mention, flat for a fast unpack: (category, language, subject name, author
prototype, URL start, root n, templates, prefixes, suffixes, n of the post it answers or -1,
that post's author's handle, and the template, slot, decoration and engagement draws)."""


def _guess_domain(brand: Brand) -> str:
    folded = " ".join([brand.name, *brand.keywords, *brand.hashtags]).casefold()
    for domain, hints in content.DOMAIN_HINTS.items():
        if any(hint in folded for hint in hints):
            return domain
    return "generic"


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def _brand_refs(brand: Brand, lang: str) -> tuple[str, ...]:
    """Ways a post names the brand: mostly its name, sometimes a keyword or its @handle."""
    refs = [brand.name] * 4
    name = brand.name.casefold()
    for keyword in brand.keywords:
        # A Cyrillic spelling only turns up in Russian posts; Latin ones anywhere.
        if (lang == "ru" or not _is_cyrillic(keyword)) and keyword.casefold() != name:
            refs.append(keyword)
    refs.append(brand.name.lower())  # people rarely bother with capitals
    refs.extend("@" + h for h in brand.handles[:1])
    # NFC like everything else we write: the pipeline normalises text, and what it stores must
    # be what we generated (the crash test compares the two).
    return tuple(unicodedata.normalize("NFC", r) for r in refs)


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_name.lower()) or "brand"


def _links(rng: random.Random, domains: Sequence[str], count: int = 48) -> tuple[str, ...]:
    return tuple(
        f"https://{rng.choice(domains)}/{''.join(rng.choices(_URL_CHARS, k=rng.randint(5, 8)))}"
        for _ in range(count)
    )


def _capitalised(pool: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v[:1].upper() + v[1:] for v in pool)


def _compile(template: str, pools: dict[str, tuple[str, ...]]) -> _Template:
    slots: list[tuple[str, ...]] = []

    def slot(match: re.Match[str]) -> str:
        name = match.group(1)
        pool = pools.get(name.lower())
        if not pool:
            raise ValueError(f"demo template {template!r}: unknown slot {{{name}}}")
        slots.append(_capitalised(pool) if name[:1].isupper() else pool)
        return "%s"

    fmt = _SLOT_RE.sub(slot, template.replace("%", "%%"))
    # Without slots the text is used as it is (never %-formatted): keep its `%` single.
    return _Template(fmt if slots else template, tuple(slots))


def _fitting(templates: Sequence[str], domain: str) -> list[str]:
    """Templates for any brand plus those for this kind of brand, kind prefix removed."""
    out = []
    for template in templates:
        kind, sep, rest = template.partition(":")
        if sep and kind in content.DOMAINS:
            if kind == domain:
                out.append(rest)
        else:
            out.append(template)
    return out


def _decorations(
    key: str, lang: str, handle: str, tags: tuple[str, ...], links: tuple[str, ...], salt: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(prefix table, suffix table) for posts of template key `key`.

    Prefix: addressing the brand's account ("@nusantel …") in 2 of 10 complaints, questions,
    spam and replies. Suffix: emoji or emoticons, hashtags (the brand's twice as likely as
    generic ones) and links, with odds per kind of post. Questions must keep ending in "?" and
    spam brings its own junk, so they get no suffix.
    """
    rng = random.Random(f"demo-decorations:{salt}:{lang}:{key}")
    emoji = {mood: by_lang[lang] for mood, by_lang in content.EMOJI.items()}
    hashtags = tags * 2 + content.HASHTAGS[lang]
    addresses = key in ("complaint", "outage", "question", "spam") or key.startswith("reply")
    prefixes = tuple((handle + " " if handle and i < 2 and addresses else "") for i in range(10))
    suffixes = []
    for i in range(1000):
        r2, r3 = i // 100, i // 10 % 10  # two independent 1-in-10 rolls
        parts: list[str] = []
        if key in ("complaint", "outage"):
            if r2 < 3:
                parts.append(rng.choice(emoji["negative"]))
            if r3 < 2 or (key == "outage" and r3 < 4):  # outages trend: more hashtags
                parts.append(rng.choice(hashtags))
            elif r3 == 9 and key == "complaint":
                parts.append(rng.choice(links))  # a screenshot of the error
        elif key == "news":
            if r3 < 6:
                parts.append(rng.choice(links))
        elif key in ("praise", "neutral", "competitor", "influencer"):
            if r2 < (4 if key == "praise" else 2):
                parts.append(rng.choice(emoji["positive" if key == "praise" else "neutral"]))
            if key != "influencer":
                if r3 < 2:
                    parts.append(rng.choice(hashtags))
                elif r3 == 9:
                    parts.append(rng.choice(links))
        elif key == _REPLY_KEY["negative"] and r2 < 2:
            parts.append(rng.choice(emoji["negative"]))
        elif key == _REPLY_KEY["other"] and r2 < 2:
            parts.append(rng.choice(emoji["positive"]))
        suffixes.append("".join(" " + p for p in parts))
    return prefixes, tuple(suffixes)


def _context(brand: Brand, domain: str, lang: str, other: Brand) -> _Context:
    """Everything posts about `brand` in `lang` can say; `other` is what competitors compare to."""
    tags = tuple(unicodedata.normalize("NFC", t) for t in brand.hashtags) or (
        "#" + _slug(brand.name),
    )
    handle = unicodedata.normalize("NFC", "@" + brand.handles[0]) if brand.handles else ""
    rng = random.Random(f"demo-links:{brand.name}:{lang}")
    links = _links(rng, content.LINK_DOMAINS)
    pools: dict[str, tuple[str, ...]] = {
        slot: values[lang] for slot, values in content.FILLERS.items()
    }
    for slot, per_domain in content.DOMAIN_FILLERS.items():
        pools[slot] = per_domain[domain][lang]
    pools["brand"] = _brand_refs(brand, lang)
    pools["other"] = tuple(r for r in _brand_refs(other, lang) if not r.startswith("@"))
    pools["handle"] = (handle,) if handle else (unicodedata.normalize("NFC", brand.name),)
    pools["tag"] = tags
    pools["url"] = links
    spam_pools = {**pools, "url": _links(rng, content.SPAM_DOMAINS)}
    sources = {key: _fitting(by_lang[lang], domain) for key, by_lang in content.TEMPLATES.items()}
    for mood, by_lang in content.REPLIES.items():
        sources[_REPLY_KEY[mood]] = list(by_lang[lang])
    context: _Context = {}
    for key, texts in sources.items():
        templates = tuple(_compile(t, spam_pools if key == "spam" else pools) for t in texts)
        prefixes, suffixes = _decorations(key, lang, handle, tags, links, brand.name)
        context[key] = _Style(templates, prefixes, suffixes)
    return context


def _poster(author: AuthorData) -> _Poster:
    return (Author.model_validate(author), f"{_URL_BASE}{author['handle']}/")


def _lognormal_followers(rng: random.Random) -> int:
    # Heavy-tailed: median ~180, about 5% above 2,000, a rare few in the tens of thousands.
    return min(60_000, int(math.exp(rng.gauss(5.2, 1.35))))


def _people(lang: str, count: int = 400) -> tuple[_Poster, ...]:
    """Ordinary accounts of one language: plausible handles, names and follower counts."""
    rng = random.Random(f"demo-authors:{lang}")
    firsts, lasts = content.FIRST_NAMES[lang], content.LAST_NAMES[lang]
    words = content.HANDLE_WORDS[lang]
    seen: set[str] = set()
    people: list[_Poster] = []
    while len(people) < count:
        first, f = rng.choice(firsts)
        last, ln = rng.choice(lasts)
        if lang == "ru" and first in content.FEMININE_RU:
            last, ln = last + "а", ln + "a"
        pattern = rng.randrange(8)
        year = rng.randint(80, 99) if rng.random() < 0.6 else rng.randint(0, 9)
        handle = (
            f"{f}_{ln}",
            f"{f}{ln}{rng.randint(1, 99)}",
            f"{f}{ln[0]}{year:02d}",
            f"{f}_{rng.choice(words)}",
            f"{f}{f[-1]}{f[-1]}",
            f"{ln}_{f}",
            f"{f}{rng.randint(100, 9999)}",
            f"{f}_{ln[:3]}" if lang != "en" else f"real{f}{ln[:3]}",
        )[pattern]
        if handle in seen:
            continue
        seen.add(handle)
        style = rng.random()
        if style < 0.5:
            display = f"{first} {last}"
        elif style < 0.7:
            display = first
        elif style < 0.82:
            display = f"{first} {last[0]}."
        elif style < 0.92:
            display = f"{first} {rng.choice(('✨', '🌻', '⚽', '☕', '🎧', '🌙', '🐱'))}"
        else:
            display = f"{first} {last}".lower()
        followers = _lognormal_followers(rng)
        verified = (followers > 10_000 and rng.random() < 0.15) or rng.random() < 0.003
        people.append(
            _poster(
                {
                    "handle": handle,
                    "display_name": display,
                    "followers": followers,
                    "verified": verified,
                }
            )
        )
    return tuple(people)


def _accounts(
    accounts: Sequence[tuple[str, str]], low: int, high: int, verified: float, salt: str
) -> tuple[_Poster, ...]:
    """Fixed accounts with log-uniform follower counts between `low` and `high`."""
    rng = random.Random(f"demo-accounts:{salt}")
    return tuple(
        _poster(
            {
                "handle": handle,
                "display_name": display,
                "followers": int(math.exp(rng.uniform(math.log(low), math.log(high)))),
                "verified": rng.random() < verified,
            }
        )
        for handle, display in accounts
    )


def _spammers(lang: str, count: int = 40) -> tuple[_Poster, ...]:
    rng = random.Random(f"demo-spam:{lang}")
    return tuple(
        _poster(
            {
                "handle": f"{rng.choice(content.SPAM_WORDS[lang])}{rng.randint(10, 99999)}",
                "display_name": rng.choice(content.SPAM_DISPLAY),
                "followers": rng.randint(0, 80),
                "verified": False,
            }
        )
        for _ in range(count)
    )


def _engagement_table() -> tuple[tuple[float, float, float, int], ...]:
    """(likes factor, reposts per like, replies per like, extra reply) by a draw's top 8 bits.

    The lognormal likes factor gives the odd viral post; reposts and replies move in opposite
    directions (a post people argue with is less often shared).
    """
    rng = random.Random("demo-engagement")
    table = []
    for _ in range(256):
        x = rng.random()
        table.append((math.exp(rng.gauss(0.0, 1.2)), 0.03 + 0.3 * x, 0.22 - 0.2 * x, int(x > 0.8)))
    return tuple(table)


_ENGAGEMENT: Final = _engagement_table()


# ---------------------------------------------------------------------------------------------
# The catalog


@dataclass(frozen=True, eq=False)
class DemoCatalog:
    """Everything the generator needs that does not depend on n; build it once per source.

    Deterministic in its arguments (the crash test builds its own and must get the same stream as
    the source); the order of `languages` does not matter. The block cache is the only mutable
    part: it keeps finished blocks so sequential generation builds each block once. Like the
    source that owns it, a catalog is meant to be used from one thread at a time.
    """

    name: str
    languages: tuple[str, ...]
    brands: tuple[_Subject, ...]
    competitors: tuple[_Subject, ...]
    own_author: AuthorData
    """The first brand's own account: the author of what `reply`/`post` publish."""
    dropped_languages: tuple[str, ...] = ()
    """Configured languages the demo has no content for (ignored)."""
    schedule: Schedule = Schedule()
    """The demo's clock and outages: which mentions are outage complaints depends on it."""
    _language_table: tuple[str, ...] = ()
    """Language by the top bits of a draw, in the languages' proportions."""
    _brand_table: tuple[_Subject, ...] = ()
    """Our brand by the top bits of a draw: the first brand gets twice each other's share."""
    _people: dict[str, tuple[_Poster, ...]] = field(default_factory=dict)
    _influencers: dict[str, tuple[_Poster, ...]] = field(default_factory=dict)
    _news: dict[str, tuple[_Poster, ...]] = field(default_factory=dict)
    _spammers: dict[str, tuple[_Poster, ...]] = field(default_factory=dict)
    _blocks: OrderedDict[tuple[int, int], list[_Entry]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    _last: list[Any] = field(default_factory=list, init=False, repr=False)
    """[seed, block, entries] of the block used last: sequential access skips the caches."""

    @classmethod
    def build(
        cls,
        name: str,
        brands: Sequence[Brand],
        competitors: Sequence[Brand],
        languages: Sequence[str],
        schedule: Schedule | None = None,
    ) -> DemoCatalog:
        ours = list(brands) or [Brand.model_validate(content.FALLBACK_BRAND)]
        wanted = set(languages)
        langs: tuple[str, ...] = tuple(lang for lang in content.LANGUAGES if lang in wanted)
        dropped = tuple(dict.fromkeys(lang for lang in languages if lang not in langs))
        if not langs:
            langs = ("en",)  # nothing we can speak was asked for: say something rather than fail
        domains = [_guess_domain(b) for b in ours]

        def subject(brand: Brand, competitor: bool) -> _Subject:
            domain = _guess_domain(brand)
            if competitor:
                # A competitor is compared with our brand of the same kind (telco with telco).
                other = next(
                    (b for b, d in zip(ours, domains, strict=True) if d == domain), ours[0]
                )
            else:
                other = competitors[0] if competitors else brand
            contexts = {lang: _context(brand, domain, lang, other) for lang in langs}
            return _Subject(brand.name, domain, competitor, contexts)

        first = ours[0]
        digest = hashlib.sha256(first.name.encode()).digest()
        own_author: AuthorData = {
            "handle": first.handles[0] if first.handles else _slug(first.name),
            "display_name": first.name,
            "followers": 25_000 + int.from_bytes(digest[:4], "big") % 225_000,
            "verified": True,
        }
        subjects = tuple(subject(b, False) for b in ours)
        # The first brand is the main one: twice the attention of each other brand.
        brand_weights = [(s, 2.0 if i == 0 else 1.0) for i, s in enumerate(subjects)]
        return cls(
            name=name,
            languages=langs,
            brands=subjects,
            competitors=tuple(subject(c, True) for c in competitors),
            own_author=own_author,
            dropped_languages=dropped,
            schedule=schedule or Schedule(),
            _language_table=_table([(lang, LANGUAGE_WEIGHTS[lang]) for lang in langs], _TABLE),
            _brand_table=_table(brand_weights, _TABLE),
            _people={lang: _people(lang) for lang in langs},
            _influencers={
                lang: _accounts(content.INFLUENCERS[lang], 50_000, 2_000_000, 0.7, lang)
                for lang in langs
            },
            _news={
                lang: _accounts(content.NEWS_ACCOUNTS[lang], 10_000, 800_000, 0.8, "news" + lang)
                for lang in langs
            },
            _spammers={lang: _spammers(lang) for lang in langs},
        )

    def with_name(self, name: str) -> DemoCatalog:
        """The same catalog for a source of another name (with a cache of its own)."""
        return self if name == self.name else replace(self, name=name)

    # -- plans: who, in what language, about which brand ---------------------------------------

    def _root_plan(self, seed: int, n: int, category: str, draws: _Draws) -> _Plan:
        """The plan of a mention that starts a thread, from its own draws."""
        _, u_lang, u_subject, _, _, u_author, u_deco, _ = draws
        lang: str = self._language_table[u_lang >> _TABLE_SHIFT]
        key = category
        if category == "competitor" and not self.competitors:
            category = key = "neutral"
        if category == "competitor":
            subject: _Subject = _pick(self.competitors, u_subject)
        elif category == "outage":
            plan = outages(seed, self.schedule)
            k = plan.index(n)
            outage = plan.number(k)
            u_burst, u_rival = outage.subject_draw, outage.rival_draw
            # Mostly our own brands go down (the first outage always does); sometimes a rival.
            if self.competitors and k > 0 and u_rival < _RIVAL_OUTAGE:
                subject = _pick(self.competitors, u_burst)
            else:
                subject = self._brand_table[u_burst >> _TABLE_SHIFT]
        else:
            subject = self._brand_table[u_subject >> _TABLE_SHIFT]
        if category == "influencer":
            poster: _Poster = _pick(self._influencers[lang], u_author)
        elif category == "spam":
            poster = _pick(self._spammers[lang], u_author)
        elif category == "neutral" and u_deco < _NEWS_BELOW:
            # The decoration draw's first digit is free here: neutral posts get no prefix.
            key = "news"
            poster = _pick(self._news[lang], u_author)
        else:
            poster = _pick(self._people[lang], u_author)
        context = subject.contexts[lang]
        return (category, lang, context, subject.name, poster, n, context[key], category)

    def _reply_plan(self, parent: _Plan, draws: _Draws) -> _Plan:
        """A reply stays in its thread's language and on its subject; anyone may write it."""
        _, lang, context, subject, _, root, _, thread = parent
        poster: _Poster = _pick(self._people[lang], draws[5])
        return ("reply", lang, context, subject, poster, root, context[_REPLY_KEYS[thread]], thread)

    def _plan(self, seed: int, n: int) -> _Plan:
        """The plan of any mention, following its thread back to the root (outside a block)."""
        chain: list[_Draws] = []
        m = n
        while True:
            draws = _block_draws(seed, m // BLOCK)[m % BLOCK]
            category = _category(outages(seed, self.schedule), m, draws[0])
            if category != "reply":
                break
            chain.append(draws)
            m -= _reply_offset(m, draws[2])
        plan = self._root_plan(seed, m, category, draws)
        for draws in reversed(chain):
            plan = self._reply_plan(plan, draws)
        return plan

    # -- blocks: plans of 1,024 mentions ---------------------------------------------------------

    def _current(self, seed: int, block: int) -> list[_Entry]:
        """The entries of a block; the last block asked for is kept at hand."""
        last = self._last
        if last and last[0] == seed and last[1] == block:
            entries: list[_Entry] = last[2]
            return entries
        entries = self._block(seed, block)
        self._last[:] = (seed, block, entries)
        return entries

    def _block(self, seed: int, block: int) -> list[_Entry]:
        """The block's plans, cached: replies need their parents' plans, and pages come in order."""
        key = (seed, block)
        cached = self._blocks.get(key)
        if cached is not None:
            return cached
        built = self._plan_block(seed, block)
        self._blocks[key] = built
        while len(self._blocks) > 4:
            self._blocks.popitem(last=False)
        return built

    def _plan_block(self, seed: int, block: int) -> list[_Entry]:
        # `_category` inlined for speed (a test keeps them in agreement); plans come from the
        # same helpers as `_plan`, so a reply whose parent lies in an earlier block agrees.
        first = block * BLOCK
        in_outage = bytearray(BLOCK)
        for o in outages(seed, self.schedule).overlapping(first, first + BLOCK):
            lo, hi = max(o.first, first) - first, min(o.end, first + BLOCK) - first
            in_outage[lo:hi] = b"\x01" * (hi - lo)
        table, mask, burst_percent = _CATEGORY_TABLE, _MASK, BURST_PERCENT
        root_plan, reply_plan = self._root_plan, self._reply_plan
        plans: list[_Plan] = []
        entries: list[_Entry] = []
        for n, draws in enumerate(_block_draws(seed, block), first):
            u_category = draws[0]
            if in_outage[n - first]:
                v = u_category * 100  # as in `_category`: the low bits are uniform again
                category = "outage" if v >> 32 < burst_percent else table[((v & mask) * 100) >> 32]
            else:
                category = table[(u_category * 100) >> 32]
            if category == "reply" and n:
                parent_n = n - 1 - ((draws[2] * (n if n < REPLY_WINDOW else REPLY_WINDOW)) >> 32)
                parent = (
                    plans[parent_n - first] if parent_n >= first else self._plan(seed, parent_n)
                )
                plan = reply_plan(parent, draws)
                parent_handle = parent[4][0].handle
            else:
                if category == "reply":
                    category = "complaint"  # mention 0 has nothing to answer
                plan = root_plan(seed, n, category, draws)
                parent_n, parent_handle = -1, ""
            plans.append(plan)
            category, lang, _, brand, (author, url), root, (templates, prefixes, suffixes), _ = plan
            entries.append(
                (
                    category,
                    lang,
                    brand,
                    author,
                    url,
                    root,
                    templates,
                    prefixes,
                    suffixes,
                    parent_n,
                    parent_handle,
                    draws[3],
                    draws[4],
                    draws[6],
                    draws[7],
                )
            )
        return entries


# ---------------------------------------------------------------------------------------------
# The pure generator
#
# Mentions are built without pydantic's validation (7 µs a mention instead of 9.8 with it,
# bench/producer.py): everything that goes in is made here and known valid (strings, counts ≥ 0,
# authors validated once in the catalog). What validation would still do is done by hand:
# defaults filled in, times normalised to UTC (`_utc_time`), and a new object for every model,
# dict and fields-set, so that no mutable state is shared between mentions or with the catalog
# (the pipeline assigns `mention.author.display_name`, say). `tests/test_demo_construct.py`
# compares the result field for field with validated mentions.

_object_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_utc_time: Final = TypeAdapter(UtcDatetime).validate_python
"""A `created_at`/`received_at` as validation would store it (only needed outside UTC)."""

_MENTION_DEFAULTS: Final[dict[str, Any]] = {
    "id": None, "source": "", "external_id": "", "url": "", "author": None, "text": "",
    "language": None, "lang_confidence": None, "created_at": None, "received_at": None,
    "reply_to_id": None, "conversation_id": None, "engagement": None, "brand": None,
    "sentiment": None, "is_question": False, "influence": 0.0, "triage": None,
    "status": Status.NEW, "raw": None,
}  # fmt: skip
"""A Mention's fields in the model's order: the defaults, and placeholders for those a demo
mention sets (copying this and setting 14 of them costs half of building a 20-key dict)."""
_MENTION_FIELDS_SET: Final = frozenset(
    ("source", "external_id", "url", "author", "text", "language", "created_at", "received_at",
     "reply_to_id", "conversation_id", "engagement", "sentiment", "brand", "raw")
)  # fmt: skip
"""The fields a validated demo mention was given (the rest are defaults)."""
_ENGAGEMENT_FIELDS_SET: Final = frozenset(("likes", "reposts", "replies", "quotes"))
_NO_SENTIMENT: Final[dict[str, Any]] = {"score": None, "label": "unknown", "analyzer": ""}
"""A `Sentiment()`'s fields: nothing given, all defaults."""

_M = TypeVar("_M", bound=BaseModel)


def _trusted(cls: type[_M], fields: dict[str, Any], fields_set: set[str]) -> _M:
    """A model holding `fields` (every field, in the model's order) as they are: no validation.

    What `model_construct` does with every field given, for a fraction of its cost. `fields`
    and `fields_set` become the model's own: the caller must not keep or share them.
    """
    model = _object_new(cls)
    _set_dict(model, fields)
    _set_fields_set(model, fields_set)
    _set_extra(model, None)
    _set_private(model, None)
    return model


def _materialise(
    source: str, prefix: str, n: int, entry: _Entry, received: datetime, created: datetime
) -> Mention:
    """Mention n from its entry: text, engagement, ids; built as described above."""
    (
        category, lang, brand, author, url, root, templates, prefixes, suffixes,
        parent_n, parent_handle, u_template, u_slots, u_deco, u_engagement,
    ) = entry  # fmt: skip

    # Text: a template, its slots filled from one draw (each pick leaves the low bits for the
    # next), then decorations looked up by the decimal digits of another.
    fmt, slots = templates[(u_template * len(templates)) >> 32]
    if slots:
        values = []
        for pool in slots:
            u_slots *= len(pool)
            values.append(pool[u_slots >> 32])
            u_slots &= _MASK
        text = fmt % tuple(values)
    else:
        text = fmt
    k = (u_deco * 10000) >> 32
    address = prefixes[k // 1000]
    if address and address[:-1] not in text:
        text = address + text + suffixes[k % 1000]
    else:
        text += suffixes[k % 1000]

    factor, reposts_per_like, replies_per_like, extra = _ENGAGEMENT[u_engagement >> 24]
    likes = int(author.followers * _ENGAGEMENT_RATE[category] * factor)
    reposts = int(likes * reposts_per_like)
    external_id = prefix + str(n)
    if parent_n < 0:
        reply_to = None
        conversation = external_id if root == n else prefix + str(root)
    else:
        text = f"@{parent_handle} {text}"
        reply_to = prefix + str(parent_n)
        conversation = prefix + str(root)
    if created.tzinfo is not UTC:
        created = _utc_time(created)
    fields = _MENTION_DEFAULTS.copy()
    fields["source"] = source
    fields["external_id"] = external_id
    fields["url"] = url + external_id
    fields["author"] = _trusted(
        Author, author.__dict__.copy(), author.__pydantic_fields_set__.copy()
    )
    fields["text"] = text
    fields["language"] = lang
    fields["created_at"] = created
    fields["received_at"] = received
    fields["reply_to_id"] = reply_to
    fields["conversation_id"] = conversation
    fields["engagement"] = _trusted(
        Engagement,
        {
            "likes": likes,
            "reposts": reposts,
            "replies": int(likes * replies_per_like) + extra,
            "quotes": reposts // 5,
        },
        set(_ENGAGEMENT_FIELDS_SET),
    )
    fields["brand"] = brand
    fields["sentiment"] = _trusted(Sentiment, _NO_SENTIMENT.copy(), set())
    fields["raw"] = {"seq": n, "category": category, "lang": lang}
    return _trusted(Mention, fields, set(_MENTION_FIELDS_SET))


def demo_mention(seed: int, n: int, catalog: DemoCatalog, received: datetime) -> Mention:
    """Mention number n (0-based) of the stream with this seed; `received` is both its times."""
    if n < 0:
        raise ValueError(f"mention numbers start at 0, not {n}")
    block = n >> _BLOCK_BITS
    entry = catalog._current(seed, block)[n - (block << _BLOCK_BITS)]
    if received.tzinfo is not UTC:
        received = _utc_time(received)
    return _materialise(catalog.name, f"s{seed}-", n, entry, received, received)


def demo_mentions(
    seed: int,
    start: int,
    count: int,
    catalog: DemoCatalog,
    received: datetime,
    created: Sequence[datetime] | None = None,
) -> list[Mention]:
    """Mentions start … start+count-1: each equal to `demo_mention`, with less overhead.

    `created` gives each its `created_at` (the source passes demo time); by default `received`.
    """
    if start < 0 or count < 0:
        raise ValueError("start and count must not be negative")
    if created is not None and len(created) != count:
        raise ValueError("created needs one time per mention")
    if received.tzinfo is not UTC:
        received = _utc_time(received)
    times = created if created is not None else itertools.repeat(received, count)
    it = iter(times)
    out: list[Mention] = []
    source, prefix = catalog.name, f"s{seed}-"
    n, stop = start, start + count
    with _gc_paused():
        while n < stop:
            block = n >> _BLOCK_BITS
            base = block << _BLOCK_BITS
            end = min(stop, base + BLOCK)
            entries = catalog._current(seed, block)
            out.extend(
                _materialise(source, prefix, m, entries[m - base], received, at)
                for m, at in zip(range(n, end), it, strict=False)
            )
            n = end
    return out


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a batch is made.

    Every mention is a dozen container objects that all stay alive until the batch is handed
    on, so the collector would run over and over during a batch, scanning the young objects and,
    as they pile up, the whole heap: that cost a third of the time of a page and most of the time
    of a long list. Mentions hold no reference cycles, so pausing loses nothing; the collector
    runs again as soon as the batch is done (unless someone else had turned it off).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def expected_mentions(seed: int, count: int, catalog: DemoCatalog, name: str) -> list[Mention]:
    """Mentions 0 … count-1 of source `name` (timestamps: now), e.g. to check what was stored."""
    return demo_mentions(seed, 0, count, catalog.with_name(name), utcnow())


# ---------------------------------------------------------------------------------------------
# The source


def schedule_of(config: DemoSourceConfig) -> Schedule:
    """The demo clock a source config asks for (`rate = 0`: as fast as possible at 20/s)."""
    return Schedule(rate=config.rate if config.rate > 0 else DEFAULT_RATE, bursts=config.bursts)


class DemoSource(Source):
    """`[sources.NAME] type = "demo"`: the generator, paced, resumable, and able to "publish".

    The cursor is the number of the last numbered mention handed on. Replies and posts published
    through it appear in the stream as the brand's own posts with the next page, outside the
    numbering, so they never shift the deterministic sequence.
    """

    type = "demo"
    can_reply = True
    can_post = True
    idempotency_window = timedelta(days=365)
    """Published ids derive from the key, so a repeat under the same key is always the same."""

    def __init__(
        self,
        name: str,
        config: DemoSourceConfig,
        brands: list[Brand],
        competitors: list[Brand],
        *,
        limit: int | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(name)
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        self.seed = config.seed
        self.schedule = schedule_of(config)
        self.speed = config.speed if config.rate > 0 else 0.0
        """How fast demo time runs against the wall clock; 0: as fast as possible."""
        self.limit = limit
        self.clock = clock
        self.catalog = DemoCatalog.build(name, brands, competitors, config.languages, self.schedule)
        self.outages = outages(self.seed, self.schedule)
        self._anchor = (0.0, clock())
        """(demo seconds, wall time) that correspond: demo time → `created_at`."""
        if self.catalog.dropped_languages:
            self.health.warn(
                f"demo has no content in {', '.join(self.catalog.dropped_languages)}; "
                f"speaking {', '.join(self.catalog.languages)}"
            )
        self._published: dict[str, str] = {}
        """Idempotency key → platform id of what was published under it."""
        self._pending: list[Mention] = []
        """Published items waiting to go out with the next page."""
        self._wake: asyncio.Event | None = None

    # -- streaming ------------------------------------------------------------------------------

    def _start(self, cursor: str | None) -> int:
        if cursor is None or cursor == "":
            return 0
        if cursor.isdigit():
            return int(cursor) + 1
        self.health.warn(f"unreadable cursor {cursor!r}; starting from the beginning")
        return 0

    def _page(self, start: int, count: int) -> list[Mention]:
        page = self._pending
        self._pending = []
        if count:
            seconds, at = self._anchor
            # timedelta(0, s) is timedelta(seconds=s) without the keyword (a fifth cheaper).
            created = [at + timedelta(0, t - seconds) for t in self.outages.times(start, count)]
            page.extend(demo_mentions(self.seed, start, count, self.catalog, self.clock(), created))
        self.health.fetched += len(page)
        return page

    async def check(self) -> list[Check]:
        return [Check("source", CheckStatus.OK, "generated locally: nothing to reach")]

    async def stream(self, cursor: str | None) -> AsyncGenerator[Fetched, None]:
        n = self._start(cursor)
        end = None if self.limit is None else n + self.limit
        last = str(n - 1) if n > 0 else None  # the cursor to report before anything new
        self._wake = asyncio.Event()  # bound to this stream's event loop
        self.health.set(HealthState.CONNECTED)
        # Mentions carry demo time: mention n is created `outages.seconds(n)` after mention 0. A
        # paced stream starts now; an unpaced one with a limit ends now (a history to look back
        # on), without one it starts now and runs ahead of the wall clock.
        now = self.clock()
        if self.speed <= 0 and end is not None and end > n:
            self._anchor = (self.outages.seconds(end - 1), now)
        else:
            self._anchor = (self.outages.seconds(n), now)
        if self.speed <= 0:
            while end is None or n < end:
                count = PAGE if end is None else min(PAGE, end - n)
                page = self._page(n, count)
                n += count
                last = str(n - 1)
                yield Fetched(page, last)
                await asyncio.sleep(0)  # let the writer and the console run between pages
        else:
            loop = asyncio.get_running_loop()
            origin = loop.time()
            due_at = self._interval(n)  # seconds after `origin` at which mention n is due
            while end is None or n < end:
                elapsed = loop.time() - origin
                if elapsed - due_at > MAX_BACKLOG_SECONDS:
                    # The consumer stalled (backpressure): keep the pace, don't flood.
                    due_at = elapsed
                count = 0
                limit = PAGE if end is None else min(PAGE, end - n)
                while count < limit and due_at <= elapsed:
                    count += 1
                    due_at += self._interval(n + count)
                if count > 0 or self._pending:
                    page = self._page(n, count)
                    n += count
                    if count:
                        last = str(n - 1)
                    yield Fetched(page, last)
                    if end is not None and n >= end:
                        break
                wait = due_at - (loop.time() - origin)
                if wait <= 0:
                    await asyncio.sleep(0)  # behind (a rate above a page per tick): go on
                    continue
                # Sleep until the next mention is due but at least a tick, so high rates go out
                # in groups; a published reply wakes us early so it shows at once.
                self._wake.clear()
                if not self._pending:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), max(TICK, wait))
        if self._pending:
            yield Fetched(self._page(n, 0), last)
        self.health.set(HealthState.FINISHED, f"limit of {self.limit} reached")

    def _interval(self, n: int) -> float:
        """Wall seconds from mention n to the next: demo time at this source's speed."""
        return self.outages.step(n) / self.speed

    # -- publishing -----------------------------------------------------------------------------

    def _publish(self, kind: str, text: str, idempotency_key: str, parent: Mention | None) -> str:
        if not idempotency_key:
            raise SourceError("publishing needs an idempotency key", fatal=True)
        known = self._published.get(idempotency_key)
        if known is not None:
            return known  # published before under this key: nothing new
        body = text.strip()
        if not body:
            raise SourceError(f"cannot publish an empty {kind}", fatal=True)
        # Derived from the key, so even a restarted process answers a retry with the same id
        # (and the store's dedupe on the external id keeps a re-injected copy out).
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
        platform_id = f"demo-{kind}-{digest}"
        external_id = f"own-{platform_id}"
        now = self.clock()
        author = self.catalog.own_author
        mention = Mention(
            source=self.name,
            external_id=external_id,
            url=f"https://demo.smcc.invalid/{author['handle']}/{external_id}",
            author=Author(**author),
            text=body,
            created_at=now,
            received_at=now,
            reply_to_id=parent.external_id if parent else None,
            conversation_id=(parent.conversation_id or parent.external_id)
            if parent
            else external_id,
            brand=self.catalog.brands[0].name,
            raw={"seq": None, "category": f"own_{kind}", "lang": None, "platform_id": platform_id},
        )
        self._published[idempotency_key] = platform_id
        self._pending.append(mention)
        if self._wake is not None:
            self._wake.set()
        return platform_id

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        """Publish `text` as the brand's reply to `mention`; it joins the mention's thread."""
        return self._publish("reply", text, idempotency_key, mention)

    async def post(self, text: str, idempotency_key: str) -> str:
        """Publish `text` as a new post of the brand."""
        return self._publish("post", text, idempotency_key, None)
