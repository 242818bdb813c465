"""Safe YAML loading with positions: engine.builder.yaml_source."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.builder import yaml_source
from engine.builder.yaml_source import MAX_BYTES, MAX_DEPTH, load_yaml, path_str
from engine.errors import DefinitionError, Problem

PARSERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])


@pytest.fixture(autouse=True, params=PARSERS, ids=lambda p: p.__name__)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test with the pure-Python parser and with libyaml's (when built in)."""
    monkeypatch.setattr(yaml_source, "PARSER", request.param)


DATA = Path(__file__).parent / "data" / "yaml"

SAMPLE = """\
id: claim
stages:
  - name: Intake
    condition: "amount > 1000"
    actions:
      - {id: register, title: Register claim, due: 4h}
holidays: [2026-12-25]
"""


def only_problem(source: bytes | str, file: str = "p.yaml") -> Problem:
    with pytest.raises(DefinitionError) as caught:
        load_yaml(source, file)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    assert problems[0].file == file
    return problems[0]


# -- data and positions ------------------------------------------------------------------------


def test_loads_plain_data_and_keeps_dates() -> None:
    doc = load_yaml(SAMPLE, "p.yaml")
    assert doc.data == {
        "id": "claim",
        "stages": [
            {
                "name": "Intake",
                "condition": "amount > 1000",
                "actions": [{"id": "register", "title": "Register claim", "due": "4h"}],
            }
        ],
        "holidays": [date(2026, 12, 25)],
    }
    assert doc.file == "p.yaml"


def test_bytes_and_text_load_the_same() -> None:
    assert load_yaml(SAMPLE.encode(), "p.yaml").data == load_yaml(SAMPLE, "p.yaml").data


def test_utf8_bom_is_ignored() -> None:
    assert load_yaml(b"\xef\xbb\xbfname: Caf\xc3\xa9\n", "p.yaml").data == {"name": "Café"}


def test_scalars_resolve_like_safe_loader() -> None:
    doc = load_yaml(
        "a: true\nb: 4\nc: 1.5\nd: ~\ne: 2026-12-25 10:30:00\nf: '4'\ng: ! 12\nh: !!str 12\n"
        "i: !!float 1\nj: =\n",
        "p.yaml",
    )
    assert doc.data == {
        "a": True,
        "b": 4,
        "c": 1.5,
        "d": None,
        "e": datetime(2026, 12, 25, 10, 30),
        "f": "4",
        "g": "12",
        "h": "12",
        "i": 1.0,
        "j": "=",
    }


def test_impossible_date_stays_text() -> None:
    assert load_yaml("day: 2026-02-30\n", "p.yaml").data == {"day": "2026-02-30"}


def test_positions_are_one_based_value_starts() -> None:
    doc = load_yaml(SAMPLE, "p.yaml")
    assert doc.position(("id",)) == (1, 5)
    assert doc.position(("stages",)) == (3, 3)
    assert doc.position(("stages", 0)) == (3, 5)
    assert doc.position(("stages", 0, "actions", 0, "due")) == (6, 52)
    assert doc.position(("holidays", 0)) == (7, 12)
    assert doc.position(()) == (1, 1)


def test_key_positions_point_at_the_key() -> None:
    doc = load_yaml(SAMPLE, "p.yaml")
    assert doc.key_position(("stages",)) == (2, 1)
    assert doc.key_position(("stages", 0, "actions", 0, "due")) == (6, 47)
    # list items have no key: the item itself
    assert doc.key_position(("stages", 0)) == (3, 5)


def test_columns_count_characters_not_bytes() -> None:
    doc = load_yaml("a: {é: 1, b: 2}\nc: [ü, d]\n".encode(), "p.yaml")
    assert doc.key_position(("a", "b")) == (1, 11)
    assert doc.position(("a", "b")) == (1, 14)
    assert doc.position(("c", 1)) == (2, 8)


