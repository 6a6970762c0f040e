"""`smcc eval sentiment`, `smcc train sentiment`, and sentiment stored by the pipeline."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from smcc.analysis.sentiment import datasets
from smcc.analysis.sentiment.evaluate import plan, run_suite
from smcc.analysis.sentiment.linear import MODELS_DIR
from smcc.cli import main
from smcc.config import DemoSourceConfig, default_config
from smcc.ingest import prepare
from smcc.sources.demo import DemoSource
from smcc.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "sentiment_data"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not (SHARED / "sentiment").is_dir(),
    reason=f"the team's data folder {SHARED} is absent (it is not part of the repository)",
)


def test_eval_json_on_the_fixture() -> None:
    result = CliRunner().invoke(main, ["eval", "sentiment", "--data", str(FIXTURES), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    rows = {(r["dataset"], r["analyzer"], r["rows"]) for r in payload["results"]}
    assert rows == {
        ("en_vader_tweets.tsv", "vader+ridge-en/1", 3),  # only the held-out rows
        ("en_vader_tweets.tsv", "vader-3.3.2", 3),
        ("en_vader_tweets.tsv", "vader-3.3.2", 16),
        ("id_smsa_valid.tsv", "svm-id-smsa/1", 6),
        ("nl_political_tweets_train.csv", "textblob-nl+emoji/1", 6),
    }
    for r in payload["results"]:
        assert set(r) == {
            "dataset", "analyzer", "rows", "accuracy", "macro_f1", "pearson_r", "note"
        }  # fmt: skip
        assert 0 <= r["accuracy"] <= 1
        assert 0 <= r["macro_f1"] <= 1
        assert (r["pearson_r"] is not None) == (r["dataset"] == "en_vader_tweets.tsv")
    # clear sentences written for the fixture: the analyzers get them right
    by_name = {(r["dataset"], r["rows"]): r for r in payload["results"]}
    assert by_name[("id_smsa_valid.tsv", 6)]["accuracy"] == 1.0
    assert by_name[("en_vader_tweets.tsv", 16)]["pearson_r"] > 0.8
    assert payload["skipped"] == [
        f"skipped ru_rusentitweet_train.csv: not found at {FIXTURES / 'sentiment'}"
        "/ru_rusentitweet_train.csv"
    ]
    assert "skipped ru_rusentitweet_train.csv" in result.stderr


def test_eval_table_on_the_fixture() -> None:
    result = CliRunner().invoke(main, ["eval", "sentiment", "--data", str(FIXTURES)])
    assert result.exit_code == 0, result.output
    for name in ("svm-id-smsa/1", "vader+ridge-en/1", "textblob-nl+emoji/1", "macro-F1"):
        assert name in result.stdout


def test_eval_missing_dir_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["eval", "sentiment", "--data", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"smcc: --data {tmp_path / 'nope'}: no such folder"
    assert "Traceback" not in result.output


def test_eval_env_dir_missing_and_empty_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMCC_DATA", str(tmp_path / "gone"))
    result = CliRunner().invoke(main, ["eval", "sentiment"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    monkeypatch.setenv("SMCC_DATA", str(tmp_path))
    result = CliRunner().invoke(main, ["eval", "sentiment", "--json"])
    assert result.exit_code == 1
    assert f"no sentiment data set found in {tmp_path}" in result.stderr


def test_default_data_dir_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMCC_DATA", raising=False)
    project = tmp_path / "work" / "project"
    (project / "src" / "deep").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    assert datasets.default_data_dir(project) is None
    shared = tmp_path / "work" / "shared" / "data"
    shared.mkdir(parents=True)
    assert datasets.default_data_dir(project) == shared.resolve()
    assert datasets.default_data_dir(project / "src" / "deep") == shared.resolve()


def test_bad_data_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "id_smsa_valid.tsv").write_text("no label column here\n")
    result = CliRunner().invoke(main, ["eval", "sentiment", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "id_smsa_valid.tsv:1: expected text<TAB>positive|neutral|negative"
    )


def test_data_file_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "id_smsa_valid.tsv").write_bytes("enak sekali\tpositive\n".encode("utf-16"))
    result = CliRunner().invoke(main, ["eval", "sentiment", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith("id_smsa_valid.tsv: not UTF-8 (byte 0 of a line); convert it to UTF-8")


@needs_shared
def test_shipped_analyzers_meet_their_goals_on_rows_never_trained_on() -> None:
    runs, skipped = plan(SHARED)
    assert skipped == []
    results = {(s.dataset, s.note): run_suite(s, ex) for s, ex in runs if "reference" not in s.note}
    by_dataset = {dataset: r for (dataset, _), r in results.items()}
    english = by_dataset[datasets.EN_TWEETS]
    assert english.rows < 1000  # held-out rows only
    assert english.pearson_r is not None
    assert english.pearson_r >= 0.88
    assert by_dataset[datasets.ID_VALID].macro_f1 >= 0.80
    # Russian and Dutch goals are not met (see README); these guard against regressions.
    assert by_dataset[datasets.RU_TWEETS].macro_f1 >= 0.55
    assert by_dataset[datasets.NL_TWEETS].accuracy >= 0.45


@needs_shared
@pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None,
    reason="scikit-learn is not installed (pip install -e '.[train]')",
)
def test_train_english_reproduces_the_shipped_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["train", "sentiment", "--data", str(SHARED), "--lang", "en", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "5-fold CV Pearson r" in result.stdout
    shipped = (MODELS_DIR / "en_vader_ridge.json.gz").read_bytes()
    assert (tmp_path / "en_vader_ridge.json.gz").read_bytes() == shipped


def test_train_without_data_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["train", "sentiment", "--data", str(tmp_path), "--lang", "en", "--out", str(tmp_path)],
    )
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("smcc: ")
    assert "Traceback" not in result.output


async def test_pipeline_stores_sentiment_for_demo_mentions(tmp_path: Path) -> None:
    config = default_config()
    settings = DemoSourceConfig(rate=0, seed=3)
    source = DemoSource("demo", settings, config.brands, config.competitors, limit=400)
    with Store.open(tmp_path / "s.db") as store:
        run = prepare(config, store, [source])
        await asyncio.wait_for(run.pipeline.run(), 60)
        stored = list(store.iter_mentions())
    assert len(stored) == 400
    analyzers = {
        "en": "vader+ridge-en/1",
        "id": "svm-id-smsa/1",
        "ru": "logreg-ru-osc+lex/1",
        "nl": "textblob-nl+emoji/1",
    }
    seen = set()
    for m in stored:
        if m.language in analyzers:
            assert m.sentiment.analyzer == analyzers[m.language], m.text
            assert m.sentiment.label in ("negative", "neutral", "positive")
            assert m.sentiment.score is not None
            assert -1 <= m.sentiment.score <= 1
            seen.add(m.language)
        else:
            assert m.sentiment.label == "unknown"
            assert m.sentiment.score is None
    assert seen == set(analyzers)
    labels = {m.sentiment.label for m in stored}
    assert {"negative", "positive"} <= labels


def test_analyze_command_outputs_sentiment_fields() -> None:
    lines = [
        "Terrible service, still no refund after two weeks 😡",
        "Спасибо, всё отлично работает!",
        "Das ist wirklich ein sehr schlechter Service, ich bin enttäuscht",
        "😍😍",
    ]
    result = CliRunner().invoke(main, ["analyze"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["lang"], o["label"], o["analyzer"]) for o in out] == [
        ("en", "negative", "vader+ridge-en/1"),
        ("ru", "positive", "logreg-ru-osc+lex/1"),
        ("de", "unknown", ""),  # no German analyzer: unknown, never a fake neutral
        (None, "positive", "emoji/1"),  # no words: the emoji say it
    ]
    assert out[0]["sentiment"] < 0 < out[1]["sentiment"]
    assert out[2]["sentiment"] is None
    assert out[3]["sentiment"] > 0


def test_analyze_with_a_damaged_model_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from smcc.analysis.sentiment import SentimentAnalyzer, registry
    from smcc.analysis.sentiment.linear import ModelFileError

    def broken() -> SentimentAnalyzer:
        raise ModelFileError("cannot read sentiment model /x/id_smsa.json.gz: not gzip")

    monkeypatch.setitem(registry.FACTORIES, "id", broken)
    monkeypatch.setattr(registry, "_SHARED", {})
    result = CliRunner().invoke(main, ["analyze"], input="Sinyal hilang lagi dari pagi, kecewa\n")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "smcc: cannot read sentiment model /x/id_smsa.json.gz: not gzip"
    )
