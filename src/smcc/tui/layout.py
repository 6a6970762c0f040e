"""The main screen's layout as the operator left it: which panes are shown and how wide the left
column is. Kept in the user *state* dir (`~/.local/state/smcc/layout.json` on Linux), not in
config.toml: it is the console's memory, not a setting anyone writes by hand."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

SHORT_BELOW = 34
"""Terminal rows under which the main screen is short: no meters unless asked, a smaller alerts
banner (the queue needs the rows)."""
LEFT_MIN = 25
LEFT_MAX = 85
LEFT_STEP = 5
LEFT_DEFAULT = 60
"""Percent of the width for the queues and feed (the stylesheet's 3fr : 2fr)."""
PANES = ("feed", "detail", "meters", "calendar")
"""The panes the operator can hide or show (the queue always stays)."""


@dataclass
class Layout:
    shown: dict[str, bool] = field(default_factory=dict)
    """Only the operator's explicit choices; a pane not named here follows the stylesheet (the
    meters hide themselves on short terminals)."""
    left: int | None = None
    """The left column's width in percent, or None for the stylesheet's default."""

    def resized(self, step: int) -> Layout:
        now = self.left if self.left is not None else LEFT_DEFAULT
        left = max(LEFT_MIN, min(LEFT_MAX, now + step))
        return Layout(dict(self.shown), left)

    def to_json(self) -> str:
        return json.dumps({"shown": self.shown, "left": self.left}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Layout:
        """Whatever of a saved layout still makes sense; anything else is dropped, not an error
        (an old or hand-edited file must never keep the console from opening)."""
        try:
            raw = json.loads(text)
        except ValueError:
            return cls()
        if not isinstance(raw, dict):
            return cls()
        shown_raw = raw.get("shown")
        shown = (
            {k: v for k, v in shown_raw.items() if k in PANES and isinstance(v, bool)}
            if isinstance(shown_raw, dict)
            else {}
        )
        left = raw.get("left")
        if not isinstance(left, int) or isinstance(left, bool) or not LEFT_MIN <= left <= LEFT_MAX:
            left = None
        return cls(shown, left)


def layout_path() -> Path:
    return Path(platformdirs.user_state_dir("smcc")) / "layout.json"


def load_layout(path: Path) -> Layout:
    try:
        return Layout.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return Layout()


def save_layout(path: Path, layout: Layout) -> None:
    """Write atomically (a crash mid-write leaves the previous layout)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".layout-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(layout.to_json())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
