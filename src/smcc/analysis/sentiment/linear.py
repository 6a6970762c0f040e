"""A linear text model stored as gzipped JSON and applied in pure Python.

Training (`smcc train sentiment`, scikit-learn) writes the file; inference needs neither
scikit-learn nor numpy. Features are exactly those of scikit-learn's
`TfidfVectorizer(analyzer=<features>, sublinear_tf=True)`: each feature's weight is
(1 + ln count) · idf, and the vector is L2-normalised over the features the model knows. Then
decision = W · x + b (+ the dense features' weights, for models that stack them).

Feature strings:
- "w" + a word n-gram (tokens joined by one space), for n in the model's `word` range;
- "c" + a character n-gram inside one token padded with spaces (like scikit-learn's `char_wb`),
  for n in the model's `char` range;
- extra pseudo-tokens an analyzer adds (e.g. "Lpos" for a lexicon hit).

Character n-grams of a token do not depend on its neighbours, so inference keeps each token's
known character features in a bounded LRU cache: social text repeats its words, and this makes
character models several times faster.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

FORMAT: Final = "smcc-linear/1"
TOKEN_CACHE_SIZE: Final = 50_000
"""Tokens whose character features are kept (a few MB at most)."""


class ModelFileError(RuntimeError):
    """A model file is missing or not a model this version can read."""


def word_ngrams(tokens: Sequence[str], low: int, high: int) -> list[str]:
    out = ["w" + token for token in tokens] if low <= 1 else []
    for n in range(max(low, 2), high + 1):
        if n == 2:  # the common orders without slicing and joining: this runs per mention
            out += [f"w{a} {b}" for a, b in itertools.pairwise(tokens)]
        elif n == 3:
            out += [
                f"w{a} {b} {c}" for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False)
            ]
        else:
            out += ["w" + " ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return out


def char_ngrams(token: str, low: int, high: int) -> list[str]:
    padded = f" {token} "
    size = len(padded)
    return ["c" + padded[i : i + n] for n in range(low, high + 1) for i in range(size - n + 1)]


@dataclass(frozen=True)
class Featurizer:
    """Which n-grams a model uses; stored in the model file with its weights."""

    word: tuple[int, int] | None = (1, 2)
    char: tuple[int, int] | None = None

    def features(self, tokens: Sequence[str], extra: Iterable[str] = ()) -> list[str]:
        """All features of a tokenised text, with repeats (what training counts)."""
        out: list[str] = []
        if self.word is not None:
            out.extend(word_ngrams(tokens, *self.word))
        if self.char is not None:
            low, high = self.char
            for token in tokens:
                out.extend(char_ngrams(token, low, high))
        out.extend(extra)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "word": list(self.word) if self.word else None,
            "char": self.char and list(self.char),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Featurizer:
        word, char = data.get("word"), data.get("char")
        return cls(
            word=(word[0], word[1]) if word else None, char=(char[0], char[1]) if char else None
        )


class LinearTextModel:
    """A model written by `save_model`, scored in pure Python (read-only once loaded)."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ModelFileError(f"not a {FORMAT} model (format {data.get('format')!r})")
        self.name: str = data["name"]
        self.classes: list[str] = list(data["classes"])
        self.intercept: list[float] = [float(b) for b in data["intercept"]]
        self.featurizer = Featurizer.from_json(data["features"])
        self.dense_names: list[str] = list(data.get("dense_names", []))
        self.dense_coef: list[list[float]] = data.get("dense_coef", [])
        self.meta: dict[str, Any] = data.get("meta", {})
        vocab: list[str] = data["vocab"]
        idf: list[float] = data["idf"]
        coef: list[list[float]] = data["coef"]  # per class, per feature
        self.k = len(self.classes)
        if len(vocab) != len(idf) or len(coef) != self.k or any(len(r) != len(idf) for r in coef):
            raise ModelFileError(f"model {self.name}: vocabulary and weights differ in size")
        # Per feature, in one tuple: idf² and, per class, idf · weight — the terms of a feature
        # that occurs once, which most features of a post do. One dict lookup per feature (the
        # tables of a large model do not fit in the CPU's caches, and four lookups per feature
        # cost four cache misses), and the sums run as C-level `map(sum, zip(*rows))`.
        self._terms: dict[str, tuple[float, ...]] = {
            f: (float(idf[j]) ** 2, *(float(idf[j]) * float(row[j]) for row in coef))
            for j, f in enumerate(vocab)
        }
        self._token_terms = lru_cache(maxsize=TOKEN_CACHE_SIZE)(self._char_terms)

    def __contains__(self, feature: str) -> bool:
        return feature in self._terms

    def _char_terms(self, token: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """A token's known character features, and the column sums of their terms (as if each
        occurred once in the post; `decision` corrects for repeats)."""
        assert self.featurizer.char is not None
        terms = self._terms
        features = tuple(filter(terms.__contains__, char_ngrams(token, *self.featurizer.char)))
        if not features:
            return features, (0.0,) * (self.k + 1)
        return features, tuple(map(sum, zip(*map(terms.__getitem__, features), strict=True)))

    def decision(
        self, tokens: Sequence[str], extra: Iterable[str] = (), dense: Sequence[float] = ()
    ) -> list[float]:
        """W · x + b for each class (x: the L2-normalised TF-IDF vector, then `dense`)."""
        terms = self._terms
        featurizer = self.featurizer
        # Known word n-grams and pseudo-tokens; unknown features carry no weight and do not
        # count in the norm.
        candidates: Iterable[str] = extra
        if featurizer.word is not None:
            candidates = itertools.chain(extra, word_ngrams(tokens, *featurizer.word))
        features = list(filter(terms.__contains__, candidates))
        totals: list[float]
        if features:
            totals = list(map(sum, zip(*map(terms.__getitem__, features), strict=True)))
        else:
            totals = [0.0] * (self.k + 1)
        if featurizer.char is not None and tokens:
            per_token = list(map(self._token_terms, tokens))
            for token_features, _ in per_token:
                features += token_features
            # column sums of the tokens' sums, at C speed
            token_totals = map(sum, zip(*[sums for _, sums in per_token], strict=True))
            totals = [a + b for a, b in zip(totals, token_totals, strict=True)]
        if len(set(features)) != len(features):
            # A feature seen `count` times was summed `count` times; its TF-IDF weight is
            # (1 + ln count) · idf: correct the sums by the difference. (Only the repeated
            # features are visited: `compress` picks them at C speed.)
            counts = Counter(features)
            for feature in itertools.compress(counts, map((1).__lt__, counts.values())):
                count = counts[feature]
                row = terms[feature]
                tf = 1.0 + math.log(count)
                totals[0] += (tf * tf - count) * row[0]
                for i in range(1, self.k + 1):
                    totals[i] += (tf - count) * row[i]
        squares, *sums = totals
        norm = math.sqrt(squares) or 1.0
        out = [sums[i] / norm + self.intercept[i] for i in range(self.k)]
        if dense:
            for i in range(self.k):
                out[i] += sum(w * x for w, x in zip(self.dense_coef[i], dense, strict=True))
        return out


def _round(value: float) -> float:
    # Four significant digits: the file stays small, predictions match the float64 model
    # (checked by `smcc train sentiment`, which reports the agreement).
    return float(f"{value:.4g}")


def save_model(
    path: Path,
    *,
    name: str,
    featurizer: Featurizer,
    vocab: Sequence[str],
    idf: Sequence[float],
    coef: Sequence[Sequence[float]],
    intercept: Sequence[float],
    classes: Sequence[str],
    dense_names: Sequence[str] = (),
    dense_coef: Sequence[Sequence[float]] = (),
    meta: dict[str, Any] | None = None,
) -> None:
    """Write a model reproducibly: the same weights give the same bytes (gzip mtime 0)."""
    data = {
        "format": FORMAT,
        "name": name,
        "classes": list(classes),
        "intercept": [_round(b) for b in intercept],
        "features": featurizer.to_json(),
        "dense_names": list(dense_names),
        "dense_coef": [[_round(w) for w in row] for row in dense_coef],
        "meta": meta or {},
        "vocab": list(vocab),
        "idf": [_round(v) for v in idf],
        "coef": [[_round(w) for w in row] for row in coef],
    }
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw)


def load_model(path: Path) -> LinearTextModel:
    try:
        with gzip.open(path, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(
            f"sentiment model missing: {path} (run `smcc train sentiment`)"
        ) from exc
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"cannot read sentiment model {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"cannot read sentiment model {path}: not a JSON object")
    try:
        return LinearTextModel(data)
    except ModelFileError as exc:
        raise ModelFileError(f"cannot read sentiment model {path}: {exc}") from exc
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelFileError(f"cannot read sentiment model {path}: bad field {exc}") from exc


MODELS_DIR: Final = Path(__file__).with_name("models")
"""Where the shipped model files live (inside the package, so the wheel carries them)."""
