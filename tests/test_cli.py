"""Tests for the `smcc` command through click's CliRunner (no subprocesses, no real user dirs).

`smcc ingest` is tested elsewhere, with subprocesses.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from smcc import __version__
from smcc import config as cfg
from smcc.cli import main
from smcc.models import Author, Mention, Sentiment, Status, Triage
from smcc.store import Store
from smcc.transfer import CSV_COLUMNS

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every command in an empty working directory with private user dirs."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(cfg, "user_config_path", lambda: tmp_path / "user-config" / "config.toml")
    monkeypatch.setattr(cfg, "user_data_dir", lambda: tmp_path / "user-data")
    for name in ("SMCC_CONFIG", "SMCC_DB", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return cwd


def run(args: Sequence[str]) -> Result:
    # click >= 8.2 keeps stdout and stderr apart in the result (mix_stderr is gone)
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def mention(
    external_id: str,
    *,
    source: str = "demo",
    tier: int | None = 1,
    at: datetime = T0,
    language: str | None = "id",
    brand: str | None = "Nusantel",
    text: str = "sinyal hilang",
) -> Mention:
    return Mention(
        source=source,
        external_id=external_id,
        author=Author(handle="rina", display_name="Rina"),
        text=text,
        language=language,
        created_at=at,
        brand=brand,
        sentiment=Sentiment(score=-0.5, label="negative"),
        triage=Triage.model_validate({"tier": tier, "department": "support"}) if tier else None,
        status=Status.NEW,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database filled through the Store API."""
    path = tmp_path / "filled.db"
    with Store.open(path) as store:
        store.insert_batch(
            [
                mention("1", tier=1, at=T0, text="sinyal hilang, lagi"),
                mention("2", tier=2, at=T0 + timedelta(hours=1)),
                mention("3", tier=1, at=T0 + timedelta(hours=2), source="rss", language="en"),
                mention("4", tier=None, at=T0 + timedelta(hours=3), brand=None, language=None),
            ]
        )
    return path


def lines(text: str) -> list[str]:
    """The non-blank lines of `text`."""
    return [line for line in text.splitlines() if line]


# ---------------------------------------------------------------------------------------------
# Basics


