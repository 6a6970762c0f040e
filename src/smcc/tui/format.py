"""How the console words and colours things: SLA countdowns, sentiment, times, untrusted text.

Pure functions of their arguments (the clock is passed in), so panes render the same screen for the
same data and snapshot tests can freeze time.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo

from rich.text import Text

from smcc.rules import SlaState, SlaTimes
from smcc.textclean import clean_text, one_line


def sla_state(times: SlaTimes | None, now: datetime) -> SlaState:
    """The rules engine's verdict (one policy for triage and console); NONE without a deadline."""
    return SlaState.NONE if times is None else times.state(now)


def countdown(due: datetime | None, now: datetime) -> str:
    """Time left as a short label: '45s', '12m', '3h05', '2d'; overdue ones start with '-'."""
    if due is None:
        return "—"
    seconds = int((due - now).total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds}s"
    if seconds < 3600:
        return f"{sign}{seconds // 60}m"
    if seconds < 86400:
        return f"{sign}{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{sign}{seconds // 86400}d"


SLA_STYLE = {
    SlaState.NONE: "dim",
    SlaState.OK: "green",
    SlaState.WARNING: "bold yellow",
    SlaState.BREACHED: "bold white on red",
}


def sentiment_style(score: float | None, label: str = "unknown") -> str:
    """Red for negative, green for positive, plain for neutral, dim when not (yet) known."""
    if score is None:
        return {"negative": "red", "positive": "green", "neutral": ""}.get(label, "dim")
    if score <= -0.6:
        return "bold red"
    if score <= -0.15:
        return "red"
    if score >= 0.15:
        return "green"
    return ""


def sentiment_text(score: float | None, label: str, analyzer: str = "") -> Text:
    if score is None and label == "unknown":
        return Text("not analysed yet", style="dim")
    value = f"{score:+.2f} " if score is not None else ""
    text = Text(f"{value}{label}", style=sentiment_style(score, label))
    if analyzer:
        text.append(f"  ({one_line(analyzer)})", style="dim")
    return text


def local_time(value: datetime, zone: tzinfo, *, seconds: bool = False) -> str:
    return value.astimezone(zone).strftime("%H:%M:%S" if seconds else "%H:%M")


# Zero-width and invisible formatting characters that textclean keeps (they are legitimate inside
# words in some scripts) but that can hide text in a one-line display.
_INVISIBLE = {"Cf"}
# Emoji variation selectors and skin-tone modifiers: terminals disagree on how wide they make an
# emoji (tmux draws ✈️ one cell wide, Rich counts two), and one cell of disagreement pushes a
# pane's border out of line. Without them every terminal draws the plain emoji the same width.
_WIDTH_AMBIGUOUS = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")


def _visible(text: str) -> str:
    if text.isascii():
        return text
    text = _WIDTH_AMBIGUOUS.sub("", text)
    return "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)


def safe_line(text: str, style: str = "") -> Text:
    """Untrusted text for one row: cleaned, on one line, never parsed as markup."""
    return Text(_visible(one_line(text)), style=style, no_wrap=True, overflow="ellipsis")


def safe_block(text: str, style: str = "", *, limit: int = 20_000) -> Text:
    """Untrusted text for a paragraph: cleaned, wrapping, never parsed as markup.

    Very long posts are cut at `limit` characters so a 50 KB text cannot swamp the pane.
    """
    cleaned = _visible(clean_text(text))
    if len(cleaned) > limit:
        cleaned = cleaned[:limit] + f"… ({len(cleaned) - limit:,} more characters)"
    return Text(cleaned, style=style, overflow="fold")
