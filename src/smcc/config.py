"""config.toml as pydantic models, with errors a person can act on.

Plain pydantic + :mod:`tomllib` rather than pydantic-settings: the file is the single source of
settings (secrets excepted, see :func:`credential`), and we need the TOML text itself to point every
problem at its line (`PATH:LINE: key.path: what is wrong`), which a settings loader hides.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from smcc.models import Tier
from smcc.tomllines import key_lines, line_of

APP_NAME = "smcc"

# ---------------------------------------------------------------------------------------------
# Value types


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def parse_duration(value: object) -> timedelta:
    """'15m', '4h', '1h30m', '2d', '90s', '250ms' or a number of seconds → timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '15m', '4h' or '1d'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts).lower() != text.lower():
            raise ValueError(f"'{value}' is not a duration; write e.g. '15m', '4h', '1h30m', '1d'")
        seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts)
    else:
        raise ValueError("expected a duration such as '15m', '4h' or '1d'")
    if seconds <= 0:
        raise ValueError("a duration must be longer than zero")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

LangCode = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
"""An ISO 639-1 language code in lower case."""


class _Cfg(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------------------------------------
# Brands, operator, departments


class Brand(_Cfg):
    name: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    """Words and phrases that mean this brand (matched on word boundaries, any case)."""
    hashtags: list[str] = Field(default_factory=list)
    handles: list[str] = Field(default_factory=list)
    """The brand's own accounts, e.g. '@nusantel' or 'nusantel.bsky.social'."""

    @field_validator("hashtags")
    @classmethod
    def _hashtag(cls, tags: list[str]) -> list[str]:
        return [t if t.startswith("#") else "#" + t for t in tags]

    @field_validator("handles")
    @classmethod
    def _handle(cls, handles: list[str]) -> list[str]:
        return [h.lstrip("@") for h in handles]

    def terms(self) -> list[str]:
        """Everything that marks a post as being about this brand."""
        return [self.name, *self.keywords, *self.hashtags, *("@" + h for h in self.handles)]


def _check_timezone(tz: str) -> str:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{tz}'; use an IANA name like 'Asia/Jakarta'"
        ) from None
    return tz


class Operator(_Cfg):
    name: str = Field(default="operator", min_length=1)
    """Shown in audit events and used for the {operator} placeholder of canned replies."""
    timezone: str = "UTC"
    language: LangCode = "en"
    keys: dict[str, str] = Field(default_factory=dict)
    """Key remapping: binding id → key, e.g. claim = "c"."""

    @field_validator("timezone")
    @classmethod
    def _tz(cls, tz: str) -> str:
        return _check_timezone(tz)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")


def _check_hours(hours: str | None) -> str | None:
    if hours is not None:
        if not _HOURS.match(hours):
            raise ValueError(f"'{hours}' is not a time window; write e.g. '08:00-20:00'")
        start, end = hours.split("-")
        if start == end or (start == "00:00" and end == "24:00"):
            raise ValueError(f"'{hours}' is empty or the whole day; leave it out for all day")
    return hours


class SlaPolicy(_Cfg):
    """Time to first response per tier; tier 3 needs no reply and has no deadline by default."""

    tier1: Duration | None = timedelta(minutes=15)
    tier2: Duration | None = timedelta(hours=4)
    tier3: Duration | None = None
    warning: float = Field(default=0.8, gt=0, lt=1)
    """Share of the time to respond after which an item is flagged (0.8: at 80 %)."""

    def for_tier(self, tier: Tier) -> timedelta | None:
        value: timedelta | None = getattr(self, f"tier{tier}")
        return value


class BusinessHours(_Cfg):
    """When a department works; its SLA clocks only run inside these hours."""

    timezone: str
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    hours: str = "09:00-17:00"
    """'HH:MM-HH:MM' local time; a window that ends before it starts crosses midnight (a night
    shift '22:00-06:00' that starts on each of `days`)."""

    @field_validator("timezone")
    @classmethod
    def _tz(cls, tz: str) -> str:
        return _check_timezone(tz)

    @field_validator("hours")
    @classmethod
    def _hours(cls, hours: str) -> str:
        _check_hours(hours)
        return hours


