"""Themes: the console follows Textual's theme system (any built-in theme by name, switchable in
the command palette); `wall` adds a high-contrast theme for flat panels across a room, under which
the queue shows its counts in big digits."""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES, Theme

WALL = "wall"
WALL_THEME = Theme(
    name=WALL,
    primary="#FFFFFF",
    secondary="#00E5FF",
    accent="#FFE500",
    warning="#FFB000",
    error="#FF2D2D",
    success="#00FF66",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    dark=True,
)


def theme_names() -> list[str]:
    return sorted({*BUILTIN_THEMES, WALL})


def theme_problem(name: str | None) -> str | None:
    """None when `name` is a theme the console knows (or None: Textual's default), else why not."""
    if name is None or name in BUILTIN_THEMES or name == WALL:
        return None
    return f"--theme {name}: no such theme (choose one of {', '.join(theme_names())})"
