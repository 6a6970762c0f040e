"""The analyse stage and `smcc analyze`: language, question, influence; odd input never stops it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from smcc.analysis.analyzer import MentionAnalyzer, analyze_line
from smcc.cli import main
from smcc.config import Brand
from smcc.models import Author, Engagement, Mention

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def analyzer() -> MentionAnalyzer:
    return MentionAnalyzer(["en", "id", "ru", "nl"], [Brand(name="Nusantel")])


def mention(text: str, followers: int = 10) -> Mention:
    return Mention(
        source="demo",
        external_id=text[:20],
        author=Author(handle="someone", followers=followers),
        text=text,
        created_at=T0,
        engagement=Engagement(likes=3),
    )


def test_analyse_fills_language_question_influence_and_brand(analyzer: MentionAnalyzer) -> None:
    batch = [
        mention("Kenapa sinyal Nusantel hilang terus dari pagi di Bandung", followers=120_000),
        mention("Почему у меня опять не работает мобильный интернет"),
        mention("Geweldige service vandaag, dank jullie wel allemaal"),
        mention("Just switched and the coverage is great, really happy"),
        mention("https://t.co/xyz 🔥🔥"),
        mention("https://t.co/abc"),
    ]
    analyzer.analyse(batch)
    assert [m.language for m in batch] == ["id", "ru", "nl", "en", None, None]
    assert all(0.4 <= (m.lang_confidence or 0) <= 1 for m in batch[:4])
    assert batch[4].lang_confidence is None
    assert [m.is_question for m in batch] == [True, True, False, False, False, False]
    assert batch[0].influence > batch[1].influence > 0
    assert batch[0].brand == "Nusantel"
    assert [m.sentiment.label for m in batch] == [
        "negative",
        "negative",
        "positive",
        "positive",
        "positive",  # no words, only emoji: the emoji say it
        "unknown",  # nothing to go on: no score, never a fake neutral 0
    ]
    assert [m.sentiment.analyzer for m in batch] == [
        "svm-id-smsa/1",
        "logreg-ru-osc+lex/1",
        "textblob-nl+emoji/1",
        "vader+ridge-en/1",
        "emoji/1",
        "",
    ]
    assert all(-1 <= (m.sentiment.score or 0) <= 1 for m in batch)
    assert batch[5].sentiment.score is None


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"\n", "empty text"),
        (b"   \n", "empty text"),
        (b"\xff\xfe oops\n", "not UTF-8 (byte 0)"),
        (b'{"text": 5}\n', "a JSON line needs a string field 'text'"),
        (b"[1, 2]\n", None),  # not an object: taken as plain text
        (b'{"text": "a", \n', "not JSON"),
        (b'{"text": ""}\n', "empty text"),
    ],
)
def test_odd_lines(analyzer: MentionAnalyzer, line: bytes, error: str | None) -> None:
    result = analyze_line(line, analyzer)
    if error is None:
        assert "error" not in result
    else:
        assert result["error"].startswith(error)


def test_jsonl_fields_are_echoed(analyzer: MentionAnalyzer) -> None:
    result = analyze_line(b'{"text": "Hoe kan ik mijn abonnement opzeggen", "id": 7}', analyzer)
    assert result["lang"] == "nl"
    assert result["is_question"] is True
    assert result["input"] == {"id": 7}
    assert set(result) >= {"lang", "lang_confidence", "sentiment", "label", "analyzer"}


def test_analyze_command_answers_every_line() -> None:
    lines = [
        "Sinyal Nusantel hilang lagi, kenapa ya",
        "",
        json.dumps({"text": "Почему списали 299 рублей?", "ref": "a1"}, ensure_ascii=False),
        '{"broken": ',
    ]
    stdin = ("\n".join(lines) + "\n").encode() + b"\xff\n"
    result = CliRunner().invoke(main, ["analyze"], input=stdin)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 5
    assert out[0]["lang"] == "id"
    assert out[0]["is_question"] is True
    assert out[0]["sentiment"] < 0
    assert out[0]["label"] == "negative"
    assert out[0]["analyzer"] == "svm-id-smsa/1"
    assert out[1] == {"error": "empty text"}
    assert out[2]["lang"] == "ru"
    assert out[2]["input"] == {"ref": "a1"}
    assert "error" in out[3]
    assert "error" in out[4]


def test_analyze_survives_lone_surrogates_in_echoed_fields() -> None:
    """Valid JSON that UTF-8 cannot encode ("\\ud800") must not stop the run or corrupt stdout."""
    stdin = b'{"text": "hello there", "x": "\\ud800"}\n{"text": "ok", "y": "\\udc80"}\nfine\n'
    result = CliRunner().invoke(main, ["analyze"], input=stdin)
    assert result.exit_code == 0, result.output
    result.stdout_bytes.decode("utf-8")  # every line is valid UTF-8
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["input"] == {"x": "\ud800"}
    assert out[1]["input"] == {"y": "\udc80"}
