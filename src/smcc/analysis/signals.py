"""Cheap per-mention signals: is it a question, and how influential is its author.

Both are heuristics meant for triage (a question needs an answer; an influencer's complaint spreads
faster), computed once per mention in the analyse stage. They need no model and cost a few
microseconds.
"""

from __future__ import annotations

import math
import re

from smcc.models import Author, Engagement

# URLs carry '?' in query strings and handles/hashtags carry no sentence structure.
_NOISE = re.compile(r"https?://\S+|www\.\S+|(?<!\w)[@#][\w.]+", re.IGNORECASE)
_QUESTION_MARK = re.compile(r"[?？¿]")
# Clause starts: a question often follows a comma ("sinyal hilang lagi, kenapa ya").
_SENTENCE_START = re.compile(r"(?:^|[.!…:;,\n]\s*)([^\W\d_][\w'-]*(?:\s+[^\W\d_][\w'-]*)?)")

# Interrogatives that open a question even without a question mark (people often drop it).
# Two-word entries are matched against the first two words of a sentence.
_OPENERS: frozenset[str] = frozenset(
    {
        # English ("what" only when not "what a …", see _EXCLAMATIONS)
        "how",
        "why",
        "when",
        "where",
        "what",
        "who",
        "which",
        "whats",
        "wheres",
        "hows",
        "can i",
        "can you",
        "can we",
        "could you",
        "could i",
        "would you",
        "will you",
        "is there",
        "is it",
        "are you",
        "are there",
        "do you",
        "does anyone",
        "does it",
        "did you",
        "anyone know",
        "any idea",
        "has anyone",
        "have you",
        # Indonesian (formal and colloquial)
        "apakah",
        "apa",
        "bagaimana",
        "gimana",
        "kenapa",
        "mengapa",
        "kapan",
        "dimana",
        "di mana",
        "berapa",
        "siapa",
        "bisakah",
        "bisa gak",
        "bisa nggak",
        "boleh tanya",
        "mau tanya",
        "min gimana",
        "kak gimana",
        # Russian
        "как",
        "почему",
        "где",
        "когда",
        "зачем",
        "сколько",
        "что",
        "кто",
        "какой",
        "какая",
        "какие",
        "можно ли",
        "можно",
        "подскажите",
        "скажите",
        "есть ли",
        "куда",
        "откуда",
        # Dutch
        "hoe",
        "waarom",
        "wanneer",
        "waar",
        "wat",
        "wie",
        "welke",
        "welk",
        "kan ik",
        "kunnen jullie",
        "kun je",
        "kan je",
        "is het",
        "is er",
        "heeft iemand",
        "weet iemand",
        "klopt het",
    }
)
# Openers that start exclamations, not questions: "what a day", "как же бесит", "wat een".
_EXCLAMATIONS = re.compile(
    r"^(?:what an?|how (?:great|nice|awesome|cool|bad|sad)|как же|как я|что за|"
    r"как(?:ой|ая|ое|ие) же|wat een|hoe "
    r"(?:mooi|leuk|erg)|apa banget)\b",
    re.IGNORECASE,
)
# Russian "ли" after the verb marks a yes/no question: "работает ли интернет".
_RU_LI = re.compile(r"(?<!\w)\w+\s+ли(?!\w)", re.IGNORECASE)


def is_question(text: str) -> bool:
    """True when `text` asks something: a question mark, or an interrogative opening a sentence."""
    # The cheap tests first (this runs for every mention): _NOISE needs "://", "www." (any
    # case), "@" or "#"; _RU_LI needs a Cyrillic letter.
    noisy = "@" in text or "#" in text or "://" in text or "www." in text.lower()
    plain = _NOISE.sub(" ", text) if noisy else text
    if _QUESTION_MARK.search(plain):
        return True
    if not plain.isascii() and _RU_LI.search(plain):
        return True
    # Match and slice the same string: offsets into the stripped text are off by its leading
    # space in `plain` (always there when a handle opened the post).
    plain = plain.strip()
    for match in _SENTENCE_START.finditer(plain):
        words = match.group(1).casefold().split()
        if (" ".join(words) in _OPENERS or words[0] in _OPENERS) and not _EXCLAMATIONS.match(
            plain[match.start(1) :]  # a slice: _EXCLAMATIONS is anchored with ^
        ):
            return True
    return False


def influence(author: Author, engagement: Engagement | None = None) -> float:
    """Influence of an author in [0, 1] — the formula, so that operators can reason about it:

        reach      = min(1, log10(1 + followers) / 6)          # 1,000,000 followers → 1
        resonance  = min(1, log10(1 + likes + 2·reposts + replies + quotes) / 4)   # 10,000 → 1
        influence  = 0.7 · reach + 0.15 · verified + 0.15 · resonance

    Logarithms because reach grows by orders of magnitude (a 2,000-follower account is not twice
    a 1,000-follower one in practice); reposts count double since they carry the post to new
    audiences.
    """
    reach = min(1.0, math.log10(1 + author.followers) / 6)
    resonance = 0.0
    if engagement is not None:
        weight = engagement.likes + 2 * engagement.reposts + engagement.replies + engagement.quotes
        resonance = min(1.0, math.log10(1 + weight) / 4)
    return round(0.7 * reach + 0.15 * float(author.verified) + 0.15 * resonance, 4)
