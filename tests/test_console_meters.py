"""Sentiment meters: the series from the rollups, their labels, and the pane live on a store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Sparkline

from console_app import console_app, until
from console_seed import NOW, console_config, make, seeded_store
from smcc.store import RollupMinute, Store
from smcc.tui.screens.main import MainScreen
from smcc.tui.screens.view import ViewScreen
from smcc.tui.series import build_series, floor_minute
from smcc.tui.widgets.meters import MeterRow, MetersPane, brand_label, gauge

MINUTE = timedelta(minutes=1)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "console.db"
    seeded_store(path).close()
    return path


def _row(key: str, ago: int, count: int, total: float = 0.0, n: int = 0) -> RollupMinute:
    return RollupMinute(key, floor_minute(NOW) - ago * MINUTE, count, total, n)


def test_current_is_the_mean_of_every_score_in_the_window_not_of_minute_means() -> None:
    rows = [
        _row("Nusantel", 1, 10, -3.0, 6),  # mean -0.5 over 6 scores
        _row("Nusantel", 2, 3, 1.0, 2),  # mean +0.5 over 2 scores
        _row("Nusantel", 40, 5, 4.0, 5),  # outside the 15-minute window: in the line only
    ]
    [series] = build_series(rows, NOW)
    assert series.current == -2.0 / 8
    assert series.scored == 8
    assert series.volume == 18
    assert len(series.counts) == 60
    assert series.counts[-2] == 10


def test_no_scores_is_no_data_never_zero() -> None:
    rows = [_row("Nusantel", 1, 12)]  # mentions, none scored (sentiment_n = 0)
    series, quiet = build_series(rows, NOW, names=["Nusantel", "Quiet"])
    assert quiet.volume == 0
    assert quiet.current is None
    assert series.current is None
    assert series.sentiment_line() == []
    assert "no data" in brand_label(series).plain
    assert "+0.00" not in brand_label(series).plain


def test_configured_brands_come_first_then_others_by_volume() -> None:
    rows = [_row("Other", 1, 50), _row("Busy", 1, 90), _row("", 1, 500)]
    names = [s.name for s in build_series(rows, NOW, names=["Mine"])]
    assert names == ["Mine", "Busy", "Other"]  # '' (no brand) is not a brand


def test_line_carries_the_last_score_over_quiet_minutes() -> None:
    rows = [_row("B", 5, 1, 0.5, 1), _row("B", 2, 1, -0.5, 1)]
    [series] = build_series(rows, NOW)
    # Starts at the first scored minute, holds +0.5 over the two quiet minutes, ends at -0.5.
    assert series.sentiment_line() == [0.5, 0.5, 0.5, -0.5, -0.5, -0.5]


def test_rows_outside_the_hour_are_ignored() -> None:
    rows = [_row("B", 60, 7, 1.0, 1), _row("B", -1, 7, 1.0, 1)]
    assert build_series(rows, NOW) == []


def test_gauge_places_the_needle_on_the_scale() -> None:
    assert gauge(-1.0).plain == "●───┼────"
    assert gauge(0.0).plain == "────●────"
    assert gauge(1.0).plain == "────┼───●"
    assert gauge(5.0).plain == gauge(1.0).plain  # clamped


def test_store_rollup_series_sums_per_brand_and_source(tmp_path: Path) -> None:
    store = seeded_store(tmp_path / "r.db")
    rows = store.rollup_series(NOW - 60 * MINUTE, "brand")
    assert {r.key for r in rows} == {"Nusantel"}
    assert sum(r.count for r in rows) == 7
    assert sum(r.sentiment_n for r in rows) == 5
    assert round(sum(r.sentiment_sum for r in rows), 6) == round(-0.7 - 0.5 - 0.9 + 0.6 - 0.4, 6)
    assert {r.key for r in store.rollup_series(NOW - 60 * MINUTE, "source")} == {"demo"}
    assert store.rollup_values("language") == ["en"]


def _meters(app_screen: object) -> MetersPane:
    assert isinstance(app_screen, MainScreen | ViewScreen)
    return app_screen.query_one(MetersPane)


async def test_meters_view_shows_brands_and_sources_and_updates_live(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    seeded_store(db).close()
    store = Store.open(db)
    config = console_config('\n[[brands]]\nname = "Nusantel"\n[[brands]]\nname = "Quietco"\n')
    app = console_app(store, config, screen=lambda d: ViewScreen(d, "meters"))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = _meters(app.screen)
        await until(pilot, lambda: len(pane.query(".meter-label")) == 3)
        labels = [r.query_one(".meter-label").render() for r in pane.query(MeterRow)]
        plain = [str(getattr(label, "plain", label)) for label in labels]
        assert plain[0].startswith("Nusantel")
        assert "-0.25" in plain[0]
        assert plain[1].startswith("Quietco")
        assert "no data" in plain[1]
        lines = [r.query_one(Sparkline) for r in pane.query(MeterRow)]
        assert [line.display for line in lines] == [True, False, True]  # no fake flat line
        assert plain[2].startswith("demo")
        assert "7/h" in plain[2]

        # Another process stores a strongly positive mention: the meter moves without a key.
        other = Store.open(db)
        other.insert_batch(
            [make("new", "love nusantel", tier=3, age=MINUTE, handle="hana", sentiment=1.0)]
        )
        await until(pilot, lambda: pane.meters is not None and pane.meters.brands[0].scored == 5)
        assert pane.meters is not None
        assert pane.meters.brands[0].current == (-1.0 + 1.0) / 5
        other.close()


async def test_meters_hide_on_a_short_screen_and_show_on_request(store_path: Path) -> None:
    app = console_app(Store.open(store_path))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = _meters(app.screen)
        await pilot.pause(0.1)
        assert not pane.display  # 24 rows: the queue needs them more
        await pilot.press("g")
        assert pane.display
    app = console_app(Store.open(store_path))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause(0.1)
        assert _meters(app.screen).display


async def test_in_a_narrow_column_each_series_takes_two_lines_and_keeps_its_sparkline(
    store_path: Path,
) -> None:
    app = console_app(Store.open(store_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g")
        pane = _meters(app.screen)
        await until(pilot, lambda: bool(pane.query(Sparkline)) and pane.has_class("-narrow"))
        await pilot.pause(0.1)
        for line in pane.query(Sparkline):
            assert line.region.width >= pane.content_size.width - 2  # the whole second line
        rows = pane.query(MeterRow)
        assert rows
        assert all(row.region.height == 2 for row in rows)
    app = console_app(Store.open(store_path))
    async with app.run_test(size=(200, 60)) as pilot:
        pane = _meters(app.screen)
        await until(pilot, lambda: bool(pane.query(MeterRow)))
        await pilot.pause(0.1)
        assert not pane.has_class("-narrow")
        assert all(row.region.height == 1 for row in pane.query(MeterRow))
