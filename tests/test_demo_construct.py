"""The demo builds its mentions without pydantic's validation (`smcc.sources.demo._materialise`).

They must be exactly what validation makes of the same values, down to the fields-sets, the
order of the fields and the types of the values, and they must share nothing mutable with each
other or with the catalog. The reference below is the generator as it was before it skipped
validation: the same values in a dict, validated. It repeats how a mention's text and numbers are
made on purpose (a mix-up of fields must not pass for equality): a change to that in the
generator must be made here too.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from smcc.config import Brand
from smcc.models import Mention
from smcc.sources.demo import (
    _ENGAGEMENT,
    _ENGAGEMENT_RATE,
    _MASK,
    BLOCK,
    CATEGORIES,
    DemoCatalog,
    Schedule,
    _Entry,
    demo_mention,
    demo_mentions,
)
from smcc.sources.demo_content import LANGUAGES

BRANDS = [
    Brand(name="Nusantel", keywords=["nusantel", "нусантел"], hashtags=["#nusantel"],
          handles=["@nusantel"]),
    Brand(name="Kopi Senja", keywords=["kopi senja"]),
]  # fmt: skip
COMPETITORS = [Brand(name="Tarawa Mobile", keywords=["tarawa"], handles=["@tarawamobile"])]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
JAKARTA = timezone(timedelta(hours=7))
ALSO_UTC = timezone(timedelta(0))
"""UTC, but not the `UTC` object: the generator's slow path for times."""


def validated(
    source: str, prefix: str, n: int, entry: _Entry, received: datetime, created: datetime
) -> Mention:
    """Mention n as the generator made it with validation (its code then, verbatim but for
    the author, which the catalog kept as a dict)."""
    (
        category, lang, brand, author, url, root, templates, prefixes, suffixes,
        parent_n, parent_handle, u_template, u_slots, u_deco, u_engagement,
    ) = entry  # fmt: skip
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
    return Mention.model_validate(
        {
            "source": source,
            "external_id": external_id,
            "url": url + external_id,
            "author": author.model_dump(exclude_unset=True),
            "text": text,
            "language": lang,
            "created_at": created,
            "received_at": received,
            "reply_to_id": reply_to,
            "conversation_id": conversation,
            "engagement": {
                "likes": likes,
                "reposts": reposts,
                "replies": int(likes * replies_per_like) + extra,
                "quotes": reposts // 5,
            },
            "sentiment": {},
            "brand": brand,
            "raw": {"seq": n, "category": category, "lang": lang},
        }
    )


def assert_same(fast: BaseModel, reference: BaseModel, where: str) -> None:
    """The two models hold the same: class, fields in order, fields-set, value types, values."""
    assert type(fast) is type(reference), where
    assert list(fast.__dict__) == list(reference.__dict__), where
    assert fast.__pydantic_fields_set__ == reference.__pydantic_fields_set__, where
    assert (fast.__pydantic_extra__, fast.__pydantic_private__) == (None, None), where
    assert (reference.__pydantic_extra__, reference.__pydantic_private__) == (None, None), where
    for name, expected in reference.__dict__.items():
        value = fast.__dict__[name]
        if isinstance(expected, BaseModel):
            assert isinstance(value, BaseModel), f"{where}.{name}"
            assert_same(value, expected, f"{where}.{name}")
        else:
            assert type(value) is type(expected), f"{where}.{name}: {value!r} vs {expected!r}"
            assert value == expected, f"{where}.{name}: {value!r} vs {expected!r}"
            if isinstance(expected, datetime):
                assert value.tzinfo is expected.tzinfo, f"{where}.{name}"


