"""The demo source: deterministic, resumable, paced, realistic, and able to publish.

The stream's truth is in `raw` ({"seq", "category", "lang"}), so these tests check the generator's
promises (determinism, random access, resume, limits, threads, bursts) and the content's shape
(languages, categories, brands, authors) without depending on any particular sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from smcc.config import Brand, DemoSourceConfig
from smcc.models import Mention
from smcc.sources.base import Fetched, HealthState, SourceError
from smcc.sources.demo import (
    BLOCK,
    BURST_SPEED,
    CALM_START,
    CATEGORIES,
    OUTAGE_GAP,
    OUTAGE_LENGTH,
    PAGE,
    REPLY_WINDOW,
    DemoCatalog,
    DemoSource,
    Schedule,
    _block_draws,
    _category,
    demo_mention,
    demo_mentions,
    expected_mentions,
    outages,
)
from smcc.sources.demo_content import LANGUAGES, REPLIES, TEMPLATES
from smcc.textclean import clean_text

BRANDS = [
    Brand(
        name="Nusantel",
        keywords=["nusantel", "nusa tel", "нусантел"],
        hashtags=["#nusantel", "#NusantelCare"],
        handles=["@nusantel", "@NusantelCare"],
    ),
    Brand(name="Kopi Senja", keywords=["kopi senja", "kopisenja"], hashtags=["#kopisenja"],
          handles=["@kopisenja"]),
]  # fmt: skip
COMPETITORS = [
    Brand(name="Tarawa Mobile", keywords=["tarawa mobile", "tarawa"], hashtags=["#tarawa"],
          handles=["@tarawamobile"]),
    Brand(name="Barista Bros", keywords=["barista bros"], hashtags=["#baristabros"],
          handles=["@baristabros"]),
]  # fmt: skip
LANGS = ["en", "id", "ru", "nl"]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


SLOW = Schedule(rate=1.0)
"""One mention a second of demo time: the first outage comes within the first 5,000 mentions."""


def catalog(
    name: str = "demo", languages: list[str] = LANGS, schedule: Schedule | None = None
) -> DemoCatalog:
    return DemoCatalog.build(name, BRANDS, COMPETITORS, languages, schedule)


def source(
    *,
    rate: float = 0,
    speed: float = 1,
    seed: int = 42,
    limit: int | None = None,
    languages: list[str] = LANGS,
    bursts: bool = True,
) -> DemoSource:
    config = DemoSourceConfig(rate=rate, speed=speed, seed=seed, languages=languages, bursts=bursts)
    return DemoSource("demo", config, BRANDS, COMPETITORS, limit=limit, clock=lambda: T0)


def timeless(mention: Mention) -> dict[str, object]:
    return mention.model_dump(exclude={"created_at", "received_at"})


async def drain(src: DemoSource, cursor: str | None = None) -> list[Fetched]:
    return [page async for page in src.stream(cursor)]


def numbered(pages: list[Fetched]) -> list[Mention]:
    return [m for page in pages for m in page.mentions if m.raw.get("seq") is not None]


@pytest.fixture(scope="module")
def first_5000() -> list[Mention]:
    return demo_mentions(42, 0, 5000, catalog(), T0)


# ---------------------------------------------------------------------------------------------
# Determinism and random access


def test_same_seed_gives_the_same_sequence() -> None:
    one = expected_mentions(7, 2500, catalog(), "demo")
    two = expected_mentions(7, 2500, catalog(), "demo")  # a fresh catalog: no shared cache
    assert [timeless(m) for m in one] == [timeless(m) for m in two]
    assert [m.external_id for m in one] == [f"s7-{n}" for n in range(2500)]


def test_different_seeds_differ() -> None:
    one = [m.text for m in expected_mentions(1, 300, catalog(), "demo")]
    two = [m.text for m in expected_mentions(2, 300, catalog(), "demo")]
    assert sum(a != b for a, b in zip(one, two, strict=True)) > 250


def test_mention_is_independent_of_language_order_and_timestamps() -> None:
    a = demo_mention(5, 1234, catalog(languages=["nl", "ru", "id", "en"]), T0)
    b = demo_mention(5, 1234, catalog(), T0 + timedelta(hours=3))
    assert timeless(a) == timeless(b)
    assert b.created_at == b.received_at == T0 + timedelta(hours=3)


def test_random_access_equals_sequential() -> None:
    sequential = demo_mentions(42, 0, 5001, catalog(), T0)
    assert demo_mention(42, 5000, catalog(), T0) == sequential[5000]
    # Around block boundaries, backwards, and replies whose thread starts in an earlier block.
    probe = catalog()
    for n in (4999, 1024, 1023, 2048, 0, 2047, 3071, 1, 4096, 4095):
        assert demo_mention(42, n, probe, T0) == sequential[n], n
    cross_block = [
        m for m in sequential if m.reply_to_id and int(m.reply_to_id.split("-")[1]) // BLOCK
        < m.raw["seq"] // BLOCK
    ]  # fmt: skip
    assert cross_block, "expected some replies to answer a post of the previous block"
    for m in cross_block[:20]:
        assert demo_mention(42, m.raw["seq"], catalog(), T0) == m


def test_inlined_category_agrees_with_the_reference() -> None:
    # `_plan_block` inlines `_category` for speed; thread resolution across blocks uses the
    # reference, so the two must agree everywhere (outages included).
    fast = Schedule(rate=0.5)
    mentions = demo_mentions(9, 0, 6 * BLOCK, catalog(schedule=fast), T0)
    assert any(m.raw["category"] == "outage" for m in mentions)
    plan = outages(9, fast)
    for m in mentions:
        n = m.raw["seq"]
        assert _category(plan, n, _block_draws(9, n // BLOCK)[n % BLOCK][0]) == m.raw["category"]


def test_names_and_urls() -> None:
    m = demo_mention(3, 77, catalog("brand_demo"), T0)
    assert m.source == "brand_demo"
    assert m.external_id == "s3-77"
    assert m.url == f"https://demo.smcc.invalid/{m.author.handle}/s3-77"
    # expected_mentions speaks for the source it is given, whatever the catalog was built with
    assert expected_mentions(3, 80, catalog("other"), "brand_demo")[77].source == "brand_demo"


# ---------------------------------------------------------------------------------------------
# Content


def test_every_category_and_language_appears_early() -> None:
    mentions = demo_mentions(42, 0, 3000, catalog(), T0)
    # the first ten minutes of demo time (12,000 mentions at 20/s) are calm: no outages
    assert set(Counter(m.raw["category"] for m in mentions)) == set(CATEGORIES) - {"outage"}
    assert {m.language for m in mentions} == set(LANGS)
    counts = Counter(m.raw["category"] for m in mentions)
    non_burst = {c: k for c, k in counts.items() if c != "outage"}
    assert max(non_burst, key=non_burst.__getitem__) == "complaint"


def test_raw_tells_the_truth(first_5000: list[Mention]) -> None:
    for n, m in enumerate(first_5000):
        assert m.raw == {"seq": n, "category": m.raw["category"], "lang": m.language}
        assert m.lang_confidence is None
        assert m.language in LANGS


def test_an_outage_burst_comes_after_a_calm_start() -> None:
    mentions = demo_mentions(42, 0, 9000, catalog(schedule=SLOW), T0)
    outages_ = [m for m in mentions if m.raw["category"] == "outage"]
    assert len(outages_) >= 100
    first = outages_[0].raw["seq"]
    assert first >= CALM_START * SLOW.rate  # a fresh demo starts calm (the detector's baseline)
    in_window = [m for m in mentions if first <= m.raw["seq"] <= first + 150]
    share = sum(m.raw["category"] == "outage" for m in in_window) / len(in_window)
    assert share > 0.6, "a burst should dominate its window"
    # one brand, several languages, the words the outage rule listens for
    burst = [m for m in outages_ if m.raw["seq"] < first + 400]
    assert len({m.brand for m in burst}) == 1
    assert len({m.language for m in burst}) >= 3
    words = ("no signal", "down", "outage", "sinyal hilang", "gangguan", "не работает",
             "нет связи", "storing")  # fmt: skip
    assert all(any(w in m.text.casefold() for w in words) for m in burst)


@pytest.mark.parametrize("seed", [1, 42, 1234])
def test_outages_happen_in_demo_time(seed: int) -> None:
    plan = outages(seed, Schedule(rate=20))
    found = [plan.number(k) for k in range(6)]
    assert CALM_START <= found[0].start_seconds <= CALM_START + 5 * 60
    for before, after in itertools.pairwise(found):
        gap = after.start_seconds - before.end_seconds
        assert OUTAGE_GAP[0] - 1 <= gap <= OUTAGE_GAP[1] + 1
    for o in found:
        length = o.end_seconds - o.start_seconds
        assert OUTAGE_LENGTH[0] - 1 <= length <= OUTAGE_LENGTH[1] + 1
        # mentions come BURST_SPEED times faster during an outage
        assert o.end - o.first == pytest.approx(length * 20 * BURST_SPEED, abs=1)
        assert plan.seconds(o.first) == pytest.approx(o.start_seconds)
        assert plan.seconds(o.end) == pytest.approx(o.end_seconds)
    # the same seed gives the same outages; demo time only moves forward
    again = outages(seed, Schedule(rate=20))
    assert again is plan or [again.number(k) for k in range(6)] == found
    times = plan.times(0, found[1].end + 10)
    assert times == [plan.seconds(n) for n in range(found[1].end + 10)]
    assert all(b > a for a, b in itertools.pairwise(times))


def test_no_bursts_means_no_outages() -> None:
    calm = Schedule(rate=1.0, bursts=False)
    mentions = demo_mentions(42, 0, 9000, catalog(schedule=calm), T0)
    assert "outage" not in {m.raw["category"] for m in mentions}
    assert outages(42, calm).seconds(9000) == 9000.0


def test_threads_point_back_within_the_stream(first_5000: list[Mention]) -> None:
    by_id = {m.external_id: m for m in first_5000}
    replies = [m for m in first_5000 if m.reply_to_id is not None]
    assert len(replies) > 300
    for m in first_5000:
        if m.reply_to_id is None:
            assert m.conversation_id == m.external_id
            assert m.raw["category"] != "reply"
            continue
        assert m.raw["category"] == "reply"
        parent = by_id[m.reply_to_id]
        assert 1 <= m.raw["seq"] - parent.raw["seq"] <= REPLY_WINDOW
        assert m.conversation_id == parent.conversation_id
        assert m.conversation_id is not None
        assert by_id[m.conversation_id].reply_to_id is None  # the root starts the thread
        assert (m.language, m.brand) == (parent.language, parent.brand)
        assert m.text.startswith(f"@{parent.author.handle} ")


def test_texts_are_clean_and_mentions_round_trip(first_5000: list[Mention]) -> None:
    for m in first_5000[:3000]:
        assert m.text
        assert m.text == m.text.strip()
        assert clean_text(m.text) == m.text  # what the pipeline stores is what we generated
        assert clean_text(m.author.display_name) == m.author.display_name
        assert Mention.model_validate_json(m.model_dump_json()) == m


def test_every_template_names_its_brand_and_questions_ask() -> None:
    for category, by_lang in TEMPLATES.items():
        assert set(by_lang) == set(LANGUAGES), category
        for lang, templates in by_lang.items():
            assert len(templates) >= (12 if category in ("complaint", "question", "praise") else 4)
            for template in templates:
                assert any(s in template for s in ("{brand}", "{handle}", "{tag}")), template
                if category == "question":
                    assert template.endswith("?"), (lang, template)
    assert all(set(by_lang) == set(LANGUAGES) for by_lang in REPLIES.values())


def test_posts_name_their_brand(first_5000: list[Mention]) -> None:
    terms = {b.name: [t.casefold() for t in b.terms()] for b in [*BRANDS, *COMPETITORS]}
    for m in first_5000:
        assert m.brand in terms
        if m.raw["category"] != "reply":
            assert any(t in m.text.casefold() for t in terms[m.brand]), m.text
    competitor_posts = [m for m in first_5000 if m.raw["category"] == "competitor"]
    assert {m.brand for m in competitor_posts} == {"Tarawa Mobile", "Barista Bros"}
    compared = [m for m in competitor_posts if "nusantel" in m.text.casefold()]
    assert compared, "some competitor posts compare with our brand"


def test_kinds_of_post_look_their_part(first_5000: list[Mention]) -> None:
    by_category: dict[str, list[Mention]] = {}
    for m in first_5000:
        by_category.setdefault(m.raw["category"], []).append(m)
    assert all(m.text.endswith("?") for m in by_category["question"])
    assert all("https://" in m.text for m in by_category["spam"])
    influencers = by_category["influencer"]
    assert all(50_000 <= m.author.followers <= 2_000_000 for m in influencers)
    assert sum(m.author.verified for m in influencers) > len(influencers) / 3
    people = [m for m in first_5000 if m.raw["category"] in ("complaint", "question", "reply")]
    followers = [m.author.followers for m in people]
    assert statistics.median(followers) < 1000
    assert sum(f < 2000 for f in followers) > 0.85 * len(followers)
    assert sum(m.author.verified for m in people) < 0.02 * len(people)
    assert len({m.author.handle for m in people}) > 500
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", m.author.handle) for m in first_5000)
    # engagement grows with the audience
    big = [m.engagement.likes for m in influencers]
    small = [m.engagement.likes for m in people]
    assert statistics.mean(big) > 20 * statistics.mean(small)
    # emoji, links and hashtags turn up, but not everywhere
    for marker in ("#", "https://", "@"):
        share = sum(marker in m.text for m in first_5000) / len(first_5000)
        assert 0.03 < share < 0.9, marker


def test_indonesian_is_colloquial(first_5000: list[Mention]) -> None:
    words = Counter(
        w for m in first_5000 if m.language == "id" for w in re.findall(r"\w+", m.text.lower())
    )
    assert sum(words[w] for w in ("gak", "udah", "banget", "kok", "sih", "bgt", "dong")) > 50


def test_language_filter() -> None:
    mentions = demo_mentions(42, 0, 2000, catalog(languages=["ru", "nl"]), T0)
    assert {m.language for m in mentions} == {"ru", "nl"}
    assert {m.raw["lang"] for m in mentions} == {"ru", "nl"}


def test_unknown_languages_are_dropped_with_a_warning() -> None:
    src = source(languages=["nl", "de"])
    assert src.catalog.languages == ("nl",)
    assert src.catalog.dropped_languages == ("de",)
    assert any("de" in w for w in src.health.warnings)
    assert {m.language for m in demo_mentions(1, 0, 200, src.catalog, T0)} == {"nl"}


def test_without_brands_a_builtin_one_is_used() -> None:
    config = DemoSourceConfig(rate=0, seed=1)
    src = DemoSource("demo", config, [], [])
    mentions = demo_mentions(1, 0, 500, src.catalog, T0)
    assert {m.brand for m in mentions} == {"Nusantel"}
    # no competitors: their share becomes neutral posts
    assert "competitor" not in {m.raw["category"] for m in mentions}


def test_brands_of_any_kind_get_content() -> None:
    # a brand that is neither a telco nor a coffee place still gets every kind of post
    shop = Brand(name="Zilverlijn", keywords=["zilverlijn"])
    generic = DemoCatalog.build("demo", [shop], [], LANGS, SLOW)
    mentions = demo_mentions(4, 0, 9000, generic, T0)
    assert {m.brand for m in mentions} == {"Zilverlijn"}
    assert set(CATEGORIES) - {m.raw["category"] for m in mentions} == {"competitor"}
    # (handles aside: a reply may answer @thecoffeecritic, an influencer anyone can follow)
    english = " ".join(re.sub(r"@\w+", "", m.text) for m in mentions if m.language == "en")
    assert "no signal" not in english  # telco talk only for telcos
    assert "coffee" not in english  # and coffee talk only for coffee places


# ---------------------------------------------------------------------------------------------
# Streaming: cursor, limit, pacing


async def test_stream_from_the_start_with_a_limit() -> None:
    src = source(limit=600)
    pages = await drain(src)
    assert [len(p.mentions) for p in pages] == [PAGE, PAGE, 600 - 2 * PAGE]
    assert [p.cursor for p in pages] == ["255", "511", "599"]
    mentions = numbered(pages)
    assert [m.raw["seq"] for m in mentions] == list(range(600))
    assert [timeless(m) for m in mentions] == [
        timeless(m) for m in expected_mentions(42, 600, catalog(), "demo")
    ]
    assert all(m.received_at == T0 for m in mentions)
    assert src.health.state is HealthState.FINISHED
    assert src.health.fetched == 600


async def test_resume_from_a_cursor_with_a_limit() -> None:
    src = source(limit=50)
    pages = await drain(src, "99")
    assert [m.raw["seq"] for m in numbered(pages)] == list(range(100, 150))
    assert pages[-1].cursor == "149"
    assert src.health.state is HealthState.FINISHED


async def test_a_restart_continues_the_exact_sequence() -> None:
    first = await drain(source(limit=333))
    second = await drain(source(limit=400), first[-1].cursor)
    stitched = numbered(first) + numbered(second)
    assert [timeless(m) for m in stitched] == [
        timeless(m) for m in expected_mentions(42, 733, catalog(), "demo")
    ]


async def test_health_is_connected_while_streaming() -> None:
    src = source(limit=1000)
    stream = src.stream(None)
    page = await anext(stream)
    assert src.health.state is HealthState.CONNECTED
    assert src.health.fetched == len(page.mentions) == PAGE
    await stream.aclose()


async def test_zero_limit_emits_nothing() -> None:
    src = source(limit=0)
    assert await drain(src, "10") == []
    assert src.health.state is HealthState.FINISHED


async def test_unreadable_cursor_starts_over_with_a_warning() -> None:
    src = source(limit=3)
    pages = await drain(src, "garbage")
    assert [m.raw["seq"] for m in numbered(pages)] == [0, 1, 2]
    assert any("garbage" in w for w in src.health.warnings)


async def _count_for(src: DemoSource, seconds: float) -> int:
    count = 0

    async def consume() -> None:
        nonlocal count
        async with contextlib.aclosing(src.stream(None)) as stream:
            async for page in stream:
                count += len(page.mentions)

    task = asyncio.create_task(consume())
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return count


async def test_rate_is_roughly_respected() -> None:
    assert 50 <= await _count_for(source(rate=200), 0.5) <= 150


async def test_high_rates_come_in_groups() -> None:
    count = await _count_for(source(rate=5000), 0.5)
    assert 1000 <= count <= 3500


async def test_other_tasks_run_while_streaming_at_full_speed() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await drain(source(limit=2000))
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert ticks >= 2000 // PAGE


# ---------------------------------------------------------------------------------------------
# Publishing


async def test_reply_is_idempotent_and_joins_the_thread() -> None:
    src = source(limit=600)
    stream = src.stream(None)
    first = await anext(stream)
    answered = next(m for m in first.mentions if m.reply_to_id is not None)

    platform_id = await src.reply(answered, "Hi! We're on it, sorry 🙏", "outbox-1")
    assert platform_id.startswith("demo-reply-")
    assert await src.reply(answered, "something else", "outbox-1") == platform_id
    other = await src.reply(answered, "Hi again", "outbox-2")
    assert other != platform_id

    rest = [page async for page in stream]
    own = [m for page in rest for m in page.mentions if m.raw.get("seq") is None]
    assert [m.external_id for m in own] == [f"own-{platform_id}", f"own-{other}"]
    reply = own[0]
    assert reply.text == "Hi! We're on it, sorry 🙏"
    assert reply.reply_to_id == answered.external_id
    assert reply.conversation_id == answered.conversation_id
    assert reply.author.handle == "nusantel"
    assert reply.author.verified
    assert reply.brand == "Nusantel"
    assert reply.raw["category"] == "own_reply"
    assert reply.source == "demo"
    assert Mention.model_validate_json(reply.model_dump_json()) == reply
    # the numbered sequence is undisturbed: the same 600, the cursor still the last number
    seqs = [m.raw["seq"] for m in numbered([first, *rest])]
    assert seqs == list(range(600))
    assert rest[-1].cursor == "599"
    assert rest[0].mentions[0].external_id == f"own-{platform_id}"  # with the next page


async def test_post_is_idempotent_and_starts_a_thread() -> None:
    src = source(limit=300)
    stream = src.stream(None)
    await anext(stream)
    post_id = await src.post("New plans from Monday! #nusantel", "calendar-7")
    assert post_id.startswith("demo-post-")
    assert await src.post("New plans from Monday! #nusantel", "calendar-7") == post_id
    rest = [page async for page in stream]
    own = [m for page in rest for m in page.mentions if m.raw.get("seq") is None]
    assert len(own) == 1
    assert own[0].external_id == f"own-{post_id}"
    assert own[0].conversation_id == own[0].external_id
    assert own[0].reply_to_id is None
    assert own[0].raw["category"] == "own_post"


async def test_published_items_show_promptly_when_paced() -> None:
    src = source(rate=0.5)  # one numbered mention every two seconds
    stream = src.stream("41")
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)
    await src.post("Maintenance tonight 01:00-03:00", "calendar-8")
    page = await asyncio.wait_for(waiting, 1.0)
    assert loop.time() - started < 1.0
    assert [m.raw["category"] for m in page.mentions] == ["own_post"]
    assert page.cursor == "41"  # nothing numbered yet: the cursor stays where it was
    await stream.aclose()


async def test_publishing_ids_survive_a_restart() -> None:
    # a retry after a crash (a new process, a new source) gets the same id for the same key
    mention = demo_mention(42, 5, catalog(), T0)
    one = await source().reply(mention, "Thanks!", "outbox-99")
    two = await source().reply(mention, "Thanks!", "outbox-99")
    assert one == two


async def test_publishing_needs_text_and_a_key() -> None:
    src = source()
    with pytest.raises(SourceError):
        await src.post("   ", "k")
    with pytest.raises(SourceError):
        await src.post("hello", "")


async def test_paced_bursts_are_volume_spikes() -> None:
    """An outage goes out BURST_SPEED times faster: a spike in volume, not just in mix."""
    first = outages(42, Schedule(rate=1)).number(0).first
    loop = asyncio.get_running_loop()

    async def paced(cursor: str | None) -> tuple[float, timedelta]:
        """Wall seconds to drain 300 mentions, and the demo time they span."""
        src = source(rate=1, speed=500, limit=300)  # built before the clock starts
        began = loop.time()
        mentions = numbered(await drain(src, cursor))
        return loop.time() - began, mentions[-1].created_at - mentions[0].created_at

    calm, calm_span = await paced(None)  # mentions 0 … 299 come long before the first outage
    burst, burst_span = await paced(str(first - 1))
    # In demo time an outage is exactly BURST_SPEED times denser (deterministic) …
    assert calm_span == timedelta(seconds=299)
    assert burst_span == timedelta(seconds=299 / BURST_SPEED)
    # … and pacing follows demo time. Only lower bounds are safe on a busy machine (a paced
    # source may be late, never early), plus a loose upper bound for the burst.
    assert calm >= 299 / 500 * 0.95
    assert burst >= 299 / 500 / BURST_SPEED * 0.95
    assert burst < calm


async def test_mentions_carry_demo_time() -> None:
    # unpaced with a limit: the history ends at the clock's time, one mention a second
    mentions = numbered(await drain(source(rate=1, speed=0, limit=120, bursts=False)))
    assert mentions[-1].created_at == T0
    assert mentions[0].created_at == T0 - timedelta(seconds=119)
    assert all(m.received_at == T0 for m in mentions)
    # rate = 0 is as fast as possible at 20 a second of demo time, starting from the cursor
    resumed = numbered(await drain(source(rate=0, limit=40), "99"))
    assert resumed[-1].created_at - resumed[0].created_at == timedelta(seconds=39 / 20)


def test_texts_without_slots_keep_a_single_percent_sign(first_5000: list[Mention]) -> None:
    """'100%' is a whole reply template; it must not come out as '100%%'."""
    assert not [m.text for m in first_5000 if "%%" in m.text]
    texts = [m.text for m in demo_mentions(42, 0, 40_000, catalog(), T0) if "100%" in m.text]
    assert texts
    assert not [t for t in texts if "%%" in t]