class Department(_Cfg):
    label: str = ""
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    business_hours: BusinessHours | None = None
    """Without business hours the SLA clock runs around the clock."""


class DefaultTriage(_Cfg):
    """What a mention gets when no rule matches."""

    tier: Tier = 3
    department: str = "social"


# ---------------------------------------------------------------------------------------------
# Sources (the contract in ARCHITECTURE.md)

SOURCE_TYPES = ("demo", "replay", "twitter", "mastodon", "bluesky", "reddit", "rss")


class _SourceBase(_Cfg):
    enabled: bool = True


class DemoSourceConfig(_SourceBase):
    type: Literal["demo"] = "demo"
    rate: float = Field(default=20.0, ge=0)
    """Mentions per second of demo time outside outages; 0 is short for `speed = 0` at 20/s."""
    speed: float = Field(default=1.0, ge=0)
    """How fast demo time runs: 1 = real time, 10 = ten times faster, 0 = as fast as possible."""
    bursts: bool = True
    """Outages: the first 10–15 minutes in, then one every 20–60 minutes of demo time."""
    seed: int = 42
    languages: list[LangCode] = Field(default_factory=lambda: ["en", "id", "ru", "nl"])


class ReplaySourceConfig(_SourceBase):
    type: Literal["replay"] = "replay"
    path: Path
    """A JSONL file as written by `smcc export --format jsonl`."""
    speed: float = Field(default=1.0, ge=0)
    """Multiplier of the original pace; 0 replays as fast as possible."""


class _NetworkSource(_SourceBase):
    base_url: str = ""
    """Where the API lives: the platform's public host when empty, or a proxy / loopback server."""
    interval: Duration = timedelta(seconds=60)
    """How often to poll when the platform offers no stream."""
    timeout: Duration = timedelta(seconds=20)
    query: list[str] = Field(default_factory=list)
    """Extra search terms; by default the brands' and competitors' terms are searched."""

    @field_validator("base_url")
    @classmethod
    def _url(cls, url: str) -> str:
        if url and not re.match(r"^https?://[^\s/]+", url):
            raise ValueError(f"'{url}' is not an http(s) URL")
        return url.rstrip("/")


class TwitterSourceConfig(_NetworkSource):
    type: Literal["twitter"] = "twitter"
    accounts: list[str] = Field(default_factory=list)
    """Own accounts whose mentions timeline is read."""


class MastodonSourceConfig(_NetworkSource):
    type: Literal["mastodon"] = "mastodon"
    streaming: bool = True
    """Listen on the streaming API (server-sent events), polling only while it is down."""
    streaming_url: str = ""
    """Where the streaming API lives when not at base_url (the instance's `urls.streaming`)."""
    notifications: bool = True
    """Read mentions of the account the access token belongs to (needs the token)."""
    hashtags: list[str] | None = None
    """Hashtag timelines to follow; by default the brands' hashtags."""

    @field_validator("streaming_url")
    @classmethod
    def _streaming_url(cls, url: str) -> str:
        return _NetworkSource._url(url)

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else [t.lstrip("#") for t in tags if t.lstrip("#")]


class BlueskySourceConfig(_NetworkSource):
    type: Literal["bluesky"] = "bluesky"
    handle: str = ""
    jetstream: bool = False
    """Listen on Jetstream (every post of the network, filtered here) instead of polling."""
    jetstream_url: str = ""
    """The Jetstream instance; empty: wss://jetstream2.us-east.bsky.network/subscribe."""


class RedditSourceConfig(_NetworkSource):
    type: Literal["reddit"] = "reddit"
    subreddits: list[str] = Field(default_factory=list)
    user_agent: str = "smcc (social media command center)"
    auth_url: str = ""
    """Where OAuth tokens come from: https://www.reddit.com when empty (or a loopback server)."""


class RssFeed(_Cfg):
    """One feed with its own polling interval: `{url = "https://…", interval = "15m"}`."""

    url: str
    interval: Duration | None = None

    @field_validator("url")
    @classmethod
    def _feed_url(cls, url: str) -> str:
        return _feed_url(url)


def _feed_url(url: str) -> str:
    if not re.match(r"^https?://[^\s/]+", url):
        raise ValueError(f"'{url}' is not an http(s) URL")
    return url


