"""The terms of a mention, counted per minute for keyword spikes and trending terms.

A mention's terms are (each once per mention, case-folded):
- every configured brand and competitor term (name, keyword, hashtag, handle) it contains, matched
  as the brand tagger matches them (a substring, any case), so that a keyword's series counts
  exactly the mentions the keyword tags, phrases such as "kopi senja" included;
- its words (three letters or more, starting with a letter) and hashtags, without stop words of
  English, Indonesian, Russian and Dutch, URLs and @handles of ordinary accounts.

Stop words come from the `stop-words` package (its English, Indonesian, Russian and Dutch lists)
plus the fillers of social-media writing the lists lack ("gak", "udah", "rt" …).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from stop_words import get_stop_words

from smcc.config import Brand
from smcc.models import Mention

STOP_LANGUAGES = {"en": "english", "id": "indonesian", "ru": "russian", "nl": "dutch"}

_FILLERS = """
    rt amp via pls plz lol omg btw thx wtf yes yeah yep nope okay
    gak nggak ngga enggak udah sudah aja banget bgt sih dong kok deh nih tuh yg dgn utk tdk
    gimana kenapa kapan apa kak min mas mbak lagi juga
    это что как так уже ещё еще вообще почему где когда опять снова
    echt wel niet nog weer waarom wanneer hoe even gewoon
    https http www com
"""
SOCIAL_FILLERS = frozenset(_FILLERS.split())
"""Chat spellings and fillers (en, id, ru, nl) the stop-word lists lack; they never say what a
post is about."""

CACHE_SIZE = 200_000
_URL = re.compile(r"(?:https?://|www\.)\S+")
_TOKEN = re.compile(r"[@#]?\w+")


@functools.cache
def stop_words() -> frozenset[str]:
    """Stop words of the four languages, case-folded."""
    words: set[str] = set(SOCIAL_FILLERS)
    for language in STOP_LANGUAGES.values():
        words.update(w.casefold() for w in get_stop_words(language))
    return frozenset(words)


def _keep(token: str, stop: frozenset[str]) -> bool:
    if token[0] == "@":
        return False  # ordinary accounts (replies start with one) are not topics
    word = token[1:] if token[0] == "#" else token
    return len(word) >= 3 and word[0].isalpha() and word not in stop


class TermExtractor:
    """Turns mentions into their terms; safe to use from one worker thread."""

    def __init__(self, brands: Sequence[Brand] = (), competitors: Sequence[Brand] = ()) -> None:
        self.configured: tuple[str, ...] = tuple(
            dict.fromkeys(
                term.casefold() for brand in (*brands, *competitors) for term in brand.terms()
            )
        )
        self._stop = stop_words()
        self._verdicts: dict[str, bool] = {}
        """Token → kept or not: the vocabulary repeats, so each token is judged once."""

    def _judge(self, token: str) -> bool:
        if len(self._verdicts) > CACHE_SIZE:
            self._verdicts.clear()
        keep = self._verdicts[token] = _keep(token, self._stop)
        return keep

    def terms(self, text: str) -> frozenset[str]:
        # On the ingest path (bench/ingest.py): one regex pass, one dict lookup per token.
        folded = text.casefold()
        found = {term for term in self.configured if term in folded}
        words = _URL.sub(" ", folded) if "http" in folded or "www." in folded else folded
        verdicts = self._verdicts
        for token in _TOKEN.findall(words):
            keep = verdicts.get(token)
            if keep is None:
                keep = self._judge(token)
            if keep:
                found.add(token)
        return frozenset(found)

    def batch(self, mentions: Sequence[Mention]) -> list[frozenset[str]]:
        """The terms of each mention, in order (what Store.prepare_batch takes)."""
        return [self.terms(m.text) for m in mentions]


def keywords(brands: Sequence[Brand], competitors: Sequence[Brand] = ()) -> dict[str, str]:
    """Monitored keyword (case-folded keyword or hashtag) → the brand it belongs to.

    A brand's name is watched as the brand itself, so it is left out unless it also is listed
    as a keyword; a term two brands share belongs to the first.
    """
    out: dict[str, str] = {}
    for brand in (*brands, *competitors):
        for term in (*brand.keywords, *brand.hashtags):
            out.setdefault(term.casefold(), brand.name)
    return out
