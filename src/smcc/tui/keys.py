"""Every key binding of the console, each with an id that `[operator.keys]` in config can remap.

`smcc.tui.commands` offers the same actions in the command palette, so an operator who forgets a
key can type its name instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from textual.binding import Binding, BindingType

from smcc.config import Macro


@dataclass(frozen=True)
class Key:
    id: str
    key: str
    action: str
    description: str
    help: str
    show: bool = True
    palette: bool = True


APP_KEYS: tuple[Key, ...] = (
    Key("help", "question_mark", "app.toggle_help", "Keys", "Show or hide the key bindings"),
    Key("quit", "q", "app.quit", "Quit", "Quit the console (the ingester stops cleanly)"),
)

WORKFLOW_KEYS: tuple[Key, ...] = (
    Key("next", "j", "move(1)", "Next", "Move to the next item", False, False),
    Key("previous", "k", "move(-1)", "Prev", "Move to the previous item", False, False),
    Key("claim", "c", "claim", "Claim", "Claim the selected mention"),
    Key("compose", "o", "compose", "Reply", "Write a reply to the selected mention"),
    Key("release", "u", "release", "Release", "Release a mention you claimed", show=False),
    Key("dismiss", "d", "dismiss_mention", "Dismiss", "Dismiss the selected mention"),
    Key("escalate", "e", "escalate", "Escalate", "Escalate the selected mention"),
    Key("route", "r", "route", "Route", "Route the selected mention to a department"),
    Key(
        "change_tier", "t", "change_tier", "Tier", "Change the selected mention's tier", show=False
    ),
    Key("tier1", "1", "show_tier(1)", "T1", "Show the tier 1 queue", show=False),
    Key("tier2", "2", "show_tier(2)", "T2", "Show the tier 2 queue", show=False),
    Key("tier3", "3", "show_tier(3)", "T3", "Show the tier 3 queue", show=False),
    Key("mine", "m", "toggle_mine", "Mine", "Show only mentions claimed by you", show=False),
)

FIND_KEYS: tuple[Key, ...] = (
    Key("search", "slash", "search", "Search", "Full-text search; results become the queue", False),
    # Not in the footer (it pushed `q Quit` off at 80 columns); the results header says so.
    Key("end_search", "escape", "end_search", "Back", "Leave the search results", False, False),
    Key("filter", "F", "filter_queue", "Filter", "Filter the queue by department, brand, …", False),
    Key("alerts", "a", "jump_alerts", "Alerts", "Jump to the mentions of an active alert", False),
    Key("approvals", "A", "approvals", "Approvals", "Show the items waiting for approval", False),
)

LAYOUT_KEYS: tuple[Key, ...] = (
    Key("toggle_feed", "f", "toggle_pane('feed')", "Feed", "Show or hide the live feed", False),
    Key("toggle_detail", "v", "toggle_pane('detail')", "Detail", "Show or hide the detail", False),
    Key(
        "toggle_calendar",
        "w",
        "toggle_pane('calendar')",
        "Week",
        "Show or hide the calendar",
        False,
    ),
    Key(
        "toggle_meters",
        "g",
        "toggle_pane('meters')",
        "Meters",
        "Show or hide the sentiment meters",
        False,
    ),
)

RESIZE_KEYS: tuple[Key, ...] = (
    Key(
        "grow_left", "greater_than_sign", "resize_left(5)", "Wider", "Widen the queue column", False
    ),
    Key(
        "shrink_left",
        "less_than_sign",
        "resize_left(-5)",
        "Narrower",
        "Narrow the queue column",
        False,
    ),
)


COMPOSER_KEYS: tuple[Key, ...] = (
    Key("send", "ctrl+s", "send", "Send", "Queue the reply in the outbox", palette=False),
    Key("cancel_reply", "escape", "cancel", "Cancel", "Close the composer", palette=False),
    Key("canned", "ctrl+t", "pick_canned", "Canned", "Pick a canned reply", palette=False),
    *(
        Key(
            f"canned{n}",
            f"alt+{n}",
            f"insert_canned({n})",
            f"Canned {n}",
            f"Insert canned reply {n}",
            show=False,
            palette=False,
        )
        for n in range(1, 10)
    ),
)
"""In the composer. Digits alone type digits there, so canned replies sit on Alt+1…9 (a terminal
sends Esc then the digit) and on Ctrl+T, a list where a digit picks."""


APPROVAL_KEYS: tuple[Key, ...] = (
    Key("approve", "y", "approve", "Approve", "Approve the selected item", palette=False),
    Key("reject", "n", "reject", "Reject", "Reject the selected item (say why)", palette=False),
)
"""In the approvals queue (`smcc view approvals`)."""

DRAFT_KEYS: tuple[Key, ...] = (
    Key("edit_draft", "o", "edit_draft", "Edit", "Edit the draft, submit it again", palette=False),
    Key("discard_draft", "x", "discard_draft", "Discard", "Discard the draft", palette=False),
)
"""In the list of the operator's drafts (under the approvals queue)."""


