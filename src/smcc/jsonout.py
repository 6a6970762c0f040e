"""JSON for the terminal and for pipes: UTF-8 when it can be, never a crash when it cannot.

Commands that echo their input (`smcc analyze`, `smcc rules test`, `smcc reply --stdin`) may be
handed JSON with lone surrogates ("\\ud800" is valid JSON but not encodable as UTF-8). Written
with `ensure_ascii=False` such a string makes stdout raise — or, with Python's surrogateescape,
emit bytes that are not UTF-8. Those objects are written with ASCII escapes instead: still the
same JSON value, and every line stays valid UTF-8.
"""

from __future__ import annotations

import json
from typing import Any


def json_text(value: Any, **options: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, **options)`, or ASCII-escaped when that text holds
    characters UTF-8 cannot encode (lone surrogates)."""
    text = json.dumps(value, ensure_ascii=False, **options)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **options)
    return text