def check_against_validation(
    catalog: DemoCatalog,
    seed: int,
    start: int,
    count: int,
    received: datetime,
    created: list[datetime] | None = None,
) -> list[Mention]:
    fast = demo_mentions(seed, start, count, catalog, received, created)
    times = created or [received] * count
    for i, mention in enumerate(fast):
        n = start + i
        entry = catalog._current(seed, n // BLOCK)[n % BLOCK]
        reference = validated(catalog.name, f"s{seed}-", n, entry, received, times[i])
        assert mention == reference, n
        assert mention.model_dump() == reference.model_dump(), n
        assert_same(mention, reference, f"s{seed}-{n}")
    return fast


def test_built_mentions_equal_validated_ones() -> None:
    everything = DemoCatalog.build("demo", BRANDS, COMPETITORS, list(LANGUAGES), Schedule(0.5))
    checked = [
        # All languages, outages from the first few thousand mentions on (at 0.5/s).
        *check_against_validation(everything, 1, 0, 6000, T0),
        # Another seed, resumed mid-stream, with times outside UTC and not all alike.
        *check_against_validation(
            everything, 42, 50_000, 6000, T0.astimezone(JAKARTA),
            [(T0 + timedelta(seconds=i / 3)).astimezone(JAKARTA if i % 2 else ALSO_UTC)
             for i in range(6000)],
        ),
        # One language and no competitors ("competitor" posts become neutral ones).
        *check_against_validation(DemoCatalog.build("ru", BRANDS[:1], [], ["ru"]), 7, 0, 3000, T0),
        # No brands configured (the built-in one), no outages.
        *check_against_validation(
            DemoCatalog.build("fallback", [], [], ["en", "id"], Schedule(2.0, bursts=False)),
            3, 0, 3000, T0,
        ),
        *check_against_validation(
            DemoCatalog.build("nl", BRANDS, COMPETITORS, ["nl", "xx"]), 11, 1000, 3000, T0
        ),
    ]  # fmt: skip
    assert len(checked) >= 20_000
    assert set(Counter(m.raw["category"] for m in checked)) == set(CATEGORIES)
    assert {m.language for m in checked} == set(LANGUAGES)
    assert any(m.reply_to_id for m in checked)
    # Random access (a reply's thread planned outside its block) builds the same way.
    for n in (0, 1023, 1024, 77_777, 123_456):
        entry = everything._current(5, n // BLOCK)[n % BLOCK]
        assert_same(
            demo_mention(5, n, everything, T0),
            validated("demo", "s5-", n, entry, T0, T0),
            f"s5-{n}",
        )


def _containers(mention: Mention) -> list[Any]:
    """Every mutable object a mention holds (models, their dicts and fields-sets, raw)."""
    out: list[Any] = [mention.raw]
    for model in (mention, mention.author, mention.engagement, mention.sentiment):
        out += [model, model.__dict__, model.__pydantic_fields_set__]
    return out


def test_mentions_share_nothing_mutable() -> None:
    catalog = DemoCatalog.build("demo", BRANDS, COMPETITORS, list(LANGUAGES))
    mentions = demo_mentions(4, 0, 3000, catalog, T0)
    ids = [id(c) for m in mentions for c in _containers(m)]
    assert len(ids) == len(set(ids))
    by_author = Counter(m.author.handle for m in mentions)
    handle, times = by_author.most_common(1)[0]
    assert times > 1  # the same catalog author wrote several of them
    first, *others = [m for m in mentions if m.author.handle == handle]
    # What the pipeline does to a mention's author changes that mention only: not the others
    # by the same author, nor the catalog they are built from.
    seq, likes = first.raw["seq"], first.engagement.likes
    name, followers = first.author.display_name, first.author.followers
    first.author.display_name = "changed"
    first.author.followers = followers + 1
    first.author.external_id = "42"
    first.engagement.likes += 1
    first.raw["seq"] = -1
    assert all(m.author.display_name == name for m in others)
    assert all(m.author.external_id is None for m in others)
    again = demo_mention(4, seq, catalog, T0)
    assert (again.author.display_name, again.author.followers) == (name, followers)
    assert again.author.model_fields_set == {"handle", "display_name", "followers", "verified"}
    assert (again.raw["seq"], again.engagement.likes) == (seq, likes)


def test_a_time_without_zone_is_refused_as_validation_did() -> None:
    catalog = DemoCatalog.build("demo", BRANDS, COMPETITORS, ["en"])
    with pytest.raises(ValidationError, match="time zone"):
        demo_mention(1, 5, catalog, datetime(2025, 3, 1, 9, 0))
    with pytest.raises(ValidationError, match="time zone"):
        demo_mentions(1, 0, 3, catalog, T0, [T0, datetime(2025, 3, 1, 9, 0), T0])
