"""The human-labelled sentiment sets in the team's data folder (see its README for licences).

`DIR/sentiment/<file>` (or `DIR/<file>`), read in place and never copied: RuSentiTweet and the
Dutch political tweets are evaluation only. Each loader returns `Example`s with a 3-class label
(and, for the rated English set, the human mean rescaled to [-1, 1]).
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

EN_TWEETS: Final = "en_vader_tweets.tsv"
ID_TRAIN: Final = "id_smsa_train.tsv"
ID_VALID: Final = "id_smsa_valid.tsv"
RU_OSC: Final = "ru_opensentimentcorpus.csv"
RU_TWEETS: Final = "ru_rusentitweet_train.csv"
NL_TWEETS: Final = "nl_political_tweets_train.csv"

EN_NEUTRAL_BAND: Final = 0.05
EN_TRAIN_PERCENT: Final = 80


class DatasetError(ValueError):
    """A data file exists but cannot be read as its format says."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    rating: float | None = None
    """Human mean rating rescaled to [-1, 1] (English tweets only)."""
    key: str = ""


def sentiment_dir(data: Path) -> Path:
    """DIR/sentiment when it exists (the shared data layout), else DIR itself."""
    nested = data / "sentiment"
    return nested if nested.is_dir() else data


def en_in_training_split(key: str) -> bool:
    """Whether an English tweet (by id) is in the fixed ≈ 80 % training split.

    A hash of the id, not a random draw: the split is the same on every machine and run, and
    `smcc eval sentiment` can report the model only on the rows it never saw.
    """
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < EN_TRAIN_PERCENT


def _three_class(score: float, band: float) -> str:
    return "positive" if score >= band else "negative" if score <= -band else "neutral"


def load_en(path: Path) -> list[Example]:
    """`id<TAB>mean<TAB>text`, mean of human ratings in −4..4; label at ±0.05 of mean/4."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) != 3:
                raise DatasetError(f"{path}:{number}: expected id<TAB>mean<TAB>text")
            key, mean, text = parts
            try:
                rating = max(-1.0, min(1.0, float(mean) / 4.0))
            except ValueError:
                raise DatasetError(f"{path}:{number}: mean rating is not a number") from None
            out.append(Example(text, _three_class(rating, EN_NEUTRAL_BAND), rating, key))
    return out


def load_id(path: Path) -> list[Example]:
    """`text<TAB>label` (SmSA)."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            text, tab, label = line.rstrip("\n").rpartition("\t")
            if not tab or label not in ("positive", "neutral", "negative"):
                raise DatasetError(f"{path}:{number}: expected text<TAB>positive|neutral|negative")
            out.append(Example(text, label))
    return out


def _load_csv(path: Path, text_field: str, label_field: str) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if text_field not in fields or label_field not in fields:
            raise DatasetError(f"{path}: needs the columns {text_field!r} and {label_field!r}")
        return [(row[text_field], row[label_field]) for row in reader]


def load_ru_osc(path: Path) -> list[Example]:
    """OpenSentimentCorpus; "mixed" rows are dropped (no mapping of them helped, RESULTS.md §3)."""
    rows = _load_csv(path, "Sentence", "Sentiment")
    return [Example(text, label) for text, label in rows if label != "mixed"]


def load_ru_tweets(path: Path) -> list[Example]:
    """RuSentiTweet (eval only): "speech" counts as neutral, "skip" rows are dropped."""
    out = []
    for text, label in _load_csv(path, "text", "label"):
        if label == "skip":
            continue
        out.append(Example(text, "neutral" if label == "speech" else label))
    return out


def load_nl(path: Path) -> list[Example]:
    """Dutch political tweets (eval only)."""
    return [Example(text, label) for text, label in _load_csv(path, "text", "label")]


LOADERS: Final[dict[str, Callable[[Path], list[Example]]]] = {
    EN_TWEETS: load_en,
    ID_TRAIN: load_id,
    ID_VALID: load_id,
    RU_OSC: load_ru_osc,
    RU_TWEETS: load_ru_tweets,
    NL_TWEETS: load_nl,
}


def load(data: Path, name: str) -> list[Example] | None:
    """The examples of data file `name`, or None when the file is absent."""
    path = sentiment_dir(data) / name
    if not path.is_file():
        return None
    try:
        return LOADERS[name](path)
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{path}: not UTF-8 (byte {exc.start} of a line); convert it to UTF-8"
        ) from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None


def default_data_dir(cwd: Path | None = None) -> Path | None:
    """Where the team's data folder is when no --data is given, or None.

    `$SMCC_DATA` if set; else `../shared/data` from the current directory; else `../shared/data`
    from the project root (the nearest parent of the current directory holding pyproject.toml).
    """
    env = os.environ.get("SMCC_DATA")
    if env:
        return Path(env)
    here = (cwd or Path.cwd()).resolve()
    candidates = [here / ".." / "shared" / "data"]
    candidates += [
        p / ".." / "shared" / "data" for p in here.parents if (p / "pyproject.toml").is_file()
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return None