class RssSourceConfig(_SourceBase):
    type: Literal["rss"] = "rss"
    feeds: list[str | RssFeed] = Field(min_length=1)
    """Feed URLs, or tables with a per-feed `interval`."""
    interval: Duration = timedelta(minutes=5)
    timeout: Duration = timedelta(seconds=20)

    @field_validator("feeds")
    @classmethod
    def _feeds(cls, feeds: list[str | RssFeed]) -> list[str | RssFeed]:
        return [_feed_url(f) if isinstance(f, str) else f for f in feeds]


SourceConfig = Annotated[
    DemoSourceConfig
    | ReplaySourceConfig
    | TwitterSourceConfig
    | MastodonSourceConfig
    | BlueskySourceConfig
    | RedditSourceConfig
    | RssSourceConfig,
    Field(discriminator="type"),
]

# ---------------------------------------------------------------------------------------------
# Rules (schema only; the engine is smcc.rules)


def _condition_item(value: object) -> object:
    # In `any`, `all` and `none` a string is a word or phrase the text must contain.
    if isinstance(value, str):
        return {"keywords": [value]}
    if not isinstance(value, dict | When):
        raise ValueError("expected a word or phrase (a string) or a table of conditions")
    return value


ConditionItem = Annotated["When", BeforeValidator(_condition_item)]