def test_version() -> None:
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"smcc, version {__version__}\n"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(flag: str) -> None:
    result = run([flag])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: main [OPTIONS] [COMMAND] [ARGS]...")
    assert "social media command center" in result.stdout
    for command in ("config", "export", "import", "ingest", "stats"):
        assert f"  {command} " in result.stdout
    assert "--db" in result.stdout
    assert "--config" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run(["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.stderr


# ---------------------------------------------------------------------------------------------
# config check / init


def test_config_check_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "good.toml"
    path.write_text((REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    ok = f"{path}: ok — 2 brands, 2 competitors, 1 sources, 5 departments, 11 rules\n"
    result = run(["config", "check", str(path)])
    assert (result.exit_code, result.stdout, result.stderr) == (0, ok, "")
    assert run(["config", "check", "--config", str(path)]).stdout == ok
    monkeypatch.setenv("SMCC_CONFIG", str(path))
    assert run(["config", "check"]).stdout == ok


def test_config_check_uses_cwd_config(isolated: Path) -> None:
    (isolated / "config.toml").write_text('[operator]\nname = "x"\n', encoding="utf-8")
    result = run(["config", "check"])
    assert result.exit_code == 0
    assert result.stdout == (
        "config.toml: ok — 0 brands, 0 competitors, 0 sources, 1 departments, 0 rules\n"
    )


def test_config_check_without_any_config() -> None:
    result = run(["config", "check"])
    assert result.exit_code == 0
    assert result.stdout == "no config file found; smcc uses its built-in demo config\n"


def test_config_check_bad(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[operator]\nname = "x"\ntimezon = "UTC"\n\n'
        '[[rules]]\nname = "r"\nwhen.sentiment_below = 3\nthen = { tier = 1 }\n',
        encoding="utf-8",
    )
    result = run(["config", "check", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr) == [
        f"{path}:3: operator.timezon: unknown key (did you mean 'timezone'?)",
        f"{path}:7: rules[0].when.sentiment_below: Input should be less than or equal to 1 (got 3)",
    ]


def test_config_check_syntax_error_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[operator\n", encoding="utf-8")
    result = run(["config", "check", str(path)])
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        f"{path}:1: toml: Expected ']' at the end of a table declaration (column 10)"
    ]
    missing = tmp_path / "missing.toml"
    result = run(["config", "check", str(missing)])
    assert result.exit_code == 2
    assert lines(result.stderr) == [f"{missing}: file: no such file"]


def test_bad_config_stops_other_commands(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[pipeline]\nbatch_size = 0\n", encoding="utf-8")
    result = run(["--config", str(path), "stats", "--db", str(db)])
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        f"{path}:2: pipeline.batch_size: Input should be greater than or equal to 1 (got 0)",
        "smcc: fix the config (see `smcc config check`)",
    ]


def test_config_init(tmp_path: Path) -> None:
    target = tmp_path / "user-config" / "config.toml"
    result = run(["config", "init"])
    assert result.exit_code == 0
    assert result.stdout == f"wrote {target}\n"
    assert target.read_text(encoding="utf-8") == cfg.starter_config_text()
    target.write_text("# my edits\n", encoding="utf-8")
    again = run(["config", "init"])
    assert again.exit_code == 1
    assert again.stderr == f"smcc: {target} exists; use --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "# my edits\n"
    forced = run(["config", "init", "--force"])
    assert forced.exit_code == 0
    assert target.read_text(encoding="utf-8") == cfg.starter_config_text()
    # the written file is valid and found by the lookup
    assert run(["config", "check"]).stdout.startswith(f"{target}: ok")


def test_config_init_path(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "dir" / "smcc.toml"
    assert run(["config", "init", "--path", str(target)]).exit_code == 0
    assert target.read_text(encoding="utf-8") == cfg.starter_config_text()
    assert not (tmp_path / "user-config").exists()


# ---------------------------------------------------------------------------------------------
# stats


def test_stats_json(db: Path) -> None:
    result = run(["stats", "--json", "--db", str(db)])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "total": 4,
        "by_tier": {"1": 2, "2": 1, "unknown": 1},
        "by_department": {"support": 3, "unknown": 1},
        "by_source": {"demo": 3, "rss": 1},
        "by_language": {"id": 2, "en": 1, "unknown": 1},
        "by_status": {"new": 4},
        "by_brand": {"Nusantel": 3, "unknown": 1},
    }


def test_stats_json_with_filters(db: Path) -> None:
    result = run(["--db", str(db), "stats", "--json", "--tier", "1", "--source", "demo"])
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["total"] == 1
    assert stats["by_source"] == {"demo": 1}
    since = run(["stats", "--json", "--db", str(db), "--since", "2026-11-23T16:30+07:00"])
    assert json.loads(since.stdout)["total"] == 2


def test_stats_table(db: Path) -> None:
    result = run(["stats", "--db", str(db)])
    assert result.exit_code == 0
    assert result.stdout.startswith("4 mentions\n")
    assert "Nusantel" in result.stdout
    assert "support" in result.stdout


def test_db_from_environment_and_config(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMCC_DB", str(db))
    assert json.loads(run(["stats", "--json"]).stdout)["total"] == 4
    monkeypatch.delenv("SMCC_DB")
    conf = tmp_path / "conf" / "config.toml"
    conf.parent.mkdir()
    conf.write_text(f'[store]\npath = "../{db.name}"\n', encoding="utf-8")
    monkeypatch.setenv("SMCC_CONFIG", str(conf))
    assert json.loads(run(["stats", "--json"]).stdout)["total"] == 4


def test_default_db_is_in_the_user_data_dir(tmp_path: Path) -> None:
    result = run(["stats", "--json"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"smcc: {tmp_path / 'user-data' / 'smcc.db'}: no such database; run `smcc ingest` first\n"
    )


# ---------------------------------------------------------------------------------------------
# export


def csv_ids(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    return [row[CSV_COLUMNS.index("external_id")] for row in rows[1:]]


def test_export_jsonl_to_stdout(db: Path) -> None:
    result = run(["export", "--db", str(db)])
    assert result.exit_code == 0
    records = [json.loads(line) for line in lines(result.stdout)]
    assert [r["external_id"] for r in records] == ["1", "2", "3", "4"]
    assert records[0]["text"] == "sinyal hilang, lagi"
    assert records[0]["triage"]["tier"] == 1
    assert result.stderr == "exported 4 mentions\n"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([], ["1", "2", "3", "4"]),
        (["--tier", "1"], ["1", "3"]),
        (["--tier", "1", "--tier", "2"], ["1", "2", "3"]),
        (["--source", "rss"], ["3"]),
        (["--since", "2026-11-23T09:00:00"], ["2", "3", "4"]),
        (["--since", "2026-11-23T18:00+07:00"], ["4"]),
        (["--since", "2026-11-24"], []),
        (["--until", "2026-11-23T09:00Z"], ["1"]),
        (["--tier", "1", "--since", "2026-11-23T08:30:00", "--source", "rss"], ["3"]),
        (["--department", "support", "--brand", "Nusantel"], ["1", "2", "3"]),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_filters(
    db: Path, tmp_path: Path, fmt: str, filters: list[str], expected: list[str]
) -> None:
    out = tmp_path / f"out.{fmt}"
    result = run(["export", "--db", str(db), "--format", fmt, "-o", str(out), *filters])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"exported {len(expected)} mentions\n"
    text = out.read_text(encoding="utf-8")
    if fmt == "csv":
        assert csv_ids(text) == expected
    else:
        assert [json.loads(line)["external_id"] for line in lines(text)] == expected


def test_export_csv_to_stdout(db: Path) -> None:
    result = run(["export", "--db", str(db), "--format", "csv", "--tier", "2"])
    assert result.exit_code == 0
    assert csv_ids(result.stdout) == ["2"]


def test_export_of_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    result = run(["export", "--db", str(missing)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"smcc: {missing}: no such database; run `smcc ingest` first\n"
    assert not missing.exists()


@pytest.mark.parametrize("command", [["export"], ["stats", "--json"], ["import", "x.jsonl"]])
def test_db_that_is_not_smcc(tmp_path: Path, isolated: Path, command: list[str]) -> None:
    (isolated / "x.jsonl").write_text("", encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n", encoding="utf-8")
    result = run([*command, "--db", str(notes)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"smcc: {notes}: not an SQLite database; point --db at an smcc database\n"
    )
    assert notes.read_text(encoding="utf-8") == "shopping list\n"


@pytest.mark.parametrize(
    ("option", "value"),
    [("--since", "yesterday"), ("--until", "2026-13-45"), ("--since", "")],
)
def test_bad_time_filter(db: Path, option: str, value: str) -> None:
    for command in (["export"], ["stats", "--json"]):
        result = run([*command, "--db", str(db), option, value])
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == (
            f"smcc: {option} {value!r}: not a date/time; write e.g. 2026-11-23 or "
            "2026-11-23T08:00+07:00\n"
        )


def test_bad_tier_is_a_usage_error(db: Path) -> None:
    result = run(["export", "--db", str(db), "--tier", "4"])
    assert result.exit_code == 2
    assert "'--tier'" in result.stderr
    assert "1<=x<=3" in result.stderr


# ---------------------------------------------------------------------------------------------
# import


def import_file(path: Path) -> Path:
    good = {
        "source": "demo",
        "external_id": "a",
        "author": {"handle": "rina"},
        "text": "halo",
        "created_at": "2026-11-23T08:00:00Z",
    }
    path.write_bytes(
        json.dumps(good).encode()
        + b"\n\nnot json\n"
        + json.dumps({**good, "external_id": "b", "created_at": "2026-11-23T08:00:00"}).encode()
        + b"\n"
        + json.dumps({**good, "external_id": "c"}).encode()
        + b"\n[]\n"
    )
    return path


def test_import_with_bad_lines(tmp_path: Path) -> None:
    source = import_file(tmp_path / "in.jsonl")
    target = tmp_path / "new" / "imported.db"
    result = run(["import", str(source), "--db", str(target)])
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        f"{source}:3: not JSON: Expecting value (column 1)",
        f"{source}:4: created_at: Value error, timestamp must carry a time zone (UTC offset)",
        f"{source}:6: not a JSON object",
    ]
    assert result.stdout == "imported 2 mentions, 0 already stored, 3 bad lines\n"
    with Store.open(target, create=False) as store:
        assert store.keys() == [("demo", "a"), ("demo", "c")]
    again = run(["--db", str(target), "import", str(source)])
    assert again.exit_code == 1
    assert again.stdout == "imported 0 mentions, 2 already stored, 3 bad lines\n"
    with Store.open(target, create=False) as store:
        assert store.count_mentions() == 2


def test_import_clean_file_round_trip(db: Path, tmp_path: Path) -> None:
    exported = tmp_path / "all.jsonl"
    assert run(["export", "--db", str(db), "-o", str(exported)]).exit_code == 0
    target = tmp_path / "copy.db"
    result = run(["import", str(exported), "--db", str(target)])
    assert (result.exit_code, lines(result.stderr)) == (0, [])
    assert result.stdout == "imported 4 mentions, 0 already stored, 0 bad lines\n"
    with Store.open(db) as a, Store.open(target) as b:
        assert [m.model_dump() for m in a.iter_mentions()] == [
            m.model_dump() for m in b.iter_mentions()
        ]


def test_import_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    result = run(["import", str(missing), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert result.stderr == f"smcc: {missing}: cannot read (No such file or directory)\n"
    assert not (tmp_path / "x.db").exists()


def test_import_closes_the_file(tmp_path: Path) -> None:
    source = import_file(tmp_path / "in.jsonl")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, ["import", str(source), "--db", str(tmp_path / "i.db")])
        gc.collect()
    assert result.exit_code == 1
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaked == []


def test_import_stderr_holds_only_the_problem_lines(tmp_path: Path) -> None:
    source = import_file(tmp_path / "in.jsonl")
    result = run(["import", str(source), "--db", str(tmp_path / "i.db")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{source}:3: not JSON: Expecting value (column 1)\n"
        f"{source}:4: created_at: Value error, timestamp must carry a time zone (UTC offset)\n"
        f"{source}:6: not a JSON object\n"
    )
