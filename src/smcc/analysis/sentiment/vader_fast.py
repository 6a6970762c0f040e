"""VADER 3.3.2's `polarity_scores`, the same numbers at a quarter of the cost.

vaderSentiment's own code lower-cases every word of a post again and again (up to a dozen times
per lexicon word: each negation and idiom check rebuilds the whole lower-cased word list), and
walks every character of the post in Python to find emoji. This port lower-cases each word once,
skips the emoji walk when the post has none of VADER's emoji, and otherwise follows the original
step by step — including its quirks (the "but" rule's `list.index`, the operator precedence of
the three-word negation check) — with VADER's own lexicon, emoji table and constants. The English
analyzer's ridge was trained on VADER's exact outputs, so any difference would change scores: a
test compares this port with vaderSentiment on real and generated sentences, value for value.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from typing import Final

from vaderSentiment import vaderSentiment as _vs

_PUNCTUATION: Final = string.punctuation
_BOOSTERS: Final[dict[str, float]] = _vs.BOOSTER_DICT
_NEGATE: Final = frozenset(_vs.NEGATE)
_SPECIAL: Final[dict[str, float]] = _vs.SPECIAL_CASES
_N_SCALAR: Final[float] = _vs.N_SCALAR
_C_INCR: Final[float] = _vs.C_INCR
_SO_THIS: Final = ("so", "this")


def _negated(word: str) -> bool:
    """vaderSentiment's `negated([word])` for one lower-cased word."""
    return word in _NEGATE or "n't" in word


