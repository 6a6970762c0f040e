"""The root config.toml's rules on the demo's situations, in all four languages (issue 4, point 8).

The demo tags every mention it makes with its category (`raw["category"]`); the rules never look
at that tag, only at the text and the author, as they would for real posts.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from smcc.analysis.analyzer import MentionAnalyzer
from smcc.config import default_config
from smcc.models import Author, Mention, Triage, utcnow
from smcc.rules import Explanation, RuleEngine
from smcc.sources.demo import DemoCatalog, Schedule, demo_mentions, outages


@pytest.fixture(scope="module")
def triaged() -> list[Mention]:
    config = default_config()
    catalog = DemoCatalog.build("demo", config.brands, config.competitors, ["en", "id", "ru", "nl"])
    # The first demo hour is calm: add the start of the first outage for the outage cases.
    outage = outages(42, Schedule()).number(0)
    mentions = demo_mentions(42, 0, 4000, catalog, utcnow())
    mentions += demo_mentions(42, outage.first, 2000, catalog, utcnow())
    MentionAnalyzer(config.analysis.languages, config.brands, config.competitors).analyse(mentions)
    RuleEngine(config).triage(mentions)
    return mentions


def share(mentions: list[Mention], category: str, ok: object) -> dict[str, float]:
    """Per language: the share of `category` mentions for which `ok(mention)` holds."""
    hits: dict[str, Counter[bool]] = defaultdict(Counter)
    for m in mentions:
        if m.raw.get("category") == category:
            hits[str(m.raw.get("lang", m.language))][bool(ok(m))] += 1  # type: ignore[operator]
    return {lang: c[True] / (c[True] + c[False]) for lang, c in hits.items()}


def tier(m: Mention) -> int:
    assert m.triage is not None
    return m.triage.tier


@pytest.mark.parametrize(
    ("category", "expected", "least"),
    [
        ("outage", lambda m: tier(m) == 1 and m.triage.department == "network", 0.97),
        ("question", lambda m: tier(m) == 2, 0.97),
        ("complaint", lambda m: tier(m) <= 2, 0.95),
        ("praise", lambda m: tier(m) == 3 and "praise" in m.triage.tags, 0.9),
        ("spam", lambda m: tier(m) == 3 and "spam" in m.triage.tags, 0.97),
        ("neutral", lambda m: tier(m) == 3, 0.9),
    ],
)
def test_demo_situations_in_every_language(
    triaged: list[Mention], category: str, expected: object, least: float
) -> None:
    shares = share(triaged, category, expected)
    assert set(shares) == {"en", "id", "ru", "nl"}, shares
    assert min(shares.values()) >= least, shares


def test_influential_complaints_are_tier_one(triaged: list[Mention]) -> None:
    influential = [m for m in triaged if m.author.followers >= 50_000]
    complaints = [m for m in influential if m.triage and m.triage.rule == "influencer_complaint"]
    assert complaints, "the demo has influencers who complain"
    assert {tier(m) for m in complaints} == {1}
    assert all("influencer" in m.triage.tags for m in complaints if m.triage)
    assert {m.language for m in complaints} >= {"en", "id", "ru", "nl"}


def test_questions_reach_the_right_department(triaged: list[Mention]) -> None:
    departments = Counter(
        m.triage.department for m in triaged if m.raw.get("category") == "question" and m.triage
    )
    assert departments["support"] > departments["billing"] > 0
    assert departments["network"] > 0


def test_every_demo_mention_gets_tier_department_deadline_and_explanation(
    triaged: list[Mention],
) -> None:
    for m in triaged:
        assert m.triage is not None
        assert m.triage.department
        assert m.triage.sla_due is not None
        assert m.triage.sla_due > m.created_at
        explanation = Explanation.from_json(m.triage.explanation)
        assert explanation.rule == m.triage.rule
        if m.triage.rule != "default":
            assert explanation.matched


def triage_one(text: str, followers: int = 0) -> Triage:
    """The root config's triage of one post (analysed first, as the pipeline does)."""
    config = default_config()
    mention = Mention(
        source="t",
        external_id="1",
        author=Author(handle="u", followers=followers),
        text=text,
        created_at=utcnow(),
    )
    MentionAnalyzer(config.analysis.languages, config.brands, config.competitors).analyse([mention])
    RuleEngine(config).triage([mention])
    assert mention.triage is not None
    return mention.triage


@pytest.mark.parametrize(
    "text",
    [
        "my internet stopped working",
        "Sinyal Nusantel hilang total dari pagi",
        "internet mati dari tadi pagi",
        "у меня нет интернета уже 3 часа",
        "mijn internet werkt niet",
    ],
)
def test_outages_in_words_the_demo_does_not_use(text: str) -> None:
    """The root config is for real posts too, not only the demo's own phrasing."""
    triage = triage_one(text)
    assert (triage.tier, triage.rule) == (1, "outage")


@pytest.mark.parametrize(
    "text",
    [
        "Not an ad, but Nusantel is really good: coverage is solid everywhere",
        "Bukan iklan, tapi Nusantel emang bagus: sinyalnya stabil banget",
        "Не реклама, но Nusantel правда хорош: связь стабильная",
        "Geen reclame, maar Nusantel is echt goed: bereik is overal prima",
    ],
)
def test_an_influencers_but_alone_is_no_complaint(text: str) -> None:
    """but/tapi/но/maar once made any post by a 50k-follower author a tier-1 complaint."""
    triage = triage_one(text, followers=200_000)
    assert triage.rule != "influencer_complaint"
    assert triage.tier != 1


@pytest.mark.parametrize(
    "text",
    [
        "Tested Nusantel for 3 weeks. TL;DR: data is really fast, but calls keep cutting out.",
        "Review jujur: kuotanya awet, tapi internet lemot parah. Full review 👇",
        "Коротко: тарифы адекватные, но звонки обрываются. Подробный обзор на канале",
        "Kort: de prijs is echt scherp, maar 4G valt constant weg. Volledige review",
    ],
)
def test_an_influencers_review_naming_a_problem_is_tier_one(text: str) -> None:
    triage = triage_one(text, followers=200_000)
    assert (triage.tier, triage.rule) == (1, "influencer_complaint")
    assert triage_one(text, followers=500).tier != 1
