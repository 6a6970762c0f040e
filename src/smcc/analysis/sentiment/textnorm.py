"""Social-text normalisation shared by training and inference of the shipped text models.

The Indonesian training set (SmSA) is lower-cased and tokenised (`enak , murah .`); real posts are
not. `normalise_social` makes a raw post look like that, so one model reads both. Training and
inference call the same function: a change here needs `smcc train sentiment`.
"""

from __future__ import annotations

import html
import re
from typing import Final

_URL: Final = re.compile(r"https?://\S+|www\.\S+")
_HANDLE: Final = re.compile(r"@\w+")
_HASHTAG: Final = re.compile(r"#(\w+)")
_REPEAT: Final = re.compile(r"(\w)\1{2,}")  # bangeeet -> bangeet, loooool -> lool
# Emoji, pictographs and symbols become tokens of their own; joiners and variation selectors go.
_EMOJI: Final = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff]")
_JOINERS: Final = re.compile("[\ufe0f\u200d]")
_PUNCT: Final = re.compile(r"([!?.,;:\"'()\[\]«»“”„…])")

SLANG_ID: Final[dict[str, str]] = {
    # informal negation and the commonest abbreviations of Indonesian social text
    "gak": "tidak", "ga": "tidak", "nggak": "tidak", "ngga": "tidak", "enggak": "tidak",
    "engga": "tidak", "gk": "tidak", "tdk": "tidak", "tak": "tidak", "bgt": "banget",
    "yg": "yang", "dgn": "dengan", "utk": "untuk", "krn": "karena", "sdh": "sudah",
    "udh": "sudah", "udah": "sudah", "blm": "belum", "jg": "juga", "aja": "saja",
    "bkn": "bukan", "tp": "tapi", "sy": "saya", "dr": "dari", "lg": "lagi", "bs": "bisa",
}  # fmt: skip
"""Indonesian slang → the standard word SmSA mostly uses (kept only if train CV says so)."""


def normalise_social(text: str) -> str:
    """Lower-cased text with tokens separated by single spaces.

    HTML entities decoded; URLs and @handles dropped; `#tag` → `tag`; letters repeated three or
    more times cut to two; punctuation and each emoji split off as a token; ё → е.
    """
    text = html.unescape(text) if "&" in text else text
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _HANDLE.sub(" ", text)
    if "#" in text:
        text = _HASHTAG.sub(r"\1", text)
    text = _REPEAT.sub(r"\1\1", text.lower().replace("ё", "е"))
    if not text.isascii():
        text = _EMOJI.sub(r" \g<0> ", _JOINERS.sub(" ", text))
    return " ".join(_PUNCT.sub(r" \1 ", text).split())


def replace_slang(tokens: list[str], table: dict[str, str]) -> list[str]:
    get = table.get
    return [get(token, token) for token in tokens]
