"""Text folding for rule matching: case-, accent- and width-insensitive, same for posts and terms.

`fold` applies NFKD (compatibility: full-width 'ｄｏｗｎ' → 'down', ligatures, superscripts),
casefolding ('ß' → 'ss', 'Ё' → 'ё'), drops combining marks ('café' → 'cafe', 'ё' → 'е',
'й' → 'и') and recomposes (NFC), and turns every run of white space into one space. Posts and
rule terms are folded by the same function, so a term matches whatever spelling folds like it.

Indonesian: enclitics (-nya, -lah, -kah, -pun, -ku, -mu) and reduplication ('gangguan2') may follow
a term without breaking its word boundary (`clitic_end`), and `variants` gives the spellings of a
term with its affix written as a separate word ('ditagih' → 'di tagih', 'sinyalnya' →
'sinyal nya'), which informal Indonesian often does.
"""

from __future__ import annotations

import re
import unicodedata


def _mark_class() -> str:
    """A regex character class of the combining marks (category M*) of the Basic Multilingual Plane.

    Marks outside the BMP (historic scripts, musical notation, variation selectors 17-256) are
    left in place: a class that includes them makes every search ~40x slower (sre can no longer
    use its bitmap), and posts and terms are folded alike, so matching stays consistent.
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    parts = (
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return "[" + "".join(parts) + "]+"


_MARKS = re.compile(_mark_class())
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """The matching form of `text` (see the module docstring)."""
    if text.isascii():
        folded = text.lower()
    else:
        folded = text.casefold()
        # Most non-ASCII posts (emoji, Cyrillic without й/ё) are already decomposed: skip work.
        if not unicodedata.is_normalized("NFKD", folded):
            folded = unicodedata.normalize("NFKD", folded)
            folded = unicodedata.normalize("NFC", _MARKS.sub("", folded))
        elif _MARKS.search(folded):  # a stray combining mark typed on its own
            folded = _MARKS.sub("", folded)
    if "  " in folded or "\n" in folded or "\t" in folded or "\r" in folded:
        folded = _SPACES.sub(" ", folded)
    return folded.strip() if folded[:1].isspace() or folded[-1:].isspace() else folded


def is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


CLITICS = ("nya", "lah", "kah", "pun", "ku", "mu")
"""Indonesian enclitics that may be glued to the end of a word."""

PREFIXES = ("di", "ke", "ter", "se")
"""Indonesian prefixes that informal writing often separates from the word ('di tagih')."""


_CLITIC_AT = re.compile(r"(?:nya|lah|kah|pun|ku|mu|2)(?!\w)")


def clitic_end(text: str, end: int) -> bool:
    """Whether `text[end:]` starts with an Indonesian enclitic or a reduplication '2' that ends a
    word — so a term ending at `end` still ends on a word boundary ('sinyalnya', 'gangguan2')."""
    return _CLITIC_AT.match(text, end) is not None


_LATIN_WORD = re.compile(r"^[a-z]+$")
_LATIN_PHRASE = re.compile(r"^[a-z]+( [a-z]+){1,3}$")


def variants(term: str) -> list[str]:
    """Other spellings of folded `term` with an Indonesian affix written apart (maybe none).

    One-word Latin terms long enough that the rest is itself word-like (3+ letters) get variants
    ('ditagih' → 'di tagih', 'sinyalnya' → 'sinyal nya'); in Latin phrases of up to four words a
    '-nya' may follow any word but the last, glued or apart ('sinyal hilang' → 'sinyalnya hilang',
    'sinyal nya hilang'); after the last word the matcher's boundary check allows it anyway.
    """
    if _LATIN_PHRASE.match(term):
        # 'sinyal hilang' also as 'sinyalnya hilang' and 'sinyal nya hilang'.
        words = term.split(" ")
        out = []
        for i in range(len(words) - 1):
            if len(words[i]) >= 3:
                head, tail = " ".join(words[: i + 1]), " ".join(words[i + 1 :])
                out += [f"{head}nya {tail}", f"{head} nya {tail}"]
        return out
    if not _LATIN_WORD.match(term):
        return []
    out = []
    for prefix in PREFIXES:
        if term.startswith(prefix) and len(term) - len(prefix) >= 3:
            out.append(f"{prefix} {term[len(prefix) :]}")
    for clitic in CLITICS[:4]:  # -ku and -mu are too short to split safely
        if term.endswith(clitic) and len(term) - len(clitic) >= 3:
            out.append(f"{term[: -len(clitic)]} {clitic}")
    return out
