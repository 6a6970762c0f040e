"""Tests for smcc.config: loading config.toml, its errors (with lines), durations and secrets."""

from __future__ import annotations

import os
import stat
import traceback
from datetime import timedelta
from pathlib import Path

import pytest

import smcc
from smcc import config as cfg
from smcc.config import (
    ConfigError,
    DemoSourceConfig,
    MastodonSourceConfig,
    ReplaySourceConfig,
    SecretError,
    credential,
    default_config,
    find_config,
    load_config,
    parse_config,
    parse_duration,
    starter_config_text,
)

REPO = Path(__file__).resolve().parent.parent
SOURCE_TYPES = "demo, replay, twitter, mastodon, bluesky, reddit, rss"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problem_lines(path: Path, text: str) -> list[str]:
    """Write `text` to `path`, load it, and return the problems as `str` lines."""
    write(path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = [str(p) for p in info.value.problems]
    assert str(info.value) == "\n".join(lines)
    return lines


# ---------------------------------------------------------------------------------------------
# The repository's config


def test_repository_config_validates() -> None:
    config = load_config(REPO / "config.toml")
    assert config.operator.name == "ayu"
    assert config.operator.timezone == "Asia/Jakarta"
    assert [b.name for b in config.brands] == ["Nusantel", "Kopi Senja"]
    assert [r.name for r in config.rules] == [
        "influential_author",
        "competitor",
        "during_alert",
        "spam",
        "outage",
        "influencer_complaint",
        "billing",
        "complaint",
        "praise",
        "coverage_question",
        "question",
    ]
    assert list(config.sources) == ["demo"]
    assert isinstance(config.sources["demo"], DemoSourceConfig)
    assert {name: c.key for name, c in config.canned.items()} == {
        "outage": 1,
        "dm": 2,
        "thanks": 3,
    }
    assert config.departments["network"].sla.tier1 == timedelta(minutes=10)
    assert config.pipeline.batch_interval == timedelta(milliseconds=250)


def test_default_config_is_the_packaged_copy_of_the_repository_file() -> None:
    packaged = Path(smcc.__file__).parent / "default_config.toml"
    assert packaged.is_symlink()
    assert packaged.resolve() == (REPO / "config.toml").resolve()
    assert starter_config_text() == (REPO / "config.toml").read_text(encoding="utf-8")
    config = default_config()
    assert config.model_dump() == load_config(REPO / "config.toml").model_dump()
    assert list(config.enabled_sources()) == ["demo"]


# ---------------------------------------------------------------------------------------------
# Problems: `PATH:LINE: key.path: message`, with the right line

ERROR_CASES: list[tuple[str, str, list[str]]] = [
    (
        "toml-syntax",
        '[operator]\nname = "ayu"\ntimezone = \n',
        ["CFG:3: toml: Invalid value (column 12)"],
    ),
    (
        "toml-duplicate-key",
        '[operator]\nname = "ayu"\n\n[wall]\nsession = "a"\nsession = "b"\n',
        ["CFG:6: toml: Cannot overwrite a value (column 14)"],
    ),
    (
        "unknown-key-suggestion",
        '[operator]\nname = "x"\ntimezon = "UTC"\n',
        ["CFG:3: operator.timezon: unknown key (did you mean 'timezone'?)"],
    ),
    (
        "unknown-top-level-key",
        '# comment\n\nrule = 1\n[operator]\nname = "x"\n',
        ["CFG:3: rule: unknown key (did you mean 'rules'?)"],
    ),
    (
        "unknown-key-no-suggestion",
        "[operator]\nxyzzy = 1\n",
        ["CFG:2: operator.xyzzy: unknown key"],
    ),
    (
        "wrong-type",
        '[operator]\nlanguage = "en"\nname = 5\n',
        ["CFG:3: operator.name: Input should be a valid string (got 5)"],
    ),
    (
        "out-of-range",
        "[pipeline]\nqueue_size = 10\nbatch_size = 0\n",
        ["CFG:3: pipeline.batch_size: Input should be greater than or equal to 1 (got 0)"],
    ),
    (
        "bad-duration",
        '[pipeline]\nbatch_interval = "soon"\n',
        [
            "CFG:2: pipeline.batch_interval: 'soon' is not a duration; "
            "write e.g. '15m', '4h', '1h30m', '1d'"
        ],
    ),
    (
        "boolean-duration",
        "[pipeline]\n\nbatch_interval = true\n",
        ["CFG:3: pipeline.batch_interval: expected a duration such as '15m', '4h' or '1d'"],
    ),
    (
        "zero-duration-in-inline-table",
        '[departments.social]\nlabel = "x"\nsla = { tier1 = "0m" }\n',
        ["CFG:3: departments.social.sla.tier1: a duration must be longer than zero"],
    ),
    (
        "bad-time-zone",
        '[operator]\nname = "x"\ntimezone = "Mars/Base"\n',
        [
            "CFG:3: operator.timezone: unknown time zone 'Mars/Base'; "
            "use an IANA name like 'Asia/Jakarta'"
        ],
    ),
    (
        "bad-regex",
        '[[rules]]\nname = "r"\nwhen.regex = ["(unclosed"]\nthen = { tier = 1 }\n',
        [
            "CFG:3: rules[0].when.regex: invalid regular expression '(unclosed': "
            "missing ), unterminated subpattern at position 0"
        ],
    ),
    (
        "unknown-source-type",
        '[sources.x]\nenabled = true\ntype = "myspace"\n',
        [f"CFG:3: sources.x.type: 'type' must be one of {SOURCE_TYPES}"],
    ),
    (
        "source-without-type",
        "# sources\n[sources.feed]\nrate = 3\n",
        [f"CFG:2: sources.feed.type: required key is missing: one of {SOURCE_TYPES}"],
    ),
    (
        "source-missing-required-key",
        '[operator]\nname = "x"\n\n[sources.recorded]\ntype = "replay"\nspeed = 2\n',
        ["CFG:4: sources.recorded.path: required key is missing"],
    ),
    (
        "implied-type-field-error",
        '[sources.mastodon]\nstreaming = true\nbase_url = "ftp://example.org"\n',
        ["CFG:3: sources.mastodon.base_url: 'ftp://example.org' is not an http(s) URL"],
    ),
    (
        "array-element-on-its-own-line",
        '[sources.demo]\nlanguages = [\n  "en",\n  "EN",\n]\n',
        ["CFG:4: sources.demo.languages[1]: String should match pattern '^[a-z]{2}$' (got 'EN')"],
    ),
    (
        "rule-unknown-department",
        '[[rules]]\nname = "r"\nwhen.any = ["x"]\nthen = { tier = 1, department = "nope" }\n',
        ["CFG:4: rules[0].then.department: unknown department (known: social)"],
    ),
    (
        "rule-unknown-canned-reply",
        '[[rules]]\nname = "r"\nthen.tier = 2\nthen.reply = "nope"\n',
        ["CFG:4: rules[0].then.reply: no canned reply of that name"],
    ),
    (
        "rule-unknown-source",
        '[sources.demo]\n[[rules]]\nname = "r"\nwhen.sources = ["demo", "nope"]\nthen.tier = 1\n',
        ["CFG:4: rules[0].when.sources[1]: no source named 'nope'"],
    ),
    (
        "duplicate-canned-key",
        '[canned.a]\nkey = 1\ntext.en = "x"\n\n[canned.b]\ntext.en = "y"\nkey = 1\n',
        ["CFG:7: canned.b.key: key 1 is already used by 'a'"],
    ),
    (
        "duplicate-rule-name",
        '[[rules]]\nname = "a"\nthen = { tier = 1 }\n\n'
        '[[rules]]\nname = "a"\nthen = { tier = 2 }\n',
        ["CFG:6: rules[1].name: rule name 'a' is used twice"],
    ),
    (
        "second-rule-inline-table",
        '[[rules]]\nname = "a"\nthen = { tier = 1 }\n\n[[rules]]\nname = "b"\n'
        'when.any = ["x"]\nthen = { tier = 4 }\n',
        ["CFG:8: rules[1].then.tier: Input should be 1, 2 or 3 (got 4)"],
    ),
    (
        "unknown-key-in-inline-table",
        '[[rules]]\nname = "a"\nthen = { tier = 1, tierr = 2 }\n',
        ["CFG:3: rules[0].then.tierr: unknown key (did you mean 'tier'?)"],
    ),
    (
        "dotted-key",
        '[[rules]]\nname = "a"\nwhen.any = ["x"]\nwhen.sentiment_below = 3\nthen = { tier = 1 }\n',
        ["CFG:4: rules[0].when.sentiment_below: Input should be less than or equal to 1 (got 3)"],
    ),
    (
        "dotted-unknown-key",
        '[[rules]]\nname = "a"\nwhen.anyy = ["x"]\nthen = { tier = 1 }\n',
        ["CFG:3: rules[0].when.anyy: unknown key (did you mean 'any'?)"],
    ),
    (
        "missing-table",
        '[[rules]]\nname = "a"\n',
        ["CFG:1: rules[0].then: required key is missing"],
    ),
    (
        "several-in-file-order",
        '[operator]\nname = 5\ntimezone = "Mars/Base"\n\n'
        '[pipeline]\nbatch_size = 0\nbatch_interval = "soon"\n',
        [
            "CFG:2: operator.name: Input should be a valid string (got 5)",
            "CFG:3: operator.timezone: unknown time zone 'Mars/Base'; "
            "use an IANA name like 'Asia/Jakarta'",
            "CFG:6: pipeline.batch_size: Input should be greater than or equal to 1 (got 0)",
            "CFG:7: pipeline.batch_interval: 'soon' is not a duration; "
            "write e.g. '15m', '4h', '1h30m', '1d'",
        ],
    ),
    (
        "several-cross-references",
        '[[rules]]\nname = "r"\nthen = { tier = 1, department = "nope", reply = "nope" }\n',
        [
            "CFG:3: rules[0].then.department: unknown department (known: social)",
            "CFG:3: rules[0].then.reply: no canned reply of that name",
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=name) for name, text, expected in ERROR_CASES],
)
def test_problem_lines(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "config.toml"
    assert problem_lines(path, text) == [e.replace("CFG", str(path), 1) for e in expected]


def test_parse_config_uses_the_given_name() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config('[operator]\nname = "x"\ntimezon = "UTC"\n', "somewhere/smcc.toml")
    assert str(info.value) == (
        "somewhere/smcc.toml:3: operator.timezon: unknown key (did you mean 'timezone'?)"
    )
    problem = info.value.problems[0]
    assert (problem.path, problem.line, problem.key) == (
        "somewhere/smcc.toml",
        3,
        "operator.timezon",
    )


def test_unterminated_string_at_end_has_no_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert problem_lines(path, '[operator]\nname = """\n') == [
        f"{path}: toml: Unterminated string at the end"
    ]


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: file: no such file"


def test_file_not_utf8_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[operator]\nname = "\xff"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: file: cannot read: ")
    assert "utf-8" in str(info.value)


def test_validation_problems_are_reported_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    text = "[pipeline]\nbatch_size = 0\n\n[operator]\nname = 5\n"
    assert problem_lines(path, text) == [
        f"{path}:2: pipeline.batch_size: Input should be greater than or equal to 1 (got 0)",
        f"{path}:5: operator.name: Input should be a valid string (got 5)",
    ]


def test_cross_check_problems_are_reported_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    text = (
        '[[rules]]\nname = "a"\nthen = { tier = 1 }\n\n'
        '[[rules]]\nname = "a"\nthen = { tier = 1, department = "zz" }\n'
    )
    assert problem_lines(path, text) == [
        f"{path}:6: rules[1].name: rule name 'a' is used twice",
        f"{path}:7: rules[1].then.department: unknown department (known: social)",
    ]


def test_unknown_key_in_a_source_suggests_a_key_of_its_own_type(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    text = (
        '[sources.recorded]\ntype = "replay"\npath = "m.jsonl"\nsped = 2\n\n'
        '[sources.brand]\ntype = "mastodon"\nbase_ur = "https://example.org"\n'
    )
    assert problem_lines(path, text) == [
        f"{path}:4: sources.recorded.sped: unknown key (did you mean 'speed'?)",
        f"{path}:8: sources.brand.base_ur: unknown key (did you mean 'base_url'?)",
    ]


# ---------------------------------------------------------------------------------------------
# Sources and paths


def test_source_type_implied_by_name_and_enabled_sources(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        "[sources.demo]\nrate = 5\n\n"
        '[sources.mastodon]\nbase_url = "https://mastodon.example/"\n\n'
        '[sources.spare]\ntype = "demo"\nenabled = false\n\n'
        '[sources.old_feed]\ntype = "rss"\nfeeds = ["https://example.org/feed"]\nenabled = false\n',
    )
    config = load_config(path)
    assert list(config.sources) == ["demo", "mastodon", "spare", "old_feed"]
    mastodon = config.sources["mastodon"]
    assert isinstance(mastodon, MastodonSourceConfig)
    assert mastodon.type == "mastodon"
    assert mastodon.base_url == "https://mastodon.example"
    assert config.sources["spare"].enabled is False
    assert list(config.enabled_sources()) == ["demo", "mastodon"]


def test_relative_paths_resolve_against_the_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf_dir = tmp_path / "conf"
    absolute = tmp_path / "elsewhere" / "abs.jsonl"
    write(
        conf_dir / "config.toml",
        'secrets_file = "secrets/s.toml"\n\n'
        '[store]\npath = "db/smcc.db"\n\n'
        '[sources.rec]\ntype = "replay"\npath = "data/m.jsonl"\n\n'
        f'[sources.abs]\ntype = "replay"\npath = "{absolute}"\n\n'
        '[sources.home]\ntype = "replay"\npath = "~/h.jsonl"\n',
    )
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load_config(Path("../conf/config.toml"))
    rec, abs_source, home = (config.sources[n] for n in ("rec", "abs", "home"))
    assert isinstance(rec, ReplaySourceConfig)
    assert isinstance(abs_source, ReplaySourceConfig)
    assert isinstance(home, ReplaySourceConfig)
    assert rec.path == conf_dir / "data" / "m.jsonl"
    assert abs_source.path == absolute
    assert home.path == tmp_path / "home" / "h.jsonl"
    assert config.secrets_file == conf_dir / "secrets" / "s.toml"
    assert config.store.path == conf_dir / "db" / "smcc.db"


def test_parse_config_without_base_dir_keeps_paths_as_written() -> None:
    config = parse_config(
        'secrets_file = "s.toml"\n[sources.r]\ntype = "replay"\npath = "m.jsonl"\n'
    )
    source = config.sources["r"]
    assert isinstance(source, ReplaySourceConfig)
    assert source.path == Path("m.jsonl")
    assert config.secrets_file == Path("s.toml")


# ---------------------------------------------------------------------------------------------
# Durations


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("15m", 900.0),
        ("4h", 14400.0),
        ("1h30m", 5400.0),
        ("250ms", 0.25),
        ("1d", 86400.0),
        ("90s", 90.0),
        ("1.5h", 5400.0),
        (" 2H ", 7200.0),
        ("1h 30m", 5400.0),
        (90, 90.0),
        (0.5, 0.5),
        (timedelta(minutes=3), 180.0),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "'' is not a duration"),
        ("0m", "a duration must be longer than zero"),
        ("soon", "'soon' is not a duration"),
        ("15", "'15' is not a duration"),
        ("15x", "'15x' is not a duration"),
        ("-5m", "'-5m' is not a duration"),
        ("5m garbage", "'5m garbage' is not a duration"),
        (0, "a duration must be longer than zero"),
        (-3, "a duration must be longer than zero"),
        (True, "expected a duration"),
        (False, "expected a duration"),
        (None, "expected a duration"),
        (["5m"], "expected a duration"),
    ],
)
def test_parse_duration_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")) as info:
        parse_duration(value)
    assert message in str(info.value)