class When(_Cfg):
    """Conditions of a rule: every condition given here must hold (an implicit `all`).

    `any`, `all` and `none` hold a list whose items are words/phrases (strings) or tables of
    conditions, so groups nest: `any = ["outage", { followers_min = 50000, verified = true }]`.
    """

    keywords: list[str] = Field(default_factory=list)
    """At least one of these words or phrases (word boundaries; any case, accents, width)."""
    any: list[ConditionItem] = Field(default_factory=list)
    """At least one item holds."""
    all: list[ConditionItem] = Field(default_factory=list)
    """Every item holds."""
    none: list[ConditionItem] = Field(default_factory=list)
    """No item holds."""
    not_: When | None = Field(default=None, alias="not")
    """This table of conditions does not hold."""
    regex: list[str] = Field(default_factory=list)
    """At least one regular expression matches the text (Python syntax, case-insensitive)."""
    hashtags: list[str] = Field(default_factory=list)
    handles: list[str] = Field(default_factory=list)
    """The text mentions at least one of these @handles."""
    sources: list[str] = Field(default_factory=list)
    languages: list[LangCode] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)
    competitor: bool | None = None
    """The text names a configured competitor (or does not, with false)."""
    sentiment_below: float | None = Field(default=None, ge=-1, le=1)
    sentiment_above: float | None = Field(default=None, ge=-1, le=1)
    is_question: bool | None = None
    followers_min: int | None = Field(default=None, ge=0)
    followers_max: int | None = Field(default=None, ge=0)
    verified: bool | None = None
    influence_min: float | None = Field(default=None, ge=0, le=1)
    hours: str | None = None
    """Local time window 'HH:MM-HH:MM' (may cross midnight) in the operator's time zone."""
    weekdays: list[Weekday] = Field(default_factory=list)
    alert: str | None = None
    """Holds while an alert of this kind (e.g. 'volume_spike', or 'any') is active on the
    mention's brand."""

    @field_validator("regex")
    @classmethod
    def _regex(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns

    @field_validator("keywords", "hashtags", "handles")
    @classmethod
    def _no_blank(cls, terms: list[str]) -> list[str]:
        for term in terms:
            if not term.strip(" #@"):
                raise ValueError("an empty word or phrase matches nothing")
        return terms

    @field_validator("hours")
    @classmethod
    def _hours(cls, hours: str | None) -> str | None:
        return _check_hours(hours)

    @field_validator("alert")
    @classmethod
    def _alert(cls, kind: str | None) -> str | None:
        known = ("any", "volume_spike", "sentiment_drop", "sla_breach", "source_failing", "rule")
        if kind is not None and kind not in known:
            raise ValueError(f"unknown alert kind '{kind}'; use one of {', '.join(known)}")
        return kind


class Then(_Cfg):
    tier: Tier | None = None
    department: str | None = None
    sla: Duration | None = None
    """Overrides the department's time to respond for this rule's mentions."""
    tags: list[str] = Field(default_factory=list)
    score: float = 0.0
    """Added to the mention's priority score (sorts items within a tier)."""
    reply: str | None = None
    """Name of the canned reply to suggest."""
    notify: bool = False
    """Ring the console's bell and raise the item for the operators on duty."""


class Rule(_Cfg):
    name: str = Field(min_length=1)
    when: When = Field(default_factory=When)
    then: Then
    continue_: bool = Field(default=False, alias="continue")
    """Keep evaluating later rules after this one matched: they may add tags and score, and
    set what this rule left unset (tier, department, SLA, reply)."""


# ---------------------------------------------------------------------------------------------
# Canned replies, wall, store, pipeline


class CannedReply(_Cfg):
    key: int | None = Field(default=None, ge=1, le=9)
    """The digit that inserts this reply in the composer."""
    text: dict[LangCode, str] = Field(min_length=1)
    """The reply per language; placeholders {author}, {brand}, {operator}."""


class WallWindow(_Cfg):
    name: str = Field(min_length=1, pattern=r"^[^:.\s]+$")
    """The tmux window's name (no spaces, ':' or '.': tmux targets use them)."""
    layout: Literal[
        "tiled", "even-horizontal", "even-vertical", "main-horizontal", "main-vertical"
    ] = "tiled"
    panes: list[str] = Field(min_length=1)
    """Each pane is the arguments of `smcc view`, e.g. "queue --tier 1"."""


class Wall(_Cfg):
    session: str = Field(default="smcc", min_length=1, pattern=r"^[^:.\s]+$")
    """The tmux session `smcc wall` builds (tmux does not allow ':' or '.' in the name)."""
    ingest: bool = True
    """Run `smcc ingest` in a window of its own."""
    theme: str = "wall"
    """The panes' theme: `wall` (high contrast, big counters) or any Textual theme name."""
    windows: list[WallWindow] = Field(default_factory=list)


class SpikeConfig(_Cfg):
    """`[analysis.spikes]`: how volume spikes and sentiment drops are judged (see README)."""

    window: Duration = timedelta(minutes=2)
    """The recent stretch that is compared with the baseline."""
    baseline: Duration = timedelta(hours=1)
    min_volume: int = Field(default=20, ge=1)
    """A spike needs at least this many mentions in the window."""
    ratio: float = Field(default=2.5, gt=1)
    """... at least this many times the baseline's rate ..."""
    z: float = Field(default=4.0, gt=0)
    """... and this far above it in standard deviations (Poisson)."""
    sentiment_drop: float = Field(default=0.25, gt=0, le=2)
    cooldown: Duration = timedelta(minutes=15)
    """At most one alert of a kind per brand or keyword in this long."""
    clear_after: Duration = timedelta(minutes=5)
    """An alert clears once its series has been normal this long."""
    keywords: bool = True
    """Also watch each brand's and competitor's keywords and hashtags on their own."""


class AnalysisSettings(_Cfg):
    languages: list[LangCode] = Field(
        default_factory=lambda: ["en", "id", "ru", "nl"], min_length=1
    )
    """The languages your audience writes; language detection favours them."""
    spikes: SpikeConfig = Field(default_factory=SpikeConfig)


class StoreSettings(_Cfg):
    path: Path | None = None
    """The database; by default `smcc.db` in the user data directory."""


class PipelineSettings(_Cfg):
    batch_size: int = Field(default=2000, ge=1, le=100_000)
    batch_interval: Duration = timedelta(milliseconds=250)
    queue_size: int = Field(default=10_000, ge=1)
    """Mentions waiting to be stored; when full, sources wait (backpressure)."""


class MacroStep(_Cfg):
    """One step of a macro: exactly one of its fields."""

    reply: str | None = None
    """Queue a reply with this canned reply (in the mention's language)."""
    text: str | None = None
    """Queue a reply with this text (placeholders as in canned replies)."""
    tag: str | None = None
    """Add this tag to the mention."""
    status: Literal["claimed", "dismissed", "escalated", "new"] | None = None
    """Move the mention to this status ('new' releases it). A reply marks it replied once sent."""

    @model_validator(mode="after")
    def _one_action(self) -> MacroStep:
        given = [k for k in ("reply", "text", "tag", "status") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a step does exactly one of: reply, text, tag, status")
        return self


class Macro(_Cfg):
    """`[macros.NAME]`: a named sequence of steps on one mention (`smcc macro NAME ID`)."""

    label: str = ""
    key: str | None = None
    """The console key that runs it on the selected mention, in Textual's names ("x",
    "ctrl+o", "f5"); binding id `macro_NAME`, remappable under [operator.keys]. Without one it
    runs from the command palette."""
    steps: list[MacroStep] = Field(min_length=1)

    @field_validator("key")
    @classmethod
    def _key_name(cls, key: str | None) -> str | None:
        # "Ctrl+O" as people write it is "ctrl+o" to Textual (a terminal sends Ctrl+O and Ctrl+o
        # alike); a letter alone keeps its case (an upper-case one is that letter with Shift).
        if key is None:
            return None
        parts = [p.strip() for p in key.split("+")]
        if not key.strip() or any(not p for p in parts):
            raise ValueError(f"{key!r} is not a key; write e.g. 'x', 'ctrl+o' or 'f5'")
        if len(parts) == 1 and len(key.strip()) == 1:
            return key.strip()
        return "+".join(p.lower() for p in parts)


class ApprovalSettings(_Cfg):
    """`[outbox.approval]`: which replies and posts wait for an approver before they go out."""

    tiers: list[Literal[1, 2, 3]] = Field(default_factory=list)
    """Replies to mentions of these tiers need approval."""
    departments: list[str] = Field(default_factory=list)
    """Replies to mentions routed to these departments need approval."""
    operators: list[str] = Field(default_factory=list)
    """Everything these operators write needs approval (e.g. new team members)."""
    posts: bool = False
    """Every post (content calendar) needs approval."""
    approvers: list[str] = Field(default_factory=list)
    """Who may approve or reject; empty: any operator but the author."""


class OutboxSettings(_Cfg):
    """`[outbox]`: sending replies and scheduled posts."""

    missed_after: Duration = timedelta(hours=1)
    """A post due while nothing was sending goes out at the next start, unless it is older
    than this: then it is marked missed (and shown) instead."""
    max_attempts: int = Field(default=5, ge=1, le=100)
    retry_after: Duration = timedelta(seconds=5)
    """First wait after a failed attempt; doubles with each attempt (capped at 10 minutes)."""
    char_limits: dict[str, int] = Field(default_factory=dict)
    """Character limits by source name or type, over the defaults (mastodon 500 — set your
    server's —, twitter 280, bluesky 300 graphemes, reddit 10000)."""
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)


class Config(_Cfg):
    operator: Operator = Field(default_factory=Operator)
    brands: list[Brand] = Field(default_factory=list)
    competitors: list[Brand] = Field(default_factory=list)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    departments: dict[str, Department] = Field(
        default_factory=lambda: {"social": Department(label="Social media team")}
    )
    default: DefaultTriage = Field(default_factory=DefaultTriage)
    rules: list[Rule] = Field(default_factory=list)
    canned: dict[str, CannedReply] = Field(default_factory=dict)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    macros: dict[str, Macro] = Field(default_factory=dict)
    wall: Wall = Field(default_factory=Wall)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    secrets_file: Path | None = None
    """A 0600 TOML file `[SOURCE] field = "secret"`; environment variables take precedence."""

    @field_validator("sources", mode="before")
    @classmethod
    def _implied_type(cls, sources: Any) -> Any:
        # `[sources.mastodon]` may leave out `type = "mastodon"`.
        if isinstance(sources, dict):
            for name, table in sources.items():
                if isinstance(table, dict) and "type" not in table and name in SOURCE_TYPES:
                    table["type"] = name
        return sources

    def enabled_sources(self) -> dict[str, SourceConfig]:
        return {n: s for n, s in self.sources.items() if s.enabled}


# ---------------------------------------------------------------------------------------------
# Loading and errors


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.key}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a config file; str() gives one line per problem."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _syntax_problem(path: str, exc: tomllib.TOMLDecodeError) -> Problem:
    message = str(exc)
    match = _TOML_POS.search(message)
    if match:
        message = message[: match.start()] + f" (column {match.group(2)})"
        return Problem(path, int(match.group(1)), "toml", message)
    return Problem(path, None, "toml", message.replace(" (at end of document)", " at the end"))


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