CALENDAR_KEYS: tuple[Key, ...] = (
    Key(
        "next_week",
        "right_square_bracket",
        "next_week(1)",
        "Week →",
        "Show the next week",
        False,
        False,
    ),
    Key(
        "previous_week",
        "left_square_bracket",
        "next_week(-1)",
        "← Week",
        "Show the week before",
        False,
        False,
    ),
    Key("this_week", "full_stop", "this_week", "This week", "Back to this week", False, False),
    Key("next_post", "down,j", "select_post(1)", "Next", "Select the next post", False, False),
    Key("previous_post", "up,k", "select_post(-1)", "Prev", "Select the post before", False, False),
    # Not in the footer (it pushed `q Quit` off at 80 columns); the calendar's header says it.
    Key(
        "move_post", "enter", "move_post", "Move", "Give the selected post a new time", False, False
    ),
)
"""In the content calendar (`smcc view calendar`, or the pane shown with `w`)."""


CHOICE_KEYS: tuple[Key, ...] = (
    Key(
        "cancel_choice", "escape", "cancel", "Cancel", "Close a list without choosing", False, False
    ),
)
SEARCH_KEYS: tuple[Key, ...] = (
    Key(
        "cancel_search",
        "escape",
        "cancel",
        "Cancel",
        "Close the search or comment box",
        False,
        False,
    ),
)
APPROVALS_SCREEN_KEYS: tuple[Key, ...] = (
    Key(
        "close_approvals",
        "escape",
        "close",
        "Close",
        "Close the approvals over the screen",
        palette=False,
    ),
)
"""The dialogs' own keys: their ids are known here so that `[operator.keys]` can remap them too."""


def bindings(keys: Iterable[Key]) -> list[BindingType]:
    """Textual bindings of `keys` (a key without one, e.g. a macro run from the palette only, is
    left out)."""
    return [Binding(k.key, k.action, k.description, show=k.show, id=k.id) for k in keys if k.key]


ALL_KEYS: tuple[Key, ...] = (
    *APP_KEYS,
    *WORKFLOW_KEYS,
    *FIND_KEYS,
    *LAYOUT_KEYS,
    *RESIZE_KEYS,
    *COMPOSER_KEYS,
    *APPROVAL_KEYS,
    *DRAFT_KEYS,
    *CALENDAR_KEYS,
    *CHOICE_KEYS,
    *SEARCH_KEYS,
    *APPROVALS_SCREEN_KEYS,
)


OPERATOR_KEYS: tuple[Key, ...] = (
    *APP_KEYS,
    *WORKFLOW_KEYS,
    *FIND_KEYS,
    *LAYOUT_KEYS,
    *RESIZE_KEYS,
)
"""What a macro's key must not take: the keys of the operator's screens."""


def macro_keys(macros: Mapping[str, Macro]) -> list[Key]:
    """One key per macro of the config (`[macros.NAME] key`), id `macro_NAME`; a macro without a
    key gets an empty one: it runs from the command palette."""
    return [
        Key(
            f"macro_{name}",
            macro.key or "",
            f"run_macro({name!r})",
            macro.label or name,
            f"Run macro {name}" + (f": {macro.label}" if macro.label else ""),
            show=False,
        )
        for name, macro in macros.items()
    ]


def keys_of(key: Key, keymap: Mapping[str, str]) -> list[str]:
    """The keys `key` is on after `keymap` (`[operator.keys]`), e.g. ["ctrl+o"]."""
    given = keymap.get(key.id, key.key)
    return [k.strip() for k in given.split(",") if k.strip()]


def usable_macro_keys(
    macros: Mapping[str, Macro], keymap: Mapping[str, str]
) -> tuple[list[Key], list[str]]:
    """The macros' keys, with the key of one that would clash (with a console key or an earlier
    macro, after `keymap`) taken away — that macro then runs from the palette only — and a
    message for each clash."""
    taken = {k: key.id for key in OPERATOR_KEYS for k in keys_of(key, keymap)}
    usable: list[Key] = []
    problems: list[str] = []
    for default in macro_keys(macros):
        wanted = keys_of(default, keymap)
        clash = next((k for k in wanted if k in taken), None)
        if clash is not None:
            problems.append(
                f"macros.{default.id.removeprefix('macro_')}: key {clash!r} is already "
                f"{taken[clash]}'s; give the macro another (it runs from the palette until then)"
            )
            wanted = []
        # A macro without a key of its own gets the one [operator.keys] gives it.
        key = replace(default, key=",".join(wanted))
        taken.update((k, key.id) for k in wanted)
        usable.append(key)
    return usable, problems


def check_keymap(
    keymap: Mapping[str, str], macros: Mapping[str, Macro] | None = None
) -> tuple[dict[str, str], list[str]]:
    """The remappings that name a known binding id (the console's and `macro_NAME` of each
    macro), and a message for each one that does not and each macro key that clashes."""
    macros = macros or {}
    known = {k.id for k in ALL_KEYS} | {k.id for k in macro_keys(macros)}
    good = {i: keys for i, keys in keymap.items() if i in known}
    problems = [
        f"operator.keys.{i}: no key binding with that id (known: {', '.join(sorted(known))})"
        for i in keymap
        if i not in known
    ]
    problems += usable_macro_keys(macros, good)[1]
    return good, problems
