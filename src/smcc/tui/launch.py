"""Starting the console from the CLI: the full console (with its embedded ingester) or one view."""

from __future__ import annotations

from collections.abc import Sequence

from smcc.config import Config
from smcc.sources import Source
from smcc.store import MentionFilter, Store
from smcc.tui.app import ConsoleApp
from smcc.tui.data import ConsoleData
from smcc.tui.ingester import BackgroundIngest
from smcc.tui.layout import layout_path
from smcc.tui.screens.main import MainScreen
from smcc.tui.screens.view import ViewScreen


def run_console(
    config: Config,
    store: Store,
    sources: Sequence[Source],
    *,
    where: MentionFilter | None = None,
    theme: str | None = None,
) -> str | None:
    """Run the console until the operator quits; returns the ingester's failure, if it had one.

    The ingester starts first (in its own thread) so that a standby or a failing source never
    holds up the first paint.
    """
    ingest = BackgroundIngest(config, store.path, sources) if sources else None
    if ingest is not None:
        ingest.start()
    data = ConsoleData(store, config)
    app = ConsoleApp(
        data,
        lambda d: MainScreen(d, ingest, where=where, layout_file=layout_path()),
        keymap=config.operator.keys,
        theme=theme,
    )
    try:
        app.run()
    finally:
        if ingest is not None:
            ingest.stop()
    return ingest.status().failure if ingest is not None else None


def run_view(
    config: Config,
    store: Store,
    view: str,
    *,
    tier: int | None = None,
    where: MentionFilter | None = None,
    theme: str | None = None,
) -> None:
    """One pane full-screen; it reads and acts on the store and never ingests."""
    data = ConsoleData(store, config)
    app = ConsoleApp(
        data,
        lambda d: ViewScreen(d, view, tier=tier, where=where),
        keymap=config.operator.keys,
        theme=theme,
    )
    app.run()