_SOURCE_MODELS: dict[str, type[BaseModel]] = {}


def _source_models() -> dict[str, type[BaseModel]]:
    if not _SOURCE_MODELS:
        for member in SourceConfig.__origin__.__args__:  # type: ignore[attr-defined]
            _SOURCE_MODELS[member.model_fields["type"].default] = member
    return _SOURCE_MODELS


def _model_at(raw_loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The config model whose fields live at `raw_loc` (for 'did you mean' suggestions).

    `raw_loc` is pydantic's location before cleaning: inside `sources` it still holds the union
    tag, which says which source model applies.
    """
    if len(raw_loc) >= 3 and raw_loc[0] == "sources":
        return _source_models().get(str(raw_loc[2]))
    model: type[BaseModel] = Config
    for part in raw_loc:
        if isinstance(part, int):
            continue
        fields = {info.alias or name: info for name, info in model.model_fields.items()}
        if part not in fields:
            # a dict key (source name) or a union tag: the next model is decided by annotation
            continue
        annotation = fields[part].annotation
        found = _first_model(annotation)
        if found is None:
            return None
        model = found
    return model


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _message(err: Any, loc: tuple[str | int, ...]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(tuple(err["loc"])[:-1])
        hint = ""
        if model is not None and isinstance(loc[-1], str):
            close = difflib.get_close_matches(loc[-1], _field_names(model), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        return f"'type' must be one of {', '.join(SOURCE_TYPES)}"
    if kind == "union_tag_not_found":
        return f"required key is missing: one of {', '.join(SOURCE_TYPES)}"
    message = str(err["msg"])
    message = message.removeprefix("Value error, ")
    if (
        kind not in ("value_error",)
        and "input" in err
        and not isinstance(err["input"], dict | list)
    ):
        message += f" (got {err['input']!r})"
    return message


def _clean_loc(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    # Discriminated unions insert the tag ("sources", "x", "mastodon", "base_url"); function
    # validators insert "function-after[...]". Neither is a key in the file.
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and ("[" in part or "(" in part):
            continue
        if i == 2 and loc[0] == "sources" and part in SOURCE_TYPES and len(loc) > 3:
            continue
        out.append(part)
    return tuple(out)


def _dotted(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text or "(top level)"


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    # Problems without a line (a key that is missing entirely) come first: they concern the file.
    return sorted(problems, key=lambda p: p.line or 0)


def parse_config(text: str, path: str = "config.toml", base_dir: Path | None = None) -> Config:
    """Validate TOML `text`; raise ConfigError listing every problem with its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_problem(path, exc)]) from None
    lines = key_lines(text)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _clean_loc(tuple(err["loc"]))
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                loc = (*loc, "type")
            problems.append(Problem(path, line_of(lines, loc), _dotted(loc), _message(err, loc)))
        raise ConfigError(_in_file_order(problems)) from None
    problems = [
        Problem(path, line_of(lines, loc), _dotted(loc), msg) for loc, msg in cross_check(config)
    ]
    if problems:
        raise ConfigError(_in_file_order(problems))
    if base_dir is not None:
        _resolve_paths(config, base_dir)
    return config