def test_missing_path_gives_nearest_existing_parent() -> None:
    doc = load_yaml(SAMPLE, "p.yaml")
    assert doc.position(("stages", 0, "parallel")) == doc.position(("stages", 0))
    assert doc.position(("stages", 5, "name")) == doc.position(("stages",))
    assert doc.key_position(("nope",)) == (1, 1)


def test_text_position_skips_the_opening_quote() -> None:
    doc = load_yaml(SAMPLE + "plain: a > b\nblock: |\n  a > b\n", "p.yaml")
    # "amount > 1000" starts with a quote at column 16; '>' is at offset 7
    assert doc.text_position(("stages", 0, "condition"), 7) == (4, 24)
    assert doc.text_position(("plain",), 2) == (8, 10)
    assert doc.text_position(("block",), 2) == doc.position(("block",))


def test_problem_locates_and_renders() -> None:
    doc = load_yaml(SAMPLE, "p.yaml")
    problem = doc.problem("bad", ("stages", 0, "actions", 0, "due"), code="E001")
    assert (problem.line, problem.column, problem.path) == (6, 52, "stages[0].actions[0].due")
    assert str(problem) == "p.yaml:6:52: error: bad (stages[0].actions[0].due)"
    assert doc.problem("w", ("stages",), at_key=True, severity="warning").line == 2


def test_path_str() -> None:
    assert path_str(("stages", 1, "actions", 0, "due")) == "stages[1].actions[0].due"
    assert path_str(()) == ""
    assert path_str((0, "a")) == "[0].a"
    assert path_str(("calendars", "uk office", "timezone")) == "calendars['uk office'].timezone"


def test_empty_and_comment_only_files_give_none() -> None:
    assert load_yaml("", "p.yaml").data is None
    assert load_yaml("# nothing\n", "p.yaml").data is None


def test_explicit_single_document_is_fine() -> None:
    assert load_yaml("---\na: 1\n...\n", "p.yaml").data == {"a": 1}


# -- refused input -----------------------------------------------------------------------------


def test_malformed_yaml_gives_line_and_column() -> None:
    problem = only_problem("a: [1, 2\nb: 3\n")
    assert (problem.line, problem.column) == (2, 2)
    assert "malformed YAML" in problem.message
    assert problem.code == "Y003"


def test_bad_indentation_is_malformed() -> None:
    problem = only_problem("a:\n  b: 1\n c: 2\n")
    assert problem.line == 3
    assert "malformed YAML" in problem.message


@pytest.mark.parametrize(
    ("source", "position", "advice"),
    [
        ("id: a\nstages:\n\t- name: x\n", (3, 1), "a tab character"),
        ("id: a\nmeta:\n  a: 1\n\tb: 2\n", (4, 1), "a tab character"),
        ("id: a\ntitle: Note: urgent\n", (2, 12), 'quote the value, e.g. title: "Note: urgent"'),
        ("id: a\ntitle: @home\n", (2, 8), "cannot start with '@'"),
        ("id: a\ntitle: `x`\n", (2, 8), "cannot start with '`'"),
        ("id: a\ntitle: *important* claims\n", (2, 8), "'*' is read as an alias: quote"),
        ("id: a\ntitle: & co\n", (2, 8), "'&' is read as an anchor: quote"),
        ("id: a\ntitle: 'it is\nx: 1\n", (2, 8), "quoted value is never closed"),
        ('id: a\npath: "C:\\data"\n', (2, None), "use single quotes"),
        ("id: a\nname: x\n  version: 1\n", (3, 10), "indented further than the key above"),
        ("id: a\nlist: - a\n", (2, 7), "cannot start on the same line as its key"),
        ("id: a\nname\nversion: 1\n", (2, 1), "line 2 has no ':' after its key"),
        ("stages:\n  - name: x\n - name: y\n", (3, 2), "a list item ('- ') where a key is"),
        ("id: a\ntitle: \"a\" b\n", (2, 12), "text after the closing quote"),
        ("a:\n  - b: 1\n    c: 2\n   d: 3\n", (4, 4), "indentation of this line"),
        ("a: [1, 2\nb: 3\n", (2, 2), "the '[' opened on line 1, column 4 is not closed"),
        ("a: {id: x, title: y\nb: 3\n", (2, 2), "the '{' opened on line 1, column 4"),
        ("a: [x, , y]\n", (1, 8), "remove the extra ','"),
        ("a: |x\n  text\n", (1, 5), "after '|' or '>'"),
    ],
)
def test_syntax_errors_say_what_they_usually_mean_where_they_are(
    source: str, position: tuple[int, int | None], advice: str
) -> None:
    problem = only_problem(source)
    assert problem.code == "Y003"
    assert problem.message.startswith("malformed YAML: ")
    assert advice in problem.message, problem.message
    line, column = position
    assert problem.line == line, problem
    if column is not None:  # libyaml and PyYAML point at different characters of an escape
        assert problem.column == column, problem
    # the parser's own words are kept, after the advice
    assert "(parser: " in problem.message


