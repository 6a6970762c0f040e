"""The detail pane's "Why": the stored explanation JSON read out for people, never as raw JSON."""

from __future__ import annotations

from rich.console import Console

from smcc.config import default_config
from smcc.models import Author, Mention, utcnow
from smcc.rules import RuleEngine
from smcc.tui.widgets.detail import _explanation


def _plain(stored: str) -> str:
    console = Console(width=200, record=True)
    for part in _explanation(stored):
        console.print(part)
    return console.export_text()


def test_a_stored_explanation_reads_as_rules_conditions_and_words() -> None:
    mention = Mention(
        source="t",
        external_id="1",
        author=Author(handle="u"),
        text="internet down",
        created_at=utcnow(),
    )
    RuleEngine(default_config()).triage([mention])
    assert mention.triage is not None
    text = _plain(mention.triage.explanation)
    assert "• outage: " in text
    assert "words: down" in text
    assert "{" not in text  # no raw JSON


def test_text_that_is_not_our_json_is_shown_as_is() -> None:
    assert _plain("set by hand [bold]x[/bold]").strip() == "set by hand [bold]x[/bold]"