def cross_check(config: Config) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems that span sections: names that refer to things defined elsewhere."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    departments = set(config.departments)
    known = ", ".join(sorted(departments)) or "none defined"
    if config.default.department not in departments:
        found.append(
            (("default", "department"), f"unknown department (known: {known})"),
        )
    brand_names = {b.name for b in (*config.brands, *config.competitors)}
    for i, rule in enumerate(config.rules):
        if rule.then.department is not None and rule.then.department not in departments:
            found.append(
                (("rules", i, "then", "department"), f"unknown department (known: {known})")
            )
        if rule.then.reply is not None and rule.then.reply not in config.canned:
            found.append((("rules", i, "then", "reply"), "no canned reply of that name"))
        for loc, when in walk_when(rule.when, ("rules", i, "when")):
            for j, source in enumerate(when.sources):
                if source not in config.sources:
                    found.append(((*loc, "sources", j), f"no source named '{source}'"))
            for j, brand in enumerate(when.brands):
                if brand not in brand_names:
                    found.append(((*loc, "brands", j), f"no brand or competitor named '{brand}'"))
    for name, macro in config.macros.items():
        for i, step in enumerate(macro.steps):
            if step.reply is not None and step.reply not in config.canned:
                found.append(
                    (("macros", name, "steps", i, "reply"), "no canned reply of that name")
                )
    names = [r.name for r in config.rules]
    for i, name in enumerate(names):
        if name in names[:i]:
            found.append((("rules", i, "name"), f"rule name '{name}' is used twice"))
    keys: dict[int, str] = {}
    for name, reply in config.canned.items():
        if reply.key is not None:
            if reply.key in keys:
                found.append(
                    (
                        ("canned", name, "key"),
                        f"key {reply.key} is already used by '{keys[reply.key]}'",
                    )
                )
            keys.setdefault(reply.key, name)
    return found


