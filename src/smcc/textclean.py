"""Cleaning untrusted text from the internet before it is stored or shown.

Posts are data, never instructions to a terminal: escape sequences (CSI, OSC, DCS …), C0/C1 control
characters and bidirectional overrides are removed, so a post cannot move the cursor, retitle the
window, hide text or reorder what the operator reads.
"""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences: CSI (ESC [ … final), OSC/DCS/APC/PM/SOS (ESC ] … BEL or ST), and
# two-character escapes; plus their 8-bit C1 forms.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]               # CSI
    | (?:\x1b[\]PX^_]|[\x90\x9d\x98\x9e\x9f])        # OSC, DCS, SOS, PM, APC ...
      .*?(?:\x07|\x1b\\|\x9c|$)                      # ... up to BEL or ST
    | \x1b[@-Z\\-_]                                  # other two-character escapes
    """,
    re.VERBOSE | re.DOTALL,
)
# C0 and C1 controls except tab and newline; DEL.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates (LRE … RLO, LRI … PDI): they can reorder what is shown.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_ANY_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# A surrogate left alone in a str (from a JSON `\ud800` escape without its pair; json.loads joins
# real pairs) cannot be encoded as UTF-8: SQLite refuses the whole batch that carries it.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (�), so it can be stored and shown."""
    if text.isascii():
        return text
    return _SURROGATE.sub("\ufffd", text)


def clean_text(text: str) -> str:
    """Text safe to store and show: NFC, no escape sequences, controls, bidi overrides or lone
    surrogates."""
    if _ANY_SPECIAL.search(text):
        text = _ESCAPES.sub("", text)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _CONTROLS.sub("", text)
        text = _BIDI.sub("", text)
        text = _SURROGATE.sub("\ufffd", text)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text.strip()


def one_line(text: str, width: int | None = None) -> str:
    """Cleaned text on a single line (for tables and feeds), optionally cut to `width`."""
    flat = " ".join(clean_text(text).split())
    if width is not None and len(flat) > width:
        return flat[: max(0, width - 1)] + "…"
    return flat