class FastVader:
    """`polarity(text)` → VADER's (compound, pos, neg), rounded as `polarity_scores` rounds."""

    def __init__(self, lexicon: dict[str, float], emojis: dict[str, str]) -> None:
        self.lexicon = lexicon
        self.emojis = emojis
        # VADER replaces emoji character by character, so only one-character keys ever match.
        self._emoji_chars = frozenset(key for key in emojis if len(key) == 1)

    @classmethod
    def from_package(cls) -> FastVader:
        """Built from vaderSentiment's lexicon and emoji files (read once per process)."""
        from smcc.analysis.sentiment.english import vader

        analyzer = vader()
        return cls(analyzer.lexicon, analyzer.emojis)

    def _replace_emoji(self, text: str) -> str:
        # vaderSentiment's loop, unchanged (it only runs for posts that have one of its emoji)
        emojis = self.emojis
        out = ""
        prev_space = True
        for char in text:
            if char in emojis:
                if not prev_space:
                    out += " "
                out += emojis[char]
                prev_space = False
            else:
                out += char
                prev_space = char == " "
        return out

    def polarity(self, text: str) -> tuple[float, float, float]:
        if not text.isascii() and not self._emoji_chars.isdisjoint(text):
            text = self._replace_emoji(text)
        text = text.strip()
        # SentiText: tokens split on whitespace, punctuation stripped unless that leaves ≤ 2
        # characters (emoticons)
        words = [
            token if len(stripped := token.strip(_PUNCTUATION)) <= 2 else stripped
            for token in text.split()
        ]
        lowers = [word.lower() for word in words]
        lexicon = self.lexicon
        # Only lexicon words that are not boosters get a valence; every other word scores 0.
        hits = [i for i, lower in enumerate(lowers) if lower in lexicon and lower not in _BOOSTERS]
        if not hits:  # all zeros: VADER's compound, pos and neg are all 0
            return 0.0, 0.0, 0.0
        count = len(words)
        capitals = sum(map(str.isupper, words))
        cap_diff = 0 < count - capitals < count
        sentiments: list[float] = [0] * count
        for i in hits:
            if lowers[i] == "kind" and i < count - 1 and lowers[i + 1] == "of":
                continue
            sentiments[i] = self._valence(words, lowers, i, cap_diff)
        if "but" in lowers:
            sentiments = _but_check(lowers, sentiments)
        return _score_valence(sentiments, text)

    def _valence(self, words: list[str], lowers: list[str], i: int, cap_diff: bool) -> float:
        """vaderSentiment's `sentiment_valence` for a lexicon word at `i` (not a booster)."""
        lexicon = self.lexicon
        lower = lowers[i]
        valence = lexicon[lower]
        if lower == "no" and i != len(lowers) - 1 and lowers[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and lowers[i - 1] == "no")
            or (i > 1 and lowers[i - 2] == "no")
            or (i > 2 and lowers[i - 3] == "no" and lowers[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[lower] * _N_SCALAR
        if cap_diff and words[i].isupper():
            valence = valence + _C_INCR if valence > 0 else valence - _C_INCR
        for start_i in range(3):
            j = i - (start_i + 1)
            if i > start_i and lowers[j] not in lexicon:
                s = _scalar_inc_dec(words[j], lowers[j], valence, cap_diff)
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = _negation_check(valence, lowers, start_i, i)
                if start_i == 2:
                    valence = _special_idioms_check(valence, lowers, i)
        # _least_check
        if i > 1 and lowers[i - 1] not in lexicon and lowers[i - 1] == "least":
            if lowers[i - 2] != "at" and lowers[i - 2] != "very":
                valence = valence * _N_SCALAR
        elif i > 0 and lowers[i - 1] not in lexicon and lowers[i - 1] == "least":
            valence = valence * _N_SCALAR
        return valence


def _scalar_inc_dec(word: str, lower: str, valence: float, cap_diff: bool) -> float:
    scalar = 0.0
    if lower in _BOOSTERS:
        scalar = _BOOSTERS[lower]
        if valence < 0:
            scalar *= -1
        if word.isupper() and cap_diff:
            if valence > 0:
                scalar += _C_INCR
            else:
                scalar -= _C_INCR
    return scalar


def _negation_check(valence: float, lowers: list[str], start_i: int, i: int) -> float:
    if start_i == 0:
        if _negated(lowers[i - 1]):
            valence = valence * _N_SCALAR
    elif start_i == 1:
        if lowers[i - 2] == "never" and lowers[i - 1] in _SO_THIS:
            valence = valence * 1.25
        elif lowers[i - 2] == "without" and lowers[i - 1] == "doubt":
            pass
        elif _negated(lowers[i - 2]):
            valence = valence * _N_SCALAR
    else:
        # vaderSentiment's precedence: (never and (so|this)) or (so|this right before)
        if (lowers[i - 3] == "never" and lowers[i - 2] in _SO_THIS) or lowers[i - 1] in _SO_THIS:
            valence = valence * 1.25
        elif lowers[i - 3] == "without" and (lowers[i - 2] == "doubt" or lowers[i - 1] == "doubt"):
            pass
        elif _negated(lowers[i - 3]):
            valence = valence * _N_SCALAR
    return valence


def _special_idioms_check(valence: float, lowers: list[str], i: int) -> float:
    one_zero = f"{lowers[i - 1]} {lowers[i]}"
    two_one_zero = f"{lowers[i - 2]} {lowers[i - 1]} {lowers[i]}"
    two_one = f"{lowers[i - 2]} {lowers[i - 1]}"
    three_two_one = f"{lowers[i - 3]} {lowers[i - 2]} {lowers[i - 1]}"
    three_two = f"{lowers[i - 3]} {lowers[i - 2]}"
    for sequence in (one_zero, two_one_zero, two_one, three_two_one, three_two):
        if sequence in _SPECIAL:
            valence = _SPECIAL[sequence]
            break
    if len(lowers) - 1 > i:
        zero_one = f"{lowers[i]} {lowers[i + 1]}"
        if zero_one in _SPECIAL:
            valence = _SPECIAL[zero_one]
    if len(lowers) - 1 > i + 1:
        zero_one_two = f"{lowers[i]} {lowers[i + 1]} {lowers[i + 2]}"
        if zero_one_two in _SPECIAL:
            valence = _SPECIAL[zero_one_two]
    for n_gram in (three_two_one, three_two, two_one):
        if n_gram in _BOOSTERS:
            valence = valence + _BOOSTERS[n_gram]
    return valence


def _but_check(lowers: Sequence[str], sentiments: list[float]) -> list[float]:
    # vaderSentiment's loop, unchanged: `sentiments.index(sentiment)` finds the first equal
    # value, not the current position, and the scores were trained on that behaviour.
    bi = lowers.index("but")
    for sentiment in sentiments:
        si = sentiments.index(sentiment)
        if si < bi:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 0.5)
        elif si > bi:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 1.5)
    return sentiments


def _score_valence(sentiments: list[float], text: str) -> tuple[float, float, float]:
    if not sentiments:
        return 0.0, 0.0, 0.0
    sum_s = float(sum(sentiments))
    # punctuation emphasis: up to 4 '!' at 0.292 each; 2–3 '?' at 0.18 each, more: 0.96
    ep_amplifier = min(text.count("!"), 4) * 0.292
    qm_count = text.count("?")
    qm_amplifier: float = 0
    if qm_count > 1:
        qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
    amplifier = ep_amplifier + qm_amplifier
    if sum_s > 0:
        sum_s += amplifier
    elif sum_s < 0:
        sum_s -= amplifier
    compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
    compound = -1.0 if compound < -1.0 else 1.0 if compound > 1.0 else compound
    pos_sum = 0.0
    neg_sum = 0.0
    nonzero = [score for score in sentiments if score]
    for score in nonzero:
        if score > 0:
            pos_sum += float(score) + 1
        else:
            neg_sum += float(score) - 1
    neu_count = len(sentiments) - len(nonzero)
    if pos_sum > math.fabs(neg_sum):
        pos_sum += amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return (
        round(compound, 4),
        round(math.fabs(pos_sum / total), 3),
        round(math.fabs(neg_sum / total), 3),
    )
