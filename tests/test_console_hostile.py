"""Hostile posts through the real path: the replay source reads tests/fixtures/hostile_posts.jsonl
(the `smcc export --format jsonl` format), the ingest pipeline stores it, and the console shows it.

What the operator's terminal receives is checked, not only the widgets' text: no Rich markup
interpreted (no link, no style from the post), no escape sequence other than the console's own
colours, no bidi override or zero-width character, and the 50 KB posts wrap inside the detail
pane without moving any other pane.
"""

from __future__ import annotations

import asyncio
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from console_app import RecordingApp, console_app, until
from console_seed import console_config
from smcc import ingest
from smcc.config import ReplaySourceConfig
from smcc.models import Mention
from smcc.sources.replay import ReplaySource
from smcc.store import Store
from smcc.tui.screens.view import ViewScreen
from smcc.tui.widgets.detail import DetailPane
from smcc.tui.widgets.feed import FeedPane
from smcc.tui.widgets.queue import QueuePane

FIXTURE = Path(__file__).parent / "fixtures" / "hostile_posts.jsonl"
POSTS = 10
LARGE = (200, 60)

OWN_ESCAPES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[[0-9]+;[0-9]+H")
"""The only escape sequences the console itself writes: colours and attributes (SGR), and the
cursor's move to the start of each line."""
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff"
    "\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]"
)
"""Controls, zero-width characters, bidi marks/overrides/isolates, lone surrogates; emoji
variation selectors and skin tones (terminals disagree on the width they give them)."""


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture replayed by the ingest of `smcc ingest` (lease, pipeline, rules) into a store."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    config = console_config(
        f"[[brands]]\nname = 'Nusantel'\nkeywords = ['nusantel']\n"
        f"[sources.hostile]\ntype = 'replay'\npath = '{FIXTURE}'\nspeed = 0\n"
    )
    source_config = config.sources["hostile"]
    assert isinstance(source_config, ReplaySourceConfig)
    source = ReplaySource("hostile", source_config)
    store = Store.open(path)
    with pytest.MonkeyPatch.context() as patch:
        # The analyse stage and the writer in-process: child processes cost seconds and change
        # nothing here.
        patch.setattr(ingest, "use_child_processes", lambda: False)
        stats = asyncio.run(ingest.run(ingest.prepare(config, store, [source])))
    assert source.bad_lines == []
    assert stats.stored == POSTS
    store.close()
    return path


@pytest.fixture
def store(hostile_db: Path) -> Iterator[Store]:
    store = Store.open(hostile_db)
    yield store
    store.close()


def stored(store: Store) -> dict[str, Mention]:
    return {m.external_id: m for m in store.iter_mentions()}


def test_the_store_keeps_the_text_as_written_less_what_a_terminal_would_obey(store: Store) -> None:
    mentions = stored(store)
    assert len(mentions) == POSTS
    markup = mentions["markup"]
    # Markup is plain text to the store: kept as the author wrote it.
    assert markup.text.startswith("[bold]not bold[/bold] [link=https://evil.example/pay]")
    assert markup.author.handle == "[link=https://evil.example]ops[/link]"
    assert markup.author.display_name == "[bold red]Nusantel Official[/bold red]"
    assert len(mentions["long-words"].text) == 50_000
    assert len(mentions["long-run"].text) == 50_000
    # A lone surrogate cannot be stored as UTF-8: it becomes U+FFFD, the rest of the post stays.
    surrogates = mentions["surrogates"]
    assert surrogates.text == "nusantel broken \ufffd half \ufffd pair \U0001f600 whole pair"
    assert surrogates.author.handle == "sur\ufffdrogate"
    assert surrogates.author.display_name == "Half \ufffd Pair"
    # Escape sequences in the text are gone at ingest; handles are keys and kept (shown cleaned).
    assert "\x1b" not in mentions["ansi"].text
    assert mentions["ansi"].author.handle == "evil\x1b[5mblink"


def terminal_output(app: RecordingApp) -> str:
    """What the console sends to the terminal for the whole screen (as `export_screenshot`)."""
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    # No public way to render the current screen to a console: the compositor is what
    # App.export_screenshot uses too.
    console.print(app.screen._compositor.render_update(full=True))
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def screen_lines(app: RecordingApp) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return [strip.text for strip in strips]


def check_screen(app: RecordingApp) -> list[str]:
    """The screen is data only; returns its lines for more checks."""
    output = terminal_output(app)
    leftover = OWN_ESCAPES.sub("", output)
    assert "\x1b" not in leftover, (
        f"escape sequence on screen: {leftover[leftover.index(chr(27)) :][:40]!r}"
    )
    assert "\x9b" not in leftover
    assert "\x9d" not in leftover
    lines = screen_lines(app)
    width, height = app.size
    assert len(lines) == height
    for number, line in enumerate(lines):
        found = FORBIDDEN.search(line)
        assert found is None, (
            f"line {number}: {unicodedata.name(found.group(), hex(ord(found.group())))}"
        )
    for strip in app.screen._compositor.render_strips():
        assert strip.cell_length == width
        for segment in strip:
            style = segment.style
            # A post's [link=…] never becomes a link, a [bold red] never a colour of its own.
            assert style is None or style.link is None, f"link on screen: {segment.text!r}"
    return lines


