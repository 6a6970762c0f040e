"""Emoji and emoticon polarity, the same in every language (values in [-1, 1]).

A hand-written table, made for smcc from scratch (no third-party list copied), so it ships under
the project's licence. Ambiguous signs (😭, 😂, 🙏, 😅) get small or zero weights on purpose.
Measured on RuSentiTweet rows that carry one: macro-F1 0.427 → 0.469 when it is added to a model
that never saw an emoji (research/sentiment/RESULTS.md §5).
"""

from __future__ import annotations

import re
from typing import Final

EMOJI: Final[dict[str, float]] = {
    # clearly positive
    "😀": 0.7, "😃": 0.7, "😄": 0.7, "😁": 0.7, "😆": 0.6, "😊": 0.7, "☺": 0.6, "🙂": 0.4,
    "😉": 0.4, "😍": 0.9, "🥰": 0.9, "😘": 0.7, "😗": 0.4, "😙": 0.4, "😚": 0.5, "🤗": 0.6,
    "🤩": 0.8, "😎": 0.5, "😇": 0.6, "🥳": 0.8, "😋": 0.6, "😌": 0.4, "🤤": 0.3, "😻": 0.8,
    "😸": 0.6, "😹": 0.5, "😺": 0.6, "❤": 0.8, "♥": 0.7, "💕": 0.8, "💖": 0.8, "💗": 0.8,
    "💓": 0.8, "💞": 0.8, "💘": 0.7, "💝": 0.7, "💙": 0.7, "💚": 0.7, "💛": 0.7, "💜": 0.7,
    "🧡": 0.7, "🤍": 0.6, "🖤": 0.3, "💋": 0.5, "😽": 0.6, "👍": 0.6, "👏": 0.6, "🙌": 0.6,
    "👌": 0.5, "✌": 0.4, "🤝": 0.4, "💪": 0.5, "🔥": 0.4, "✨": 0.4, "🌟": 0.5, "⭐": 0.4,
    "🎉": 0.7, "🎊": 0.7, "🥂": 0.5, "🍾": 0.5, "🏆": 0.6, "🥇": 0.6, "💯": 0.6, "✅": 0.4,
    "🌸": 0.4, "🌹": 0.4, "🌺": 0.4, "🌷": 0.4, "💐": 0.5, "🌈": 0.4, "☀": 0.3, "🌞": 0.4,
    # ambiguous: laughing can be mockery, tears can be joy
    "😂": 0.3, "🤣": 0.3, "😅": 0.1, "🙏": 0.3, "🤞": 0.3, "😏": 0.1, "🥺": -0.1, "😭": -0.1,
    # clearly negative
    "😞": -0.6, "😔": -0.6, "😟": -0.5, "😕": -0.4, "🙁": -0.5, "☹": -0.6, "😣": -0.5,
    "😖": -0.6, "😫": -0.6, "😩": -0.6, "😢": -0.6, "😥": -0.5, "😓": -0.4, "😪": -0.3,
    "😰": -0.6, "😨": -0.6, "😱": -0.5, "😧": -0.5, "😦": -0.4, "😠": -0.8, "😡": -0.9,
    "🤬": -0.9, "👿": -0.7, "😤": -0.5, "😒": -0.6, "🙄": -0.5, "😑": -0.3, "😐": -0.2,
    "😶": -0.1, "🤢": -0.7, "🤮": -0.8, "😷": -0.3, "🤒": -0.4, "🤕": -0.4, "💔": -0.7,
    "👎": -0.7, "😿": -0.6, "😾": -0.6, "💩": -0.6, "🖕": -0.8, "❌": -0.4, "⛔": -0.4,
    "🚫": -0.4, "⚠": -0.3, "😬": -0.3, "🤦": -0.5, "🤡": -0.4, "🤯": -0.2, "😮": 0.0,
    "😳": -0.1, "🤔": -0.1, "😴": -0.1, "💀": -0.1,
}  # fmt: skip

EMOTICONS: Final[dict[str, float]] = {
    # matched as whole lower-cased tokens
    ":)": 0.6, ":-)": 0.6, ":))": 0.7, ":)))": 0.7, "(:": 0.5, "=)": 0.5, ":]": 0.5, ":d": 0.7,
    ":-d": 0.7, "xd": 0.5, ";)": 0.4, ";-)": 0.4, ":p": 0.3, ":-p": 0.3, "<3": 0.7, "^^": 0.5,
    "^_^": 0.6, ":3": 0.5, ":(": -0.6, ":-(": -0.6, ":((": -0.7, ":(((": -0.7, "):": -0.5,
    ":'(": -0.6, ":/": -0.3, ":-/": -0.3, ":|": -0.2, ">:(": -0.8, "d:": -0.5, "</3": -0.7,
    "-_-": -0.4,
    # Russian bracket smileys, written without eyes
    ")))": 0.6, "))": 0.5, "(((": -0.6, "((": -0.5,
}  # fmt: skip

# Every emoji of the table is one code point (a following variation selector is ignored) between
# U+2600 and U+1FAFF. A regex of that one range finds the candidates at C speed; a class listing
# the table's characters one by one is tested character by character (4 µs on a Russian post).
_EMOJI_RANGE: Final = re.compile("[\u2600-\U0001faff]")
# Cheap pre-check: a token can only be an emoticon or a bracket smiley if it has one of these
# characters (a regex search: iterating a non-Latin string in Python allocates per character),
# or is "xd" in any case.
_EMOTICON_CHARS: Final = re.compile(r"[():;=<^_|/\-]")
_XD: Final = re.compile(r"(?<!\w)[xX][dD](?!\w)")


def emoji_score(text: str) -> tuple[float, int]:
    """(sum of polarities, number of hits) of the emoji, emoticons and bracket smileys in `text`.

    Emoji count anywhere; emoticons as whole tokens; a word ending in "))" or "((" (Russian
    "спасибо))", "жаль((") counts ±0.5.
    """
    total = 0.0
    hits = 0
    if not text.isascii():
        get = EMOJI.get
        for char in _EMOJI_RANGE.findall(text):
            value = get(char)
            if value is not None:
                total += value
                hits += 1
    if _EMOTICON_CHARS.search(text) is None and (
        ("d" not in text and "D" not in text) or _XD.search(text) is None
    ):
        return total, hits
    for token in text.lower().split():
        value = EMOTICONS.get(token)
        if value is not None:
            total += value
            hits += 1
        elif len(token) > 2 and token.endswith(("))", "((")) and not token.startswith(("(", ":")):
            total += 0.5 if token.endswith("))") else -0.5
            hits += 1
    return total, hits


def emoji_polarity(text: str) -> float:
    """The emoji and emoticons of `text` squashed to [-1, 1]; 0.0 when it has none."""
    total, _ = emoji_score(text)
    return total / (abs(total) + 0.5) if total else 0.0
