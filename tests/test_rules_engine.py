"""The rules engine: each condition type, nesting, first match / continue, defaults, explaining."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rules_helpers import NOON_JAKARTA, config, mention
from smcc.config import ConfigError
from smcc.models import Alert, AlertKind, Mention
from smcc.rules import AlertBoard, Explanation, RuleEngine


def rule(name: str, when: str, then: str = "{ tier = 1 }", extra: str = "") -> str:
    return f"\n[[rules]]\nname = {name!r}\n{when}\nthen = {then}\n{extra}\n"


def holds(when: str, m: Mention, *, alerts: AlertBoard | None = None) -> bool:
    engine = RuleEngine(config(rule("r", when)), alerts)
    return engine.decide(m)[0].rule == "r"


# ---------------------------------------------------------------------------------------------
# Condition types, one by one (each with a case that holds and one that does not)


@pytest.mark.parametrize(
    ("when", "yes", "no"),
    [
        ('when.keywords = ["no signal"]', "No   SIGNAL here", "no signals"),
        ('when.any = ["down"]', "Is it down?", "downtown is busy"),
        ('when.all = ["card", "stolen"]', "my card was stolen", "my card is fine"),
        ('when.none = ["test"]', "real post", "just a test"),
        ('when.regex = ["\\\\border\\\\s*#?\\\\d{5}"]', "ORDER #12345 missing", "order 12"),
        ('when.hashtags = ["NusantelCare"]', "help #nusantelcare", "help #nusantelcares"),
        ('when.handles = ["@Nusantel"]', "hi @nusantel!", "hi @nusantelcare"),
    ],
)
def test_text_conditions(when: str, yes: str, no: str) -> None:
    assert holds(when, mention(yes))
    assert not holds(when, mention(no))


def test_keywords_ignore_case_accents_and_width() -> None:
    when = 'when.keywords = ["café", "НЕ РАБОТАЕТ", "storing"]'
    assert holds(when, mention("CAFE closed"))
    assert holds(when, mention("Cafe\u0301 closed"))  # combining accent
    assert holds(when, mention("Ｓｔｏｒｉｎｇ bij ons"))  # full-width
    assert holds(when, mention("интернет не работает!"))
    assert not holds(when, mention("интернет неработает"))


def test_indonesian_affixes() -> None:
    when = 'when.keywords = ["sinyal hilang", "ditagih"]'
    assert holds(when, mention("sinyalnya hilang lagi"))
    assert holds(when, mention("sinyal nya hilang"))
    assert holds(when, mention("kok saya di tagih dua kali"))
    assert holds(when, mention("ditagihnya kemarin"))
    assert not holds(when, mention("sinyal aman"))


@pytest.mark.parametrize(
    ("when", "yes", "no"),
    [
        ('when.sources = ["demo"]', {}, {"source": "other"}),
        ('when.languages = ["id", "ru"]', {"language": "ru"}, {"language": "en"}),
        ('when.brands = ["Nusantel"]', {}, {"brand": None}),
        ("when.sentiment_below = -0.3", {"sentiment": -0.5}, {"sentiment": -0.3}),
        ("when.sentiment_above = 0.5", {"sentiment": 0.6}, {"sentiment": None}),
        ("when.is_question = true", {"question": True}, {"question": False}),
        ("when.is_question = false", {"question": False}, {"question": True}),
        ("when.followers_min = 1000", {"followers": 1000}, {"followers": 999}),
        ("when.followers_max = 1000", {"followers": 5}, {"followers": 1001}),
        ("when.verified = true", {"verified": True}, {"verified": False}),
        ("when.influence_min = 0.5", {"influence": 0.7}, {"influence": 0.2}),
    ],
)
def test_field_conditions(when: str, yes: dict[str, object], no: dict[str, object]) -> None:
    assert holds(when, mention("x", **yes))  # type: ignore[arg-type]
    assert not holds(when, mention("x", **no))  # type: ignore[arg-type]


def test_competitor_by_term_or_by_brand() -> None:
    when = "when.competitor = true"
    assert holds(when, mention("switching to Tarawa"))
    assert holds(when, mention("follow #tarawa"))
    assert holds(when, mention("asked @TarawaMobile"))
    assert holds(when, mention("nothing named", brand="Tarawa Mobile"))
    assert not holds(when, mention("Nusantel is fine"))
    assert holds("when.competitor = false", mention("Nusantel is fine"))


def test_time_of_day_and_weekday_in_operator_zone() -> None:
    # NOON_JAKARTA is Monday 12:00 local (05:00 UTC).
    assert holds('when.hours = "08:00-17:00"', mention(at=NOON_JAKARTA))
    assert not holds('when.hours = "13:00-17:00"', mention(at=NOON_JAKARTA))
    night = 'when.hours = "22:00-06:00"'  # crosses midnight
    assert holds(night, mention(at=NOON_JAKARTA + timedelta(hours=11)))  # 23:00
    assert holds(night, mention(at=NOON_JAKARTA + timedelta(hours=17)))  # 05:00 Tue
    assert not holds(night, mention(at=NOON_JAKARTA))
    assert holds('when.weekdays = ["mon"]', mention(at=NOON_JAKARTA))
    # 05:00 UTC Sunday is still Sunday in Jakarta; 20:00 UTC Sunday is Monday there.
    sunday = NOON_JAKARTA - timedelta(days=1)
    assert not holds('when.weekdays = ["mon"]', mention(at=sunday))
    assert holds('when.weekdays = ["mon"]', mention(at=sunday + timedelta(hours=15)))


def test_alert_state_on_the_brand() -> None:
    board = AlertBoard()
    when = 'when.alert = "volume_spike"'
    assert not holds(when, mention(), alerts=board)
    board.update([Alert(kind=AlertKind.VOLUME_SPIKE, brand="Kopi", description="spike")])
    assert not holds(when, mention(), alerts=board)  # another brand's alert
    board.update([Alert(kind=AlertKind.VOLUME_SPIKE, brand="Nusantel", description="spike")])
    assert holds(when, mention(), alerts=board)
    assert holds('when.alert = "any"', mention(), alerts=board)
    assert not holds('when.alert = "sentiment_drop"', mention(), alerts=board)
    board.update([Alert(kind=AlertKind.SENTIMENT_DROP, description="all brands")])
    assert holds('when.alert = "sentiment_drop"', mention(), alerts=board)


def test_an_engine_sees_alert_updates_without_rebuilding() -> None:
    board = AlertBoard()
    engine = RuleEngine(config(rule("r", 'when.alert = "any"')), board)
    assert engine.decide(mention())[0].rule == "default"
    board.update([Alert(kind=AlertKind.RULE, brand="Nusantel", description="m")])
    assert engine.decide(mention())[0].rule == "r"


# ---------------------------------------------------------------------------------------------
# Nesting


def test_nested_groups() -> None:
    when = """when.any = [
    "outage",
    { all = ["slow", { followers_min = 1000 }] },
    { keywords = ["storing"], not = { languages = ["en"] } },
]"""
    assert holds(when, mention("big outage"))
    assert holds(when, mention("so slow", followers=5000))
    assert not holds(when, mention("so slow", followers=10))
    assert holds(when, mention("storing", language="nl"))
    assert not holds(when, mention("storing", language="en"))
    assert not holds(when, mention("all fine", followers=5000))


def test_nested_groups_as_arrays_of_tables() -> None:
    rules = """
