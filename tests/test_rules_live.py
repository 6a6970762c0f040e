"""Hot reload of the rules, and the triage stage in a real ingest."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from rules_helpers import BASE, mention
from smcc import ingest
from smcc.config import DemoSourceConfig, load_config
from smcc.models import Event
from smcc.rules import Explanation, RuleEngine
from smcc.rules.live import LiveRules
from smcc.sources import build_sources
from smcc.store import Store

RULE = '\n[[rules]]\nname = "{name}"\nwhen.any = ["{word}"]\nthen = {{ tier = 1 }}\n'


def write(path: Path, text: str, tick: int) -> None:
    path.write_text(text, encoding="utf-8")
    # Distinct mtimes even on file systems with coarse timestamps.
    os.utime(path, ns=(tick * 1_000_000_000, tick * 1_000_000_000))


def live(tmp_path: Path) -> tuple[LiveRules, Path, list[Event]]:
    path = tmp_path / "config.toml"
    write(path, BASE + RULE.format(name="old", word="down"), 1)
    events: list[Event] = []
    rules = LiveRules(RuleEngine(load_config(path)), path, on_event=events.append)
    return rules, path, events


def decided_by(rules: LiveRules, text: str) -> str:
    batch = [mention(text)]
    rules.triage(batch)
    assert batch[0].triage is not None
    return batch[0].triage.rule


def test_unchanged_file_is_not_reloaded(tmp_path: Path) -> None:
    rules, _, events = live(tmp_path)
    assert rules.check() is None
    assert events == []


def test_good_edit_applies_to_new_mentions(tmp_path: Path) -> None:
    rules, path, events = live(tmp_path)
    assert decided_by(rules, "down") == "old"
    write(path, BASE + RULE.format(name="new", word="storing"), 2)
    assert rules.check() is True
    assert decided_by(rules, "down") == "default"
    assert decided_by(rules, "storing") == "new"
    assert [e.action for e in events] == ["rules_reloaded"]
    assert events[0].detail["rules"] == 1
    assert rules.error is None


def test_bad_edit_keeps_old_rules_and_reports_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rules, path, events = live(tmp_path)
    alerts = rules.alerts
    write(path, BASE + RULE.format(name="bad", word="x").replace("tier = 1", "tier = 7"), 2)
    with caplog.at_level(logging.ERROR, logger="smcc.rules.live"):
        assert rules.check() is False
        assert rules.check() is None  # the same bad file is reported once
    assert decided_by(rules, "down") == "old"
    assert rules.error is not None
    assert "rules[0].then.tier" in rules.error
    assert [e.action for e in events] == ["rules_reload_failed"]
    problems = events[0].detail["problems"]
    assert isinstance(problems, list)
    assert "config.toml:" in problems[0]
    assert "previous rules stay in effect" in caplog.text
    # A fix is picked up, with the same alert board.
    write(path, BASE + RULE.format(name="fixed", word="down"), 3)
    assert rules.check() is True
    assert decided_by(rules, "down") == "fixed"
    assert rules.alerts is alerts


def test_deleted_file_keeps_rules(tmp_path: Path) -> None:
    rules, path, _ = live(tmp_path)
    path.unlink()
    assert rules.check() is False
    assert decided_by(rules, "down") == "old"
    assert "no such file" in (rules.error or "")


async def test_ingest_stores_triage_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write(path, BASE + RULE.format(name="any_post", word="nusantel"), 1)
    config = load_config(path)
    config.sources["demo"] = DemoSourceConfig(rate=0)
    with Store.open(tmp_path / "smcc.db") as store:
        run = ingest.prepare(
            config, store, build_sources(config, limit=300), limit=300, config_path=path
        )
        write(path, BASE + RULE.format(name="any_post", word="nusantel") + "oops", 2)
        assert await asyncio.to_thread(run.rules.check) is False
        await ingest.run(run)
        mentions = list(store.iter_mentions())
        events = store.events()
    assert len(mentions) == 300
    for m in mentions:
        assert m.triage is not None
        assert m.triage.tier in (1, 2, 3)
        assert m.triage.department
        assert m.triage.rule in ("any_post", "default")
        assert m.triage.sla_due is not None  # tier 3 of 'social' has a day in BASE
        explanation = Explanation.from_json(m.triage.explanation)
        assert explanation.rule == m.triage.rule
        assert explanation.sla_minutes is not None
        if m.triage.rule == "any_post":
            assert explanation.terms == ["nusantel"]
    assert any(m.triage and m.triage.rule == "any_post" for m in mentions)
    assert [e.action for e in events] == ["rules_reload_failed"]


async def test_ingest_rules_see_the_stores_active_alerts(tmp_path: Path) -> None:
    from smcc.models import Alert, AlertKind

    rule = '\n[[rules]]\nname = "in_crisis"\nwhen.alert = "volume_spike"\nthen = { tier = 1 }\n'
    path = tmp_path / "config.toml"
    write(path, BASE + rule, 1)
    config = load_config(path)
    config.sources["demo"] = DemoSourceConfig(rate=0)
    with Store.open(tmp_path / "smcc.db") as store:
        store.open_alert(Alert(kind=AlertKind.VOLUME_SPIKE, brand="Nusantel", description="spike"))
        run = ingest.prepare(config, store, build_sources(config, limit=200), limit=200)
        await ingest.run(run)
        mentions = list(store.iter_mentions())
    crisis = [m for m in mentions if m.triage and m.triage.rule == "in_crisis"]
    assert crisis
    assert {m.brand for m in crisis} == {"Nusantel"}
    assert all(m.triage and m.triage.tier == 1 for m in crisis)
    assert not any(
        m.brand == "Nusantel" and m.triage and m.triage.rule != "in_crisis" for m in mentions
    )


async def test_upkeep_refreshes_alerts_and_reloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smcc.models import Alert, AlertKind

    monkeypatch.setattr(ingest, "RULES_EVERY", 0.02)
    path = tmp_path / "config.toml"
    write(path, BASE + RULE.format(name="old", word="down"), 1)
    with Store.open(tmp_path / "smcc.db") as store:
        run = ingest.prepare(load_config(path), store, [], config_path=path)
        task = asyncio.create_task(ingest._rules_upkeep(run))
        try:
            store.open_alert(
                Alert(kind=AlertKind.SENTIMENT_DROP, brand="Nusantel", description="m")
            )
            write(path, BASE + RULE.format(name="new", word="down"), 2)
            for _ in range(200):
                if run.rules.reloads and run.rules.alerts.active:
                    break
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
        assert ("Nusantel", "sentiment_drop") in run.rules.alerts.active
        assert decided_by(run.rules, "down") == "new"
        actions = [e.action for e in store.events()]
        assert [a for a in actions if a.startswith("rules")] == ["rules_reloaded"]
        assert "alert.raised" in actions  # open_alert audits itself
