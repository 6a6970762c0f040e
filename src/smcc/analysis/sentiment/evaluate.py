"""`smcc eval sentiment`: each shipped analyzer against the labelled sets it never trained on.

- en_vader_tweets.tsv: the ≈ 20 % held out of training (by id hash) with vader+ridge-en; plain
  VADER on the same rows and on all rows, for reference;
- id_smsa_valid.tsv: all rows with svm-id-smsa (trained on id_smsa_train.tsv);
- ru_rusentitweet_train.csv (eval only): all rows, speech → neutral, skip dropped, with
  logreg-ru-osc+lex (trained on OpenSentimentCorpus);
- nl_political_tweets_train.csv (eval only): all rows with textblob-nl+emoji (nothing tuned on it).

Analyzers are called on each text with its known language (language detection is measured by
bench/language.py). The training sets themselves (SmSA train, OSC) are not scored: that would be
in-sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from smcc.analysis.sentiment import datasets
from smcc.analysis.sentiment.base import SentimentAnalyzer
from smcc.analysis.sentiment.metrics import accuracy, macro_f1, pearson
from smcc.analysis.sentiment.registry import analyzer_for


@dataclass(frozen=True)
class Suite:
    dataset: str
    rows: str
    """Which rows are measured: "held-out" (English split not trained on) or "all"."""
    analyzer: Callable[[], SentimentAnalyzer]
    note: str


def _vader() -> SentimentAnalyzer:
    from smcc.analysis.sentiment.english import VaderAnalyzer

    return VaderAnalyzer()


def _shipped(language: str) -> Callable[[], SentimentAnalyzer]:
    def build() -> SentimentAnalyzer:
        found = analyzer_for(language)
        assert found is not None, language
        return found

    return build


SUITES: Final = (
    Suite(
        datasets.EN_TWEETS, "held-out", _shipped("en"), "rows never trained on (id hash, ≈ 20 %)"
    ),
    Suite(datasets.EN_TWEETS, "held-out", _vader, "reference: plain VADER, the same rows"),
    Suite(datasets.EN_TWEETS, "all", _vader, "reference: plain VADER, all rows"),
    Suite(datasets.ID_VALID, "all", _shipped("id"), "valid split; trained on SmSA train"),
    Suite(
        datasets.RU_TWEETS,
        "all",
        _shipped("ru"),
        "eval only; speech→neutral, skip dropped; trained on OSC",
    ),
    Suite(datasets.NL_TWEETS, "all", _shipped("nl"), "eval only; nothing tuned on it"),
)


@dataclass(frozen=True)
class EvalResult:
    dataset: str
    analyzer: str
    rows: int
    accuracy: float
    macro_f1: float
    pearson_r: float | None
    note: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("accuracy", "macro_f1", "pearson_r"):
            if data[key] is not None:
                data[key] = round(data[key], 4)
        return data


def select(examples: list[datasets.Example], rows: str) -> list[datasets.Example]:
    if rows == "held-out":
        return [e for e in examples if not datasets.en_in_training_split(e.key)]
    return examples


def plan(data: Path) -> tuple[list[tuple[Suite, list[datasets.Example]]], list[str]]:
    """The suites whose data file exists, with their rows; and one message per missing file."""
    loaded: dict[str, list[datasets.Example] | None] = {}
    runs, skipped = [], []
    for suite in SUITES:
        if suite.dataset not in loaded:
            loaded[suite.dataset] = datasets.load(data, suite.dataset)
            if loaded[suite.dataset] is None:
                where = datasets.sentiment_dir(data) / suite.dataset
                skipped.append(f"skipped {suite.dataset}: not found at {where}")
        examples = loaded[suite.dataset]
        if examples is not None:
            runs.append((suite, select(examples, suite.rows)))
    return runs, skipped


def run_suite(
    suite: Suite, examples: list[datasets.Example], advance: Callable[[int], None] | None = None
) -> EvalResult:
    analyzer = suite.analyzer()
    gold, predicted, scores, ratings = [], [], [], []
    for number, example in enumerate(examples, 1):
        result = analyzer.analyse(example.text)
        gold.append(example.label)
        predicted.append(result.label)
        if example.rating is not None and result.score is not None:
            scores.append(result.score)
            ratings.append(example.rating)
        if advance is not None and number % 100 == 0:
            advance(100)
    if advance is not None:
        advance(len(examples) % 100)
    return EvalResult(
        dataset=suite.dataset,
        analyzer=analyzer.name,
        rows=len(examples),
        accuracy=accuracy(gold, predicted),
        macro_f1=macro_f1(gold, predicted),
        pearson_r=pearson(scores, ratings) if ratings else None,
        note=suite.note,
    )
