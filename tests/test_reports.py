"""Trends, share of voice, busiest hours and the signal commands' JSON output."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from smcc.analysis import reports
from smcc.analysis.terms import TermExtractor
from smcc.cli import main
from smcc.models import Alert, AlertKind, Author, Mention
from smcc.store import Store, prepare_batch

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday
CONFIG = """
[operator]
timezone = "Asia/Jakarta"

[[brands]]
name = "Nusantel"
keywords = ["nusantel"]

[[competitors]]
name = "Tarawa Mobile"
keywords = ["tarawa"]
"""


def mention(n: int, text: str, at: datetime, brand: str | None, lang: str = "id") -> Mention:
    return Mention(
        source="rss" if n % 4 == 0 else "demo",
        external_id=str(n),
        author=Author(handle="u"),
        text=text,
        language=lang,
        created_at=at,
        brand=brand,
    )


def stocked(path: Path) -> Store:
    """Six hours: a steady chatter, and in the last hour a burst of 'banjir' (flood) posts."""
    store = Store.open(path)
    mentions = []
    n = 0
    for minute in range(6 * 60):
        at = T0 + timedelta(minutes=minute)
        for text, brand in (
            ("nusantel sinyal bagus", "Nusantel"),
            ("tarawa promo", "Tarawa Mobile"),
        ):
            if brand == "Tarawa Mobile" and minute % 3:
                continue  # a third of Nusantel's voice
            mentions.append(mention(n, text, at, brand, "en" if n % 2 else "id"))
            n += 1
        if minute >= 5 * 60 and minute % 2 == 0:
            mentions.append(mention(n, "banjir di Jakarta, nusantel mati #banjir", at, "Nusantel"))
            n += 1
    extractor = TermExtractor()
    store.insert_prepared(prepare_batch(mentions, extractor.batch(mentions)))
    return store


def test_trends_find_the_burst_and_not_the_chatter(tmp_path: Path) -> None:
    with stocked(tmp_path / "r.db") as store:
        found = reports.trends(store, window=timedelta(hours=1), min_count=10)
        terms = [t.term for t in found]
        assert set(terms) == {"banjir", "#banjir", "jakarta", "mati"}
        assert all(t.count == 30 and t.expected == 0 for t in found)
        assert [t.hashtag for t in found if t.term == "#banjir"] == [True]
        # "di" is a stop word; steady terms do not trend; a higher bar hides them all
        assert reports.trends(store, min_count=31) == []


def test_share_of_voice(tmp_path: Path) -> None:
    with stocked(tmp_path / "r.db") as store:
        shares = reports.share_of_voice(store, ["Nusantel"], ["Tarawa Mobile"])
        assert [(s.name, s.competitor, s.count) for s in shares] == [
            ("Nusantel", False, 360 + 30),
            ("Tarawa Mobile", True, 120),
        ]
        assert round(sum(s.percent for s in shares), 6) == 100
        assert round(shares[0].percent, 1) == 76.5
        by_lang = reports.share_of_voice(store, ["Nusantel"], ["Tarawa Mobile"], by="language")
        assert {s.group for s in by_lang} == {"en", "id"}
        for group in ("en", "id"):
            assert round(sum(s.percent for s in by_lang if s.group == group), 6) == 100
        later = reports.share_of_voice(
            store, ["Nusantel"], ["Tarawa Mobile"], start=T0 + timedelta(hours=5)
        )
        assert [s.count for s in later] == [90, 20]


def test_busiest_hours_in_the_operators_zone(tmp_path: Path) -> None:
    with stocked(tmp_path / "r.db") as store:
        busy = reports.busiest(store, "Asia/Jakarta")
        # 00:00-06:00 UTC is 07:00-13:00 in Jakarta; the burst hour 05 UTC is 12 local
        assert [h for h, c in enumerate(busy.hours) if c] == [7, 8, 9, 10, 11, 12]
        assert busy.busiest_hour == 12
        assert busy.busiest_weekday == "Mon"
        assert busy.days == 1
        assert sum(busy.hours) == sum(busy.weekdays) == store.count_mentions()
        # a half-hour zone splits hours by minute, not by UTC hour
        india = reports.busiest(store, "Asia/Kolkata")
        assert india.hours[5] == 30 + 10  # 05:30-06:00 local: the first 30 minutes UTC
        assert reports.busiest(store, "UTC", brands=["Tarawa Mobile"]).hours[0] == 20


def cli(tmp_path: Path, *args: str) -> dict[str, object]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(
        main, [*args, "--json", "--db", str(tmp_path / "r.db"), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_commands_print_json(tmp_path: Path) -> None:
    with stocked(tmp_path / "r.db") as store:
        store.open_alert(
            Alert(kind=AlertKind.VOLUME_SPIKE, brand="Nusantel", severity=7,
                  description="Nusantel: 90 mentions in 2 min", since=T0)
        )  # fmt: skip
        cleared = store.open_alert(
            Alert(kind=AlertKind.SENTIMENT_DROP, brand="Nusantel", keyword="#banjir",
                  description="sad", since=T0)
        )  # fmt: skip
        store.close_alert(cleared, T0 + timedelta(minutes=9))
    active = cli(tmp_path, "alerts")["alerts"]
    assert isinstance(active, list)
    assert [(a["severity"], a["brand"], a["keyword"], a["active"]) for a in active] == [
        (7, "Nusantel", None, True)
    ]
    assert active[0]["since"] == "2026-11-23T00:00:00+00:00"
    everything = cli(tmp_path, "alerts", "--all")["alerts"]
    assert isinstance(everything, list)
    assert [a["cleared_at"] for a in everything] == ["2026-11-23T00:09:00+00:00", None]

    trends = cli(tmp_path, "trends", "--since", "1h")
    assert trends["window"] == {
        "start": "2026-11-23T05:00:00+00:00",
        "end": "2026-11-23T06:00:00+00:00",
    }
    assert isinstance(trends["trends"], list)
    assert {t["term"] for t in trends["trends"]} == {"banjir", "#banjir", "jakarta", "mati"}

    share = cli(tmp_path, "share", "--by", "source")
    assert isinstance(share["shares"], list)
    assert {(s["name"], s["source"]) for s in share["shares"]} == {
        (name, source) for name in ("Nusantel", "Tarawa Mobile") for source in ("demo", "rss")
    }
    hours = cli(tmp_path, "hours", "--since", "2026-11-23T05:00")
    assert hours["timezone"] == "Asia/Jakarta"
    assert hours["busiest_hour"] == 12
    assert isinstance(hours["hours"], list)
    assert sum(h["count"] for h in hours["hours"]) == 60 + 20 + 30


def test_commands_refuse_bad_input(tmp_path: Path) -> None:
    stocked(tmp_path / "r.db").close()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    common = ["--db", str(tmp_path / "r.db"), "--config", str(config)]
    result = CliRunner().invoke(main, ["trends", "--since", "yesterday", *common])
    assert result.exit_code == 1
    assert "--since 'yesterday': not a time or a duration" in result.output
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(main, ["alerts", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1
    assert "no such database" in missing.output