def test_control_character_is_refused_where_it_is() -> None:
    problem = only_problem("a: 1\nb: x\x07\n")
    assert (problem.line, problem.column) == (2, 5)
    assert "'\\x07' is not allowed" in problem.message
    problem = only_problem("a: 1\nb: éé\x07\n".encode())
    assert (problem.line, problem.column) == (2, 6)


def test_non_utf8_bytes_say_where() -> None:
    problem = only_problem(b"a: 1\nname: Caf\xe9\n")
    assert (problem.line, problem.column) == (2, 10)
    assert "UTF-8" in problem.message and "0xe9" in problem.message
    # column counts characters, not bytes, before the bad one
    problem = only_problem(b"name: \xc3\xa9\xc3\xa9\xff\n")
    assert (problem.line, problem.column) == (1, 9)


def test_utf16_is_not_utf8() -> None:
    problem = only_problem("a: 1\n".encode("utf-16"))
    assert problem.code == "Y002"


def test_file_over_one_megabyte_is_refused() -> None:
    big = "# padding\n" * (MAX_BYTES // 10) + "a: 1\n"
    problem = only_problem(big)
    assert "1,000,000 bytes" in problem.message
    assert problem.line == MAX_BYTES // 10 + 1
    problem = only_problem(big.encode())
    assert problem.code == "Y001"


def test_exactly_one_megabyte_is_accepted() -> None:
    body = "a: 1\n"
    text = body + "#" * (MAX_BYTES - len(body) - 1) + "\n"
    assert len(text.encode()) == MAX_BYTES
    assert load_yaml(text, "p.yaml").data == {"a": 1}


def test_billion_laughs_is_refused_at_the_first_anchor_fast() -> None:
    start = time.perf_counter()
    problem = only_problem((DATA / "billion_laughs.yaml").read_bytes())
    assert time.perf_counter() - start < 0.5
    assert (problem.line, problem.column) == (4, 4)
    assert "anchors" in problem.message
    assert problem.code == "Y005"


def test_alias_without_anchor_is_refused() -> None:
    problem = only_problem("a: 1\nb: *x\n")
    assert problem.line == 2
    assert "malformed" in problem.message or "alias" in problem.message


def test_anchor_on_a_scalar_is_refused() -> None:
    problem = only_problem("a: &x 1\n")
    assert (problem.line, problem.column) == (1, 4)


@pytest.mark.parametrize(
    "source",
    [
        "[" * 1000 + "]" * 1000,
        "{a: " * 1000 + "1" + "}" * 1000,
        "- " * 1000 + "x\n",
        "a:\n" + "".join(" " * i + "k:\n" for i in range(1, 1000)),
    ],
    ids=["flow lists", "flow maps", "block lists", "block maps"],
)
def test_1000_deep_nesting_is_refused(source: str) -> None:
    start = time.perf_counter()
    problem = only_problem(source)
    assert time.perf_counter() - start < 2
    assert f"deeper than {MAX_DEPTH}" in problem.message
    assert problem.code == "Y006"


def test_nesting_of_exactly_50_is_accepted() -> None:
    doc = load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH, "p.yaml")
    depth, value = 0, doc.data
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    assert depth == MAX_DEPTH


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    problem = only_problem("id: a\nname: x\nid: b\n")
    assert (problem.line, problem.column) == (3, 1)
    assert "duplicate key 'id'" in problem.message and "line 1" in problem.message
    assert problem.code == "Y008"