[[rules]]
name = "vip"
then = { tier = 1 }
[[rules.when.any]]
verified = true
[[rules.when.any]]
followers_min = 100000
"""
    engine = RuleEngine(config(rules))
    assert engine.decide(mention(verified=True))[0].rule == "vip"
    assert engine.decide(mention(followers=200_000))[0].rule == "vip"
    assert engine.decide(mention())[0].rule == "default"


def test_none_group_with_tables() -> None:
    when = 'when.keywords = ["bill"]\nwhen.none = [{ languages = ["ru"] }, "paid"]'
    assert holds(when, mention("my bill"))
    assert not holds(when, mention("my bill", language="ru"))
    assert not holds(when, mention("my bill is paid"))


# ---------------------------------------------------------------------------------------------
# Order, continue, defaults, actions


def test_first_match_wins() -> None:
    engine = RuleEngine(
        config(
            rule("first", 'when.any = ["down"]', '{ tier = 1, department = "network" }')
            + rule("second", 'when.any = ["down"]', '{ tier = 2, tags = ["never"] }')
        )
    )
    triage, explanation = engine.decide(mention("down"))
    assert (triage.tier, triage.department, triage.rule, triage.tags) == (
        1,
        "network",
        "first",
        [],
    )
    assert [m.rule for m in explanation.matched] == ["first"]


def test_continue_adds_tags_and_score_and_fills_unset_fields() -> None:
    engine = RuleEngine(
        config(
            rule("vip", "when.followers_min = 1000", '{ tags = ["vip"], score = 10 }')
            + "continue = true\n"
            + rule(
                "angry",
                "when.sentiment_below = -0.3",
                '{ tags = ["angry"], score = 5, notify = true }',
                "continue = true",
            )
            + rule("outage", 'when.any = ["down"]', '{ tier = 1, department = "network" }')
            + rule("late", 'when.any = ["down"]', '{ tier = 2, tags = ["late"] }')
        )
    )
    triage, explanation = engine.decide(mention("down", followers=5000, sentiment=-0.8))
    assert triage.tier == 1
    assert triage.department == "network"
    assert triage.rule == "outage"
    assert triage.tags == ["vip", "angry"]
    assert triage.score == 15
    assert explanation.notify
    assert [m.rule for m in explanation.matched] == ["vip", "angry", "outage"]
    # A continue rule alone: tier and department come from the default, and say so.
    triage, explanation = engine.decide(mention("fine", followers=5000))
    assert (triage.tier, triage.department, triage.rule) == (3, "social", "vip")
    assert explanation.defaults == ["tier", "department"]
    assert triage.score == 10


def test_unmatched_gets_the_default_with_its_sla() -> None:
    engine = RuleEngine(config(rule("r", 'when.any = ["down"]')))
    m = mention("all good")
    triage, explanation = engine.decide(m)
    assert (triage.tier, triage.department, triage.rule) == (3, "social", "default")
    assert triage.sla_due == m.created_at + timedelta(days=1)
    assert explanation.summary() == "no rule matched: configured default"
    assert json.loads(triage.explanation)["rule"] == "default"


def test_sla_from_department_and_tier_and_rule_override() -> None:
    engine = RuleEngine(
        config(
            rule("outage", 'when.any = ["down"]', '{ tier = 1, department = "network" }')
            + rule("bill", 'when.any = ["bill"]', '{ tier = 2, department = "billing" }')
            + rule("fast", 'when.any = ["urgent"]', '{ tier = 2, sla = "5m", reply = "sorry" }')
        )
    )
    m = mention("down")
    assert engine.decide(m)[0].sla_due == m.created_at + timedelta(minutes=10)
    assert engine.decide(mention("bill"))[0].sla_due == m.created_at + timedelta(hours=8)
    triage, explanation = engine.decide(mention("urgent"))
    assert triage.sla_due == m.created_at + timedelta(minutes=5)
    assert explanation.sla_minutes == 5
    assert explanation.reply == "sorry"


def test_tier_without_deadline() -> None:
    engine = RuleEngine(
        config(rule("chat", 'when.any = ["lol"]', '{ tier = 3, department = "network" }'))
    )
    triage, explanation = engine.decide(mention("lol"))
    assert triage.sla_due is None
    assert explanation.sla_minutes is None


# ---------------------------------------------------------------------------------------------
# Explanations


def test_explanation_names_rule_conditions_and_terms() -> None:
    engine = RuleEngine(
        config(
            rule(
                "outage",
                'when.any = ["down", "outage"]\nwhen.sentiment_below = -0.3',
                '{ tier = 1, department = "network" }',
            )
        )
    )
    triage, explanation = engine.decide(mention("Outage: everything DOWN", sentiment=-0.62))
    stored = Explanation.from_json(triage.explanation)
    assert stored == explanation
    assert stored.rule == "outage"
    assert stored.terms == ["down", "outage"]
    assert stored.matched[0].held == ['keywords: "down", "outage"', "sentiment < -0.3 (-0.62)"]
    assert "sentiment < -0.3 (-0.62)" in stored.summary()


def test_explanation_of_foreign_text_is_a_default() -> None:
    assert Explanation.from_json("no rule matched: configured default").rule == "default"
    assert Explanation.from_json(None).matched == []


def test_triage_of_a_batch_sets_every_mention() -> None:
    engine = RuleEngine(config(rule("r", 'when.any = ["down"]')))
    batch = [mention("down", external_id="1"), mention("up", external_id="2")]
    engine.triage(batch)
    assert [m.triage.rule if m.triage else None for m in batch] == ["r", "default"]


# ---------------------------------------------------------------------------------------------
# Config errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (rule("r", 'when.any = [""]'), "test.toml:35: rules[0].when.any[0].keywords"),
        (rule("r", "when.any = [3]"), "rules[0].when.any[0]: expected a word or phrase"),
        (rule("r", 'when.regex = ["("]'), "rules[0].when.regex: invalid regular expression"),
        (rule("r", 'when.hours = "25:00-26:00"'), "is not a time window"),
        (rule("r", 'when.alert = "flood"'), "unknown alert kind 'flood'"),
        (rule("r", 'when.not = { sorces = ["x"] }'), "when.not.sorces: unknown key"),
        (rule("r", 'when.all = [{ sources = ["nope"] }]'), "no source named 'nope'"),
        (rule("r", 'when.brands = ["Acme"]'), "no brand or competitor named 'Acme'"),
        (rule("r", "when.followers_min = 1", '{ department = "x" }'), "unknown department"),
    ],
)
def test_rule_config_errors_point_at_the_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config(text)
    assert expected in str(caught.value)


def test_trusted_triage_equals_validated() -> None:
    from smcc.models import Triage
    from smcc.rules.engine import _trusted_triage

    values = {
        "tier": 1,
        "department": "network",
        "sla_due": NOON_JAKARTA,
        "tags": ["a"],
        "rule": "r",
        "explanation": "{}",
        "score": 2.0,
    }
    trusted = _trusted_triage(dict(values))
    assert trusted == Triage.model_validate(values)
    assert trusted.model_dump() == Triage.model_validate(values).model_dump()


def test_mentions_that_match_alike_share_an_outcome_but_not_their_values() -> None:
    engine = RuleEngine(
        config(rule("angry", "when.sentiment_below = -0.3", '{ tier = 2, tags = ["angry"] }'))
    )
    first, second = mention(sentiment=-0.5), mention(sentiment=-0.9)
    engine.triage([first, second])
    assert first.triage is not None
    assert second.triage is not None
    assert "(-0.50)" in first.triage.explanation
    assert "(-0.90)" in second.triage.explanation
    first.triage.tags.append("mutated")
    third = mention(sentiment=-0.5)
    engine.triage([third])
    assert third.triage is not None
    assert third.triage.tags == ["angry"]


def test_a_post_by_the_brands_own_account_is_tier_3_whatever_it_says() -> None:
    engine = RuleEngine(
        config(
            rule(
                "outage", 'when.any = ["gangguan", "down"]', '{ tier = 1, department = "network" }'
            ),
            extra='[[brands]]\nname = "Kopi Senja"\nhandles = ["@KopiSenja", "@kopisenja_id"]\n',
        )
    )
    ours = mention("Halo @dimastekno, kami sudah mengetahui gangguan ini")
    ours.author.handle = "KopiSenja_ID"  # as the platform writes it: no @, any case
    triage, explanation = engine.decide(ours)
    assert (triage.tier, triage.rule, triage.sla_due) == (3, "own account", None)
    assert explanation.summary() == ("own account: posted by the brand's own account @kopisenja_id")
    # Anyone else saying the same is still triaged by the rules.
    assert engine.decide(mention("gangguan lagi"))[0].tier == 1
