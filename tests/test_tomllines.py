"""Tests for smcc.tomllines: key paths and their lines, checked against tomllib."""

from __future__ import annotations

import random
import string
import tomllib
from pathlib import Path
from typing import Any

import pytest

from smcc.tomllines import key_lines, line_of

KeyPath = tuple[str | int, ...]
REPO = Path(__file__).resolve().parent.parent
BARE = frozenset(string.ascii_letters + string.digits + "_-")


def tomllib_paths(value: Any, prefix: KeyPath = ()) -> set[KeyPath]:
    """Every key path in a tomllib result: dict keys as str, list positions as int."""
    found: set[KeyPath] = set()
    if isinstance(value, dict):
        items: list[tuple[str | int, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return found
    for key, child in items:
        path = (*prefix, key)
        found.add(path)
        found |= tomllib_paths(child, path)
    return found


def assert_matches_tomllib(text: str) -> dict[KeyPath, int]:
    """key_lines finds exactly tomllib's key paths, each on a line that names its key."""
    lines = key_lines(text)
    expected = tomllib_paths(tomllib.loads(text))
    assert set(lines) == expected, (
        f"missing: {sorted(map(str, expected - set(lines)))}, "
        f"extra: {sorted(map(str, set(lines) - expected))}"
    )
    source_lines = text.split("\n")
    for path, line in lines.items():
        assert 1 <= line <= len(source_lines)
        last = path[-1]
        source = source_lines[line - 1]
        if isinstance(last, str) and last and set(last) <= BARE and "\\" not in source:
            assert last in source, (path, line)
    return lines


def test_table_headers_and_parents() -> None:
    text = '[a.b]\nx = 1\n\n[ "quoted key" . c ]\ny = 2\n'
    lines = assert_matches_tomllib(text)
    assert lines[("a", "b")] == 1
    assert lines[("a",)] == 1
    assert lines[("a", "b", "x")] == 2
    assert lines[("quoted key", "c")] == 4
    assert lines[("quoted key",)] == 4
    assert lines[("quoted key", "c", "y")] == 5


def test_explicit_header_overrides_implied_parent() -> None:
    text = "[a.b]\nx = 1\n[a]\ny = 2\n"
    lines = assert_matches_tomllib(text)
    assert lines[("a",)] == 3
    assert lines[("a", "y")] == 4


def test_implied_parent_keeps_first_line() -> None:
    lines = assert_matches_tomllib("[a]\n[a.b]\n[a.c]\n")
    assert lines == {("a",): 1, ("a", "b"): 2, ("a", "c"): 3}


def test_quoted_keys_with_escapes_and_literals() -> None:
    text = (
        '"a\\"b" = 1\n'
        "'c\\d' = 2\n"
        '"tab\\there" = 3\n'
        '"\\u00e9t\\u00E9" = 4\n'
        '"" = 5\n'
        '"dot.ted" = 6\n'
        "[\"x.y\".'z']\n"
        "w = 7\n"
    )
    lines = assert_matches_tomllib(text)
    assert lines[('a"b',)] == 1
    assert lines[("c\\d",)] == 2
    assert lines[("tab\there",)] == 3
    assert lines[("été",)] == 4
    assert lines[("",)] == 5
    assert lines[("dot.ted",)] == 6
    assert lines[("x.y", "z", "w")] == 8


def test_arrays_of_tables_are_indexed() -> None:
    text = '[[rules]]\nname = "a"\n\n[[rules]]\nname = "b"\n'
    lines = assert_matches_tomllib(text)
    assert lines[("rules",)] == 1
    assert lines[("rules", 0)] == 1
    assert lines[("rules", 0, "name")] == 2
    assert lines[("rules", 1)] == 4
    assert lines[("rules", 1, "name")] == 5


def test_nested_arrays_of_tables_and_sub_tables() -> None:
    text = """\
[[rules]]
name = "first"
[[rules.actions]]
do = "x"
[[rules]]
name = "second"
[rules.when]
any = ["a"]
[[rules.actions]]
do = "y"
[[rules.actions]]
do = "z"
[rules.actions.opts]
fast = true
[[rules]]
[rules.then]
tier = 1
"""
    lines = assert_matches_tomllib(text)
    assert lines[("rules", 0, "actions")] == 3
    assert lines[("rules", 0, "actions", 0, "do")] == 4
    assert lines[("rules", 1)] == 5
    assert lines[("rules", 1, "when")] == 7
    assert lines[("rules", 1, "when", "any", 0)] == 8
    assert lines[("rules", 1, "actions")] == 9
    assert lines[("rules", 1, "actions", 0)] == 9
    assert lines[("rules", 1, "actions", 1)] == 11
    assert lines[("rules", 1, "actions", 1, "opts", "fast")] == 14
    assert lines[("rules", 2)] == 15
    assert lines[("rules", 2, "then", "tier")] == 17


def test_array_of_tables_under_a_table() -> None:
    text = '[wall]\nsession = "s"\n[[wall.windows]]\nname = "a"\n[[wall.windows]]\nname = "b"\n'
    lines = assert_matches_tomllib(text)
    assert lines[("wall", "windows")] == 3
    assert lines[("wall", "windows", 1, "name")] == 6


def test_dotted_keys() -> None:
    text = '[[rules]]\nwhen.any = ["x"]\nwhen . sentiment_below = -0.3\n"a" . \'b\' .c = 1\n'
    lines = assert_matches_tomllib(text)
    assert lines[("rules", 0, "when")] == 2
    assert lines[("rules", 0, "when", "any")] == 2
    assert lines[("rules", 0, "when", "any", 0)] == 2
    assert lines[("rules", 0, "when", "sentiment_below")] == 3
    assert lines[("rules", 0, "a", "b", "c")] == 4


def test_inline_tables() -> None:
    text = 'then = { tier = 1, department = "x", nested = { a = 1 }, "q k" = {} }\nafter = 2\n'
    lines = assert_matches_tomllib(text)
    assert lines[("then",)] == 1
    assert lines[("then", "tier")] == 1
    assert lines[("then", "nested", "a")] == 1
    assert lines[("then", "q k")] == 1
    assert lines[("after",)] == 2


def test_inline_table_spanning_lines_is_tolerated() -> None:
    # TOML 1.1 only; tomllib (1.0) rejects it, so check the lines without the oracle.
    text = "then = {\n  tier = 1,  # comment\n  more = { a.b = [\n 1,\n 2] },\n}\nnext = 1\n"
    lines = key_lines(text)
    assert lines[("then", "tier")] == 2
    assert lines[("then", "more", "a", "b")] == 3
    assert lines[("then", "more", "a", "b", 1)] == 5
    assert lines[("next",)] == 7


def test_array_elements_get_the_line_they_start_on() -> None:
    text = 'keywords = [\n  "a",\n  "b",  # comment ]\n  # "c",\n  "d"\n]\nafter = 1\n'
    lines = assert_matches_tomllib(text)
    assert lines[("keywords",)] == 1
    assert lines[("keywords", 0)] == 2
    assert lines[("keywords", 1)] == 3
    assert lines[("keywords", 2)] == 5
    assert ("keywords", 3) not in lines
    assert lines[("after",)] == 7


def test_arrays_of_inline_tables_and_nested_arrays() -> None:
    text = "items = [ {a=1}, {a=2, b={c=[3]}} ]\ngrid = [[1, 2], [\n  3,\n], []]\n"
    lines = assert_matches_tomllib(text)
    assert lines[("items", 0, "a")] == 1
    assert lines[("items", 1, "b", "c", 0)] == 1
    assert lines[("grid", 1)] == 2
    assert lines[("grid", 1, 0)] == 3
    assert lines[("grid", 2)] == 4


def test_trailing_comma_and_empty_array() -> None:
    lines = assert_matches_tomllib("a = []\nb = [1,]\nc = [\n]\n")
    assert lines == {("a",): 1, ("b",): 2, ("b", 0): 2, ("c",): 3}


def test_multi_line_strings_hide_fake_keys() -> None:
    text = '''\
doc = """
[fake]
key = "value"
[[fake.array]]
"""
raw = \'\'\'
[also.fake]
x = 1 # not a comment
\'\'\'
real = 1
'''
    lines = assert_matches_tomllib(text)
    assert lines[("real",)] == 10
    assert set(lines) == {("doc",), ("raw",), ("real",)}


def test_multi_line_string_edge_cases() -> None:
    text = (
        'a = """ends with two quotes"""""\n'
        'b = """escaped \\""" still inside\n'
        '[fake] """\n'
        "c = '''one quote at the end''''\n"
        'd = """\\\n'
        '   line-ending backslash \\\\"""\n'
        'e = """"""\n'
        "f = ''''''\n"
        'g = """x = 1""" # [comment]\n'
    )
    lines = assert_matches_tomllib(text)
    assert lines == {
        ("a",): 1,
        ("b",): 2,
        ("c",): 4,
        ("d",): 5,
        ("e",): 7,
        ("f",): 8,
        ("g",): 9,
    }


def test_single_line_strings_with_escapes_and_hashes() -> None:
    text = (
        's1 = "quote \\" then # not a comment"\n'
        's2 = "backslash \\\\"\n'
        "s3 = 'literal \\' # with backslash at end\n"
        's4 = "[not.a.header]"\n'
        's5 = "x = 1" # real comment = [ {\n'
        "arr = ['a]', \"b]\", '{', \"}\"]\n"
    )
    lines = assert_matches_tomllib(text)
    assert set(lines) == {
        ("s1",),
        ("s2",),
        ("s3",),
        ("s4",),
        ("s5",),
        ("arr",),
        ("arr", 0),
        ("arr", 1),
        ("arr", 2),
        ("arr", 3),
    }
    assert lines[("arr",)] == 6


def test_comments_with_brackets_and_keys() -> None:
    text = (
        "# [commented.header]\n"
        "#key = 1\n"
        "[real]  # [not] this = 1\n"
        "  # [[nor.this]]\n"
        "x = 1 # y = 2\n"
        "[[list]] # comment\n"
    )
    lines = assert_matches_tomllib(text)
    assert lines == {("real",): 3, ("real", "x"): 5, ("list",): 6, ("list", 0): 6}


def test_crlf_line_endings() -> None:
    text = (
        '[a]\r\nx = 1\r\narr = [\r\n  "p",\r\n  "q",\r\n]\r\ns = """\r\n[fake]\r\n"""\r\n[[b]]\r\n'
    )
    lines = assert_matches_tomllib(text)
    assert lines[("a", "x")] == 2
    assert lines[("a", "arr", 1)] == 5
    assert lines[("b", 0)] == 10
    assert ("fake",) not in lines


def test_scalars_of_every_kind() -> None:
    text = (
        "i = +1_000\n"
        "h = 0xDEAD_beef\n"
        "f = -3.14e+10\n"
        "inf = -inf\n"
        "nan = nan\n"
        "t = true\n"
        "odt = 1979-05-27 07:32:00Z\n"
        "ldt = 1979-05-27T07:32:00.999\n"
        "ld = 1979-05-27\n"
        "lt = 07:32:00\n"
        "mixed = [1979-05-27 07:32:00Z, 1, 'x']\n"
        "inl = {d = 1979-05-27 07:32:00Z, n = 1}\n"
    )
    lines = assert_matches_tomllib(text)
    assert lines[("mixed", 2)] == 11
    assert lines[("inl", "n")] == 12


def test_indentation_and_whitespace() -> None:
    text = '  [ a . b ]  \n\t  key\t=\t"v"  \n  [[ c ]]\n    d =1\n'
    lines = assert_matches_tomllib(text)
    assert lines[("a", "b", "key")] == 2
    assert lines[("c", 0, "d")] == 4


REALISTIC_DOCUMENTS = [
    # The example of the TOML specification's front page.
    """\
# This is a TOML document

title = "TOML Example"

[owner]
name = "Tom Preston-Werner"
dob = 1979-05-27T07:32:00-08:00

[database]
enabled = true
ports = [ 8000, 8001, 8002 ]
data = [ ["delta", "phi"], [3.14] ]
temp_targets = { cpu = 79.5, case = 72.0 }

[servers]

[servers.alpha]
ip = "10.0.0.1"
role = "frontend"

[servers.beta]
ip = "10.0.0.2"
role = "backend"
""",
    # The arrays-of-tables example of the specification.
    """\
[[fruits]]
name = "apple"

[fruits.physical]  # subtable
color = "red"
shape = "round"

[[fruits.varieties]]  # nested array of tables
name = "red delicious"

[[fruits.varieties]]
name = "granny smith"


[[fruits]]
name = "banana"

[[fruits.varieties]]
name = "plantain"
""",
    # An smcc-like configuration.
    """\
[operator]
name = "ayu"                   # shown in the audit log
timezone = "Asia/Jakarta"

[[brands]]
name = "Nusantel"
keywords = ["nusantel", "nusa tel", "нусантел"]
hashtags = ["#nusantel", "#NusantelCare"]

[[brands]]
name = "Kopi Senja"
keywords = [
    "kopi senja",   # the usual spelling
    "kopisenja",
]

[sources.demo]
rate = 20
languages = ["en", "id"]

[sources.brand_mastodon]
type = "mastodon"
base_url = "https://mastodon.social"

[departments.social]
label = "Social media team"
sla = { tier1 = "15m", tier2 = "4h" }

[[rules]]
name = "outage"
when.any = ["down", "outage", "no signal"]
when.sentiment_below = -0.3
then = { tier = 1, department = "network", tags = ["outage"], reply = "outage" }

[[rules]]
name = "question"
when.is_question = true
then = { tier = 2, department = "support", reply = "dm" }

[canned.outage]
key = 1
text.en = "Hi {author}, we know. — {operator}"
text.ru = '''
Здравствуйте, {author}!
[canned.fake]
key = 9
'''

[[wall.windows]]
name = "triage"
panes = ["queue --tier 1", "detail"]

[[wall.windows]]
name = "overview"
panes = ["feed"]

[pipeline]
batch_size = 500
""",
    # Odd but valid corners, all in one document.
    "\n".join(
        [
            '"quoted"."dotted key" = 1',
            "'lit'.bare-key_2 = { x = [ { y = 1 }, { y = [ [], [ {} ] ] } ] }",
            'a.b.c.d = "deep"',
            '1234 = "numeric bare key"',
            '"#" = "hash key"',
            '"=" = "equals key"',
            "[x.'y z'.\"\\u0041\"]",
            "s = '''multi",
            '  ["line"] = 1',
            "'''",
            "[[x.arr]]",
            "[[x.arr]]",
            "[x.arr.sub]",
            'v = """a\\"""\\\\"""',
            "[[x.arr.sub.inner]]",
            "w = []",
            "",
        ]
    ),
]


@pytest.mark.parametrize("text", REALISTIC_DOCUMENTS)
def test_realistic_documents_match_tomllib(text: str) -> None:
    assert_matches_tomllib(text)


@pytest.mark.parametrize("text", REALISTIC_DOCUMENTS)
def test_realistic_documents_match_tomllib_with_crlf(text: str) -> None:
    crlf = text.replace("\n", "\r\n")
    assert key_lines(crlf) == assert_matches_tomllib(text)


@pytest.mark.parametrize("relative", ["config.toml", "src/smcc/default_config.toml"])
def test_repository_configs_match_tomllib(relative: str) -> None:
    path = REPO / relative
    if not path.is_file():
        pytest.skip(f"{relative} not present")
    assert_matches_tomllib(path.read_text(encoding="utf-8"))


def test_spec_fruit_example_lines() -> None:
    lines = key_lines(REALISTIC_DOCUMENTS[1])
    assert lines[("fruits", 0, "physical")] == 4
    assert lines[("fruits", 0, "varieties", 1, "name")] == 12
    assert lines[("fruits", 1)] == 15
    assert lines[("fruits", 1, "varieties", 0)] == 18


# -- line_of -------------------------------------------------------------------------------------

LINES: dict[KeyPath, int] = key_lines(REALISTIC_DOCUMENTS[2])


def test_line_of_exact_location() -> None:
    assert line_of(LINES, ("sources", "brand_mastodon", "base_url")) == 23
    assert line_of(LINES, ("rules", 0, "then", "tier")) == 33
    assert line_of(LINES, ("brands", 1, "keywords", 1)) == 14


def test_line_of_falls_back_to_longest_prefix() -> None:
    # A missing field is reported at its would-be parent.
    assert line_of(LINES, ("rules", 1, "then", "sla")) == 38
    assert line_of(LINES, ("rules", 1, "priority")) == 35
    assert line_of(LINES, ("operator", "missing", "deeper", 3)) == 1


def test_line_of_skips_parts_pydantic_adds() -> None:
    # A union tag that is not a key in the TOML.
    assert line_of(LINES, ("sources", "brand_mastodon", "mastodon", "base_url")) == 23
    assert line_of(LINES, ("sources", "demo", "demo", "rate")) == 18
    # Dict-key validation and validator names.
    assert line_of(LINES, ("canned", "outage", "text", "ru", "[key]")) == 43
    assert line_of(LINES, ("rules", 0, "function-after[check()]", "when", "any", 2)) == 31
    # Nothing after the unknown part is known either: the known prefix wins.
    assert line_of(LINES, ("sources", "brand_mastodon", "mastodon", "nope")) == 21


def test_line_of_unknown_location() -> None:
    assert line_of(LINES, ("nope",)) is None
    assert line_of(LINES, ("nope", "operator")) == 1  # walking skips the unknown head
    assert line_of(LINES, ()) is None
    assert line_of({}, ("a", "b")) is None


def test_line_of_distinguishes_int_and_str() -> None:
    lines = key_lines('[brands]\n"0" = "string key"\nlist = [\n  "x",\n]\n')
    assert line_of(lines, ("brands", "0")) == 2
    assert line_of(lines, ("brands", "list", 0)) == 4
    assert line_of(lines, ("brands", "list", "0")) == 3


# -- robustness ----------------------------------------------------------------------------------


def test_never_raises_on_random_printable_text() -> None:
    rng = random.Random(20240601)
    for _ in range(3000):
        text = "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 60)))
        assert isinstance(key_lines(text), dict)


def test_never_raises_on_random_toml_like_text() -> None:
    rng = random.Random(7)
    tokens = [*"[]{}\"'=.,#\\\n\r \t", '"""', "'''", "[[", "]]", "a", "b.c", "1", "\\u12", "é"]
    for _ in range(3000):
        text = "".join(rng.choice(tokens) for _ in range(rng.randint(0, 40)))
        assert isinstance(key_lines(text), dict)


def test_never_raises_on_mutated_documents() -> None:
    rng = random.Random(99)
    alphabet = "[]{}\"'=.,#\\\n "
    for _ in range(1500):
        chars = list(rng.choice(REALISTIC_DOCUMENTS))
        for _ in range(rng.randint(1, 5)):
            position = rng.randrange(len(chars))
            if rng.random() < 0.5:
                del chars[position]
            else:
                chars.insert(position, rng.choice(alphabet))
        text = "".join(chars)
        assert isinstance(key_lines(text[: rng.randint(0, len(text))]), dict)


def test_garbage_keeps_what_was_found() -> None:
    text = 'good = 1\n[[[ nonsense\n= = =\nbad = "unterminated\n[t]\nalso_good = [1, 2\n'
    lines = key_lines(text)
    assert lines[("good",)] == 1
    assert lines[("bad",)] == 4
    assert lines[("t",)] == 5
    assert lines[("t", "also_good", 1)] == 6


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    lines = key_lines("a = " + "[" * 50_000)
    assert lines[("a",)] == 1
    assert max(map(len, lines)) < 100
    lines = key_lines("a = " + "{b=" * 20_000)
    assert lines[("a",)] == 1
    assert key_lines("\n".join(["["] * 5000 + ['"'] * 5000)) == {}


# -- generated documents -------------------------------------------------------------------------

KEY_FORMS = ["k", "b-c_9", "12", '"q k"', "'lit'", '"e\\"s\\\\c"', '"#[x]="', '"\\u00e9"', "''"]
SCALARS = [
    "1",
    "-2.5e3",
    "true",
    "1979-05-27 07:32:00Z",
    "07:32:00",
    '"s # [x] = 1"',
    "'lit \\ # {'",
    '"""\n[fake]\nk = 1\n"""',
    '"""a\\"""b"""""',
    "'''\n[[fake]]\n'''",
    "''''quoted'''''",
    '"\\\\"',
]


def random_key(rng: random.Random, counter: list[int], dotted: bool) -> str:
    parts = []
    for _ in range(rng.randint(1, 3) if dotted else 1):
        counter[0] += 1
        form = rng.choice(KEY_FORMS)
        # Keep keys unique so that most documents are valid; the suffix goes inside the quotes.
        if form[0] in "\"'":
            parts.append(f"{form[:-1]}{counter[0]}{form[-1]}")
        else:
            parts.append(f"{form}{counter[0]}")
    return rng.choice([".", " . ", ". "]).join(parts)


def random_value(rng: random.Random, counter: list[int], depth: int) -> str:
    roll = rng.random()
    if depth > 2 or roll < 0.6:
        return rng.choice(SCALARS)
    if roll < 0.8:
        items = [random_value(rng, counter, depth + 1) for _ in range(rng.randint(0, 3))]
        gap = rng.choice([" ", "\n  ", " # c ] { \n "])
        trailing = rng.choice(["", ","]) if items else ""
        return "[" + gap + ("," + gap).join(items) + trailing + gap + "]"
    pairs = [
        f"{random_key(rng, counter, True)} = {random_value(rng, counter, depth + 1)}"
        for _ in range(rng.randint(0, 3))
    ]
    return "{" + ", ".join(pairs) + "}"


def random_document(rng: random.Random) -> str:
    counter = [0]
    out: list[str] = []
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.15:
            out.append(f"[{random_key(rng, counter, True)}]")
        elif roll < 0.3:
            out.append(f"[[{rng.choice(['arr', 'arr.sub', 'arr . sub.deep', 'other'])}]]")
        elif roll < 0.4:
            out.append(rng.choice(["", "# [c] k = 1", "   "]))
        else:
            key = random_key(rng, counter, rng.random() < 0.3)
            out.append(f"{key} = {random_value(rng, counter, 0)}" + rng.choice(["", " # x"]))
    return rng.choice(["\n", "\r\n"]).join(out) + "\n"


def test_generated_documents_match_tomllib() -> None:
    rng = random.Random(1234)
    valid = 0
    for _ in range(1500):
        text = random_document(rng)
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue
        valid += 1
        assert_matches_tomllib(text)
    assert valid > 500