# ---------------------------------------------------------------------------------------------
# Where the config comes from


@pytest.fixture
def lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A working directory, a user config path and an $SMCC_CONFIG file, none created yet."""
    places = {
        "cwd": tmp_path / "cwd",
        "user": tmp_path / "user" / "smcc" / "config.toml",
        "env": tmp_path / "env.toml",
        "explicit": tmp_path / "explicit.toml",
    }
    places["cwd"].mkdir()
    monkeypatch.chdir(places["cwd"])
    monkeypatch.delenv("SMCC_CONFIG", raising=False)
    monkeypatch.setattr(cfg, "user_config_path", lambda: places["user"])
    return places


def test_find_config_explicit_wins(
    lookup: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for place in ("user", "env"):
        write(lookup[place], "")
    write(lookup["cwd"] / "config.toml", "")
    monkeypatch.setenv("SMCC_CONFIG", str(lookup["env"]))
    assert find_config(lookup["explicit"]) == lookup["explicit"]


def test_find_config_env_beats_cwd_and_user(
    lookup: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(lookup["user"], "")
    write(lookup["cwd"] / "config.toml", "")
    monkeypatch.setenv("SMCC_CONFIG", str(lookup["env"]))
    assert find_config() == lookup["env"]


def test_find_config_cwd_beats_user(
    lookup: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(lookup["user"], "")
    write(lookup["cwd"] / "config.toml", "")
    monkeypatch.setenv("SMCC_CONFIG", "")  # empty: not set
    found = find_config()
    assert found is not None
    assert found.resolve() == (lookup["cwd"] / "config.toml").resolve()


def test_find_config_user_dir_last(lookup: dict[str, Path]) -> None:
    write(lookup["user"], "")
    (lookup["cwd"] / "config.toml").mkdir()  # a directory is not a config file
    assert find_config() == lookup["user"]


def test_find_config_none(lookup: dict[str, Path]) -> None:
    assert find_config() is None
    config, where = cfg.load()
    assert where is None
    assert config.model_dump() == default_config().model_dump()


def test_load_returns_the_file_in_effect(lookup: dict[str, Path]) -> None:
    write(lookup["user"], '[operator]\nname = "from-user-dir"\n')
    config, where = cfg.load()
    assert where == lookup["user"]
    assert config.operator.name == "from-user-dir"


# ---------------------------------------------------------------------------------------------
# Credentials

SECRET = "s3cr3t-Token-value"


def secrets_config(tmp_path: Path, text: str, mode: int = 0o600) -> cfg.Config:
    secrets = write(tmp_path / "secrets.toml", text)
    os.chmod(secrets, mode)
    path = write(tmp_path / "config.toml", 'secrets_file = "secrets.toml"\n')
    return load_config(path)


def test_credential_env_wins_over_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = secrets_config(
        tmp_path, f'[brand-mastodon]\naccess_token = "{SECRET}"\nclient_secret = 42\n'
    )
    monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", "from-env")
    assert credential(config, "brand-mastodon", "access_token") == "from-env"
    monkeypatch.delenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN")
    assert credential(config, "brand-mastodon", "access_token") == SECRET
    assert credential(config, "brand-mastodon", "client_secret") == "42"
    assert credential(config, "brand-mastodon", "app_password") is None
    assert credential(config, "other", "access_token") is None
    monkeypatch.setenv("SMCC_BRAND_MASTODON_ACCESS_TOKEN", "")  # empty does not count
    assert credential(config, "brand-mastodon", "access_token") == SECRET


def test_credential_without_secrets_file(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config("")
    monkeypatch.delenv("SMCC_DEMO_BEARER_TOKEN", raising=False)
    assert credential(config, "demo", "bearer_token") is None
    monkeypatch.setenv("SMCC_DEMO_BEARER_TOKEN", "tok")
    assert credential(config, "demo", "bearer_token") == "tok"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o610])
def test_secrets_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    config = secrets_config(tmp_path, f'[x]\ntoken = "{SECRET}"\n', mode)
    path = tmp_path / "secrets.toml"
    assert stat.S_IMODE(path.stat().st_mode) == mode
    with pytest.raises(SecretError) as info:
        credential(config, "x", "token")
    assert str(info.value) == (f"{path}: secrets file is readable by others; run: chmod 600 {path}")
    assert SECRET not in "".join(traceback.format_exception(info.value))


def test_secrets_file_missing(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'secrets_file = "nope.toml"\n')
    config = load_config(path)
    with pytest.raises(SecretError) as info:
        credential(config, "x", "token")
    assert str(info.value) == f"{tmp_path / 'nope.toml'}: secrets file not found"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f'[x]\ntoken = "{SECRET}\n', "2"),
        (f"[x]\ntoken = {SECRET}\n", "2"),
        (f'[x]\n\n\n{SECRET} "oops"\n', "4"),
    ],
)
def test_broken_secrets_file_error_hides_the_secret(tmp_path: Path, text: str, line: str) -> None:
    config = secrets_config(tmp_path, text)
    with pytest.raises(SecretError) as info:
        credential(config, "x", "token")
    assert str(info.value) == f"{tmp_path / 'secrets.toml'}:{line}: not valid TOML"
    assert SECRET not in "".join(traceback.format_exception(info.value))


def test_secrets_file_not_utf8_error_hides_the_secret(tmp_path: Path) -> None:
    config = secrets_config(tmp_path, "")
    (tmp_path / "secrets.toml").write_bytes(b'[x]\ntoken = "' + SECRET.encode() + b'\xff"\n')
    with pytest.raises(SecretError) as info:
        credential(config, "x", "token")
    assert str(info.value).startswith(f"{tmp_path / 'secrets.toml'}:")
    assert str(info.value).endswith(": not valid TOML")
    assert SECRET not in "".join(traceback.format_exception(info.value))
