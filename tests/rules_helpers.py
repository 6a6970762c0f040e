"""Shared helpers for the rules tests: a small config and mentions with chosen facts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from smcc.config import Config, parse_config
from smcc.models import Author, Mention, Sentiment

BASE = """
[operator]
timezone = "Asia/Jakarta"

[[brands]]
name = "Nusantel"
keywords = ["nusantel"]

[[competitors]]
name = "Tarawa Mobile"
keywords = ["tarawa"]
hashtags = ["#tarawa"]
handles = ["@tarawamobile"]

[sources.demo]

[departments.social]
sla = { tier1 = "15m", tier2 = "4h", tier3 = "1d" }

[departments.network]
sla = { tier1 = "10m", tier2 = "1h" }

[departments.billing]
sla = { tier1 = "30m", tier2 = "8h" }

[default]
tier = 3
department = "social"

[canned.sorry]
text.en = "Sorry {author}"
"""

NOON_JAKARTA = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
"""Monday 12:00 in Jakarta (UTC+7)."""


def config(rules: str = "", extra: str = "") -> Config:
    return parse_config(BASE + extra + rules, "test.toml")


def mention(
    text: str = "hello",
    *,
    source: str = "demo",
    language: str | None = "en",
    sentiment: float | None = None,
    question: bool = False,
    followers: int = 10,
    verified: bool = False,
    influence: float = 0.0,
    brand: str | None = "Nusantel",
    at: datetime = NOON_JAKARTA,
    **extra: Any,
) -> Mention:
    return Mention(
        source=source,
        external_id=extra.pop("external_id", "1"),
        author=Author(handle="someone", followers=followers, verified=verified),
        text=text,
        language=language,
        created_at=at,
        sentiment=Sentiment(score=sentiment),
        is_question=question,
        influence=influence,
        brand=brand,
        **extra,
    )