def test_duplicate_nested_keys_and_all_are_listed() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_yaml("s:\n  - {id: a, id: b}\n  - name: x\n    name: y\nt: 1\nt: 2\n", "p.yaml")
    assert [(p.line, p.path) for p in caught.value.problems] == [
        (2, "s[0].id"),
        (4, "s[1].name"),
        (6, "t"),
    ]


def test_multiple_documents_are_refused() -> None:
    problem = only_problem("a: 1\n---\nb: 2\n")
    assert problem.line == 2
    assert problem.code == "Y004"


@pytest.mark.parametrize(
    ("source", "word"),
    [
        ("1: a\n", "read as a number"),
        ("yes: a\n", "read as a boolean"),
        ("~: a\n", "read as null"),
        ("2026-01-01: a\n", "read as a date"),
    ],
)
def test_non_string_keys_are_refused(source: str, word: str) -> None:
    problem = only_problem(source)
    assert word in problem.message and "quote it" in problem.message
    assert (problem.line, problem.column) == (1, 1)


def test_collection_key_is_refused() -> None:
    problem = only_problem("a: 1\n? [x]\n: 2\n")
    assert problem.line == 2
    assert problem.code == "Y007"


def test_merge_key_is_refused() -> None:
    problem = only_problem("base: {a: 1}\nother:\n  <<: {b: 2}\n")
    assert "merge" in problem.message
    assert problem.line == 3


@pytest.mark.parametrize(
    "source",
    [
        "a: !!python/object:os.system x\n",
        "a: !!python/object/apply:os.system [ls]\n",
        "a: !!python/name:os.system ''\n",
        "a: !custom x\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {x, y}\n",
        "a: !!omap [{x: 1}]\n",
    ],
)
def test_custom_and_non_standard_tags_are_refused(source: str) -> None:
    problem = only_problem(source)
    assert "tag" in problem.message and "not allowed" in problem.message
    assert (problem.line, problem.column) == (1, 4)


def test_value_that_does_not_fit_its_tag() -> None:
    problem = only_problem("a: 1\nb: !!int abc\n")
    assert "not a valid !!int" in problem.message
    assert problem.line == 2


def test_huge_integer_is_refused_not_crashed() -> None:
    problem = only_problem("a: " + "9" * 5000 + "\n")
    assert problem.code == "Y009"


TEXT_ALPHABET = st.sampled_from(
    list("abc:-[]{}!&*?|>'\"#%@`,. \n\t0123456789") + ["\x00", "\xe9", "\u2028", "\ufeff"]
)


@settings(max_examples=300, deadline=None)
@given(st.text(TEXT_ALPHABET, max_size=80))
def test_any_text_loads_or_gives_definition_error(text: str) -> None:
    try:
        doc = load_yaml(text, "fuzz.yaml")
    except DefinitionError as err:
        assert all(p.file == "fuzz.yaml" and p.line is not None for p in err.problems)
    else:
        assert doc.file == "fuzz.yaml"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60))
def test_any_bytes_load_or_give_definition_error(data: bytes) -> None:
    try:
        load_yaml(data, "fuzz.yaml")
    except DefinitionError as err:
        assert err.problems
