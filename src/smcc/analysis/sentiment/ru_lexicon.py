"""A hand-written list of Russian sentiment stems for social text, with negation.

Written for smcc from scratch (no third-party lexicon copied), before any RuSentiTweet figure was
seen, from general knowledge of Russian social media; it takes the project's licence. A stem
matches a lower-cased word by prefix (stems of three letters or fewer match whole words only); a
preceding не/ни/нет/без flips it. Alone, with the emoji table, it reaches macro-F1 0.579 on
RuSentiTweet (research/sentiment/RESULTS.md §3).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from smcc.analysis.sentiment.emoji import emoji_score


def _stems(block: str) -> list[str]:
    return block.split()


POSITIVE: Final = _stems("""
хорош отличн прекрасн замечательн чудесн великолепн восхитит шикарн потрясающ офигенн любл любим
любов обожа нрав понрав спасибо спасиб благодар рад рада рады радост радуе счаст класс клев круто
крутой крутая супер ура красив красот милый милая милое милые милота мило милаш няш лучш восторг
кайф прикольн весел смешн удач побед поздравл умниц молодец добр приятн интересн успех улыб тепл
праздн ахах хаха хах лол кек вау ого ничоси идеальн уютн вкусн обним целу поцел счастье
""")
NEGATIVE: Final = _stems("""
плох ужас кошмар ненави бесит бесишь беси злит злюсь злой злая злые груст печаль жаль жалко скучн
скуча устал болит больно болезн страшн страх боюсь боятся обид дерьм хрен блин бля черт чёрт сука
сучк туп дебил идиот отврат мерз гадк говн хуже худш проблем ошибк провал позор умер умира смерт
слез плач плак пиздец пизд нахуй хуйн хуев заебал ебан достал надоел разочар жалк сломал увы тоск
одинок депресс кризис убий убит катастроф беда несчаст ужасн тревог волну нерв раздража бред фигн
ненормальн стыд кринж отстой мрак ад жесть обман ложь врут врать жале пожале
""")
NEGATORS: Final = frozenset({"не", "ни", "нет", "без"})

_POLARITY: Final[dict[str, int]] = {**dict.fromkeys(NEGATIVE, -1), **dict.fromkeys(POSITIVE, 1)}
_LONGEST: Final = max(map(len, _POLARITY))
_WORD: Final = re.compile(r"[а-яё]+")
WORD_WEIGHT: Final = 0.6
"""One lexicon hit weighs about as much as one clearly positive emoji."""


@lru_cache(maxsize=50_000)  # words repeat; the prefix search costs ~1 µs a word
def _word_polarity(word: str) -> int:
    if len(word) <= 3:
        return _POLARITY.get(word, 0)
    for size in range(4, min(len(word), _LONGEST) + 1):
        polarity = _POLARITY.get(word[:size])
        if polarity:
            return polarity
    return 0


def lexicon_counts(text: str) -> tuple[int, int]:
    """(positive hits, negative hits) in `text`, negation-aware."""
    words = _WORD.findall(text.lower().replace("ё", "е"))
    positive = negative = 0
    previous = ""
    for word in words:
        polarity = _word_polarity(word)
        if polarity:
            if previous in NEGATORS:
                polarity = -polarity
            if polarity > 0:
                positive += 1
            else:
                negative += 1
        previous = word
    return positive, negative


def lexicon_evidence(text: str) -> tuple[float, list[str]]:
    """The lexicon-and-emoji score in [-1, 1] and the pseudo-tokens the model was trained with.

    Tokens: one "Lpos"/"Lneg" per word hit, and "Epos"/"Eneg"/"Eneu" once if there are emoji.
    """
    positive, negative = lexicon_counts(text)
    emoji_total, emoji_hits = emoji_score(text)
    tokens = ["Lpos"] * positive + ["Lneg"] * negative
    if emoji_hits:
        tokens.append("Epos" if emoji_total > 0 else "Eneg" if emoji_total < 0 else "Eneu")
    total = WORD_WEIGHT * (positive - negative) + emoji_total
    score = total / (abs(total) + WORD_WEIGHT) if total else 0.0
    return score, tokens