def widget_text(widget: Static, width: int = 300) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def regions(app: RecordingApp) -> dict[str, Region]:
    panes: list[Widget] = [
        *app.screen.query(QueuePane),
        *app.screen.query(FeedPane),
        *app.screen.query(DetailPane),
    ]
    return {str(pane.id): pane.region for pane in panes}


def showing(detail: DetailPane, mention_id: int) -> Callable[[], bool]:
    return lambda: detail.border_subtitle == f"#{mention_id}"


async def visit_every_post(
    pilot: Pilot[None], app: RecordingApp, store: Store, checks: int = POSTS
) -> None:
    """Move down the queue, one hostile post after the other, and check screen and detail."""
    queue = app.screen.query_one(QueuePane)
    detail = app.screen.query_one(DetailPane)
    await until(pilot, lambda: queue.table.row_count == POSTS)
    before = regions(app)
    ids = {m.id: m for m in store.iter_mentions()}
    seen: set[str] = set()
    for row in range(POSTS):
        if row:
            await pilot.press("j")
        current = queue.current_id
        assert current is not None
        mention = ids[current]
        await until(pilot, showing(detail, current))
        await pilot.pause(0.05)
        check_screen(app)
        # Queue rows stay one line each: the row heights, and the layout of every pane.
        assert all(r.height == 1 for r in queue.table.rows.values())
        assert regions(app) == before, f"{mention.external_id} moved the panes"
        plain = widget_text(detail.query_one("#detail-body", Static))
        assert FORBIDDEN.search(plain) is None, mention.external_id
        seen.add(mention.external_id)
        # The queue row: the same text on one line, markup as characters.
        cells = [cell.plain for cell in queue.table.get_row(str(current))]
        assert all("\n" not in cell for cell in cells)
        if mention.external_id == "markup":
            assert cells[2] == "@[link=https://evil.example]ops[/link]"
            assert cells[3].startswith("[bold]not bold[/bold] [link=https://evil.example/pay]")
        check_post(mention.external_id, plain, detail)
    assert len(seen) == checks


def check_post(external_id: str, shown: str, detail: DetailPane) -> None:
    """What each post must look like in the detail: its text literally, never obeyed."""
    scroll = detail.query_one("#detail-scroll")
    if external_id == "markup":
        assert "[bold]not bold[/bold]" in shown
        assert "[link=https://evil.example/pay]click" in shown
        assert "[bold red]Nusantel Official[/bold red]" in shown
        assert "@[link=https://evil.example]ops[/link]" in shown
    elif external_id == "ansi":
        assert "@evilblink" in shown
        assert "nusantel red screen cleared alt screen" in shown
    elif external_id == "osc8":
        assert "Click Me" in shown
        assert "@osctitle" in shown
    elif external_id == "bidi":
        assert "@gnp.exe" in shown
        assert "refund: 000,01 pR isolated mark" in shown
    elif external_id == "zero-width":
        assert "password bom joined zwnj softhyphen" in shown
        assert "@admin" in shown
    elif external_id == "surrogates":
        assert "broken \ufffd half \ufffd pair" in shown
        assert "@sur\ufffdrogate" in shown
    elif external_id == "emoji":
        assert "Nina Travels \u2708 @nina_travels" in shown
        assert "nusantel \u2764 \U0001f44d family \U0001f468\U0001f469\U0001f467 flag" in shown
    elif external_id.startswith("long-"):
        # Wrapped in the detail pane, which scrolls; the other panes did not move (checked above).
        assert scroll.max_scroll_y > 10
        assert scroll.virtual_size.width <= scroll.size.width


@pytest.mark.parametrize("size", [(80, 24), LARGE])
async def test_main_screen_shows_every_hostile_post_as_data(
    store: Store, size: tuple[int, int]
) -> None:
    app = console_app(store)
    async with app.run_test(size=size) as pilot:
        feed = app.screen.query_one(FeedPane)
        await until(pilot, lambda: len(feed.items) == POSTS)
        await visit_every_post(pilot, app, store)
        # The feed: one line per post, whatever the post holds.
        lines = widget_text(feed.query_one("#feed-lines", Static), width=size[0])
        assert lines.count("\n") == POSTS


async def test_detail_view_of_each_hostile_post(store: Store) -> None:
    """`smcc view detail` follows the selection: each hostile post full screen, large size."""
    app = console_app(store, screen=lambda d: ViewScreen(d, "detail"))
    async with app.run_test(size=LARGE) as pilot:
        detail = app.screen.query_one(DetailPane)
        for mention in stored(store).values():
            assert mention.id is not None
            store.set_selection("ayu", mention.id)
            await until(pilot, showing(detail, mention.id))
            await pilot.pause(0.05)
            check_screen(app)
            check_post(
                mention.external_id, widget_text(detail.query_one("#detail-body", Static)), detail
            )
            if mention.external_id == "long-words":  # its end is reachable by scrolling
                scroll = detail.query_one("#detail-scroll")
                scroll.scroll_end(animate=False)
                await pilot.pause(0.05)
                assert "History" in "\n".join(check_screen(app))
