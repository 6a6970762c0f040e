"""Folding and the one-automaton term matcher."""

from __future__ import annotations

from smcc.rules.matcher import TermMatcher, build
from smcc.rules.text import fold, variants


def test_fold() -> None:
    assert fold("Ｄｏｗｎ") == "down"
    assert fold("Café  CRÈME\n") == "cafe creme"
    assert fold("Straße") == "strasse"
    assert fold("ЁЛКА Йогурт") == "елка иогурт"
    assert fold("ﬁx") == "fix"  # ligature


def test_variants() -> None:
    assert variants("ditagih") == ["di tagih"]
    assert variants("sinyalnya") == ["sinyal nya"]
    assert "sinyalnya hilang" in variants("sinyal hilang")
    assert variants("не работает") == []
    assert variants("dim") == []


def test_word_boundaries_and_overlaps() -> None:
    matcher = build(["no signal", "signal", "down", "sim"])
    assert matcher.find_terms("NO SIGNAL, no data") == ["no signal", "signal"]
    assert matcher.find_terms("downtown simcard") == []
    assert matcher.find_terms("sim-card down.") == ["down", "sim"]


def test_cyrillic_boundaries() -> None:
    matcher = build(["связь", "нет связи"])
    assert matcher.find_terms("Нет связи!") == ["нет связи"]
    assert matcher.find_terms("связьмаркет") == []
    assert matcher.find_terms("СВЯЗЬ пропала") == ["связь"]


def test_indonesian_clitics_after_a_term() -> None:
    matcher = build(["sinyal", "gangguan", "kartu"])
    assert matcher.find_terms("sinyalnya ilang") == ["sinyal"]
    assert matcher.find_terms("gangguan2 terus") == ["gangguan"]
    assert matcher.find_terms("kartuku hilang") == ["kartu"]
    assert matcher.find_terms("sinyalir") == []  # not a clitic


def test_one_id_per_term_across_rules() -> None:
    matcher = TermMatcher()
    first = matcher.add("Down")
    assert matcher.add("DOWN") == first
    assert matcher.add("#tag", "hashtag") == matcher.add("tag", "hashtag")
    matcher.compile()
    assert len(matcher) == 2
    assert matcher.find(fold("")) == set()


def test_empty_matcher() -> None:
    assert build([]).find_terms("anything") == []