def walk_when(
    when: When, loc: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], When]]:
    """`when` and every condition table nested in it, each with its location in the file."""
    yield loc, when
    for group in ("any", "all", "none"):
        for j, item in enumerate(getattr(when, group)):
            yield from walk_when(item, (*loc, group, j))
    if when.not_ is not None:
        yield from walk_when(when.not_, (*loc, "not"))


def _resolve_paths(config: Config, base_dir: Path) -> None:
    """Relative paths in a config file are relative to that file, not to the working directory."""

    def fix(p: Path) -> Path:
        p = p.expanduser()
        return p if p.is_absolute() else base_dir / p

    if config.store.path is not None:
        config.store.path = fix(config.store.path)
    if config.secrets_file is not None:
        config.secrets_file = fix(config.secrets_file)
    for source in config.sources.values():
        if isinstance(source, ReplaySourceConfig):
            source.path = fix(source.path)


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), None, "file", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), None, "file", f"cannot read: {exc}")]) from None
    return parse_config(text, str(path), base_dir=path.resolve().parent)


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def find_config(explicit: Path | None = None) -> Path | None:
    """Lookup order: --config PATH, $SMCC_CONFIG, ./config.toml, the user config dir."""
    if explicit is not None:
        return explicit
    env = os.environ.get("SMCC_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path("config.toml"), user_config_path()):
        if candidate.is_file():
            return candidate
    return None


def starter_config_text() -> str:
    """The documented example config (the repository's config.toml, shipped in the package)."""
    return resources.files("smcc").joinpath("default_config.toml").read_text(encoding="utf-8")


def default_config() -> Config:
    return parse_config(starter_config_text(), "<built-in config>")


def load(explicit: Path | None = None) -> tuple[Config, Path | None]:
    """The config in effect and where it came from (None: the built-in demo setup)."""
    path = find_config(explicit)
    if path is None:
        return default_config(), None
    return load_config(path), path


# ---------------------------------------------------------------------------------------------
# Secrets


class SecretError(Exception):
    pass


def _env_name(source: str, field: str) -> str:
    return f"SMCC_{source}_{field}".upper().replace("-", "_")


def credential(config: Config, source: str, field: str) -> str | None:
    """Credential `field` of source `source`: $SMCC_<SOURCE>_<FIELD>, else the secrets file.

    The value is never logged and never part of an error message.
    """
    value = os.environ.get(_env_name(source, field))
    if value:
        return value
    if config.secrets_file is None:
        return None
    path = config.secrets_file
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SecretError(f"{path}: secrets file not found") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(f"{path}: secrets file is readable by others; run: chmod 600 {path}")
    try:
        secrets = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # The decoder's message may quote the offending text, which could be a secret.
        line = re.search(r"line (\d+)", str(exc))
        raise SecretError(f"{path}:{line.group(1) if line else '?'}: not valid TOML") from None
    table = secrets.get(source, {})
    found = table.get(field) if isinstance(table, dict) else None
    return str(found) if found is not None else None
