"""A small, fixed set of mentions for the console's tests: every tier, SLA states, hostile text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from smcc.config import Config, parse_config
from smcc.models import Author, Mention, Sentiment, Status, Triage
from smcc.store import Store

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

CONFIG_TOML = """
[operator]
name = "ayu"
timezone = "UTC"

[departments.social]
label = "Social media team"
sla = { tier1 = "15m", tier2 = "4h" }

[departments.support]
label = "Customer support"
sla = { tier1 = "10m", tier2 = "2h" }

[default]
tier = 3
department = "social"
"""

HOSTILE = (
    "[bold]not bold[/bold] [link=https://evil.example]click[/link] \x1b[31mred\x1b[0m \u202eevil"
)


def console_config(extra: str = "") -> Config:
    return parse_config(CONFIG_TOML + extra)


def clock() -> datetime:
    return NOW


def make(
    external_id: str,
    text: str,
    *,
    tier: int | None,
    age: timedelta,
    sla: timedelta | None = None,
    handle: str = "alice",
    department: str = "social",
    sentiment: float | None = None,
    conversation: str | None = None,
    status: Status = Status.NEW,
) -> Mention:
    created = NOW - age
    triage = None
    if tier is not None:
        triage = Triage.model_validate(
            {
                "tier": tier,
                "department": department,
                "sla_due": created + sla if sla else None,
                "rule": "outage" if tier == 1 else "default",
                "explanation": "matched 'down' with negative sentiment" if tier == 1 else "",
            }
        )
    return Mention(
        source="demo",
        external_id=external_id,
        url=f"https://demo.invalid/{external_id}",
        author=Author(handle=handle, display_name=handle.title(), followers=1200),
        text=text,
        language="en",
        created_at=created,
        received_at=created,
        brand="Nusantel",
        sentiment=Sentiment(
            score=sentiment,
            label="negative" if (sentiment or 0) < 0 else "neutral",
            analyzer="vader" if sentiment is not None else "",
        ),
        conversation_id=conversation,
        triage=triage,
        status=status,
    )


def seed_mentions() -> list[Mention]:
    minute = timedelta(minutes=1)
    return [
        make(
            "t1-ok",
            "Nusantel signal down in Jakarta",
            tier=1,
            age=2 * minute,
            sla=15 * minute,
            handle="budi",
            sentiment=-0.7,
            conversation="c1",
        ),
        make(
            "t1-warn",
            "still no signal, nusantel please",
            tier=1,
            age=12 * minute,
            sla=15 * minute,
            handle="citra",
            sentiment=-0.5,
        ),
        make(
            "t1-late",
            "nusantel outage for hours!!",
            tier=1,
            age=20 * minute,
            sla=15 * minute,
            handle="dewi",
            sentiment=-0.9,
        ),
        make(
            "t2-a",
            "how do I change my plan?",
            tier=2,
            age=30 * minute,
            sla=240 * minute,
            handle="eko",
        ),
        make(
            "t3-a", "nice ad from nusantel", tier=3, age=5 * minute, handle="fajar", sentiment=0.6
        ),
        make("t3-hostile", HOSTILE, tier=3, age=4 * minute, handle="mallory"),
        make(
            "t1-reply",
            "@budi same here",
            tier=1,
            age=1 * minute,
            sla=15 * minute,
            handle="gita",
            conversation="c1",
            sentiment=-0.4,
        ),
    ]


def seeded_store(path: Path) -> Store:
    store = Store.open(path)
    store.insert_batch(seed_mentions())
    return store


def mention_id(store: Store, external_id: str) -> int:
    for m in store.iter_mentions():
        if m.external_id == external_id:
            assert m.id is not None
            return m.id
    raise KeyError(external_id)
