"""The process JSON Schema and its located, plain-worded problems: engine.builder.schema."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from engine.builder.schema import SCHEMA_PATH, schema, schema_problems
from engine.builder.yaml_source import load_yaml
from engine.errors import Problem
from engine.model import ActionDef, CaseSettings, EmailRoute, ProcessModel, ScheduleDef, StageDef

DATA = Path(__file__).parent / "data" / "yaml"
ROOT = Path(__file__).resolve().parents[1]

HEAD = "id: claim\nname: Claim\nversion: 1\n"
STAGES = "stages:\n  - name: Intake\n    actions:\n      - {id: register}\n"


def problems(text: str) -> list[Problem]:
    return schema_problems(load_yaml(text, "s.yaml"))


def walk(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    """Every subschema that declares properties, with where it is."""
    found = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            found.extend(walk(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(walk(value, f"{path}/{i}"))
    return found


# -- the schema itself -------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema()["$id"]


def test_schema_is_read_from_the_repository_file() -> None:
    assert SCHEMA_PATH == ROOT / "schemas" / "process.schema.json"
    assert schema() == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema() is schema()  # loaded once


def test_every_object_refuses_unknown_keys_and_documents_every_property() -> None:
    objects = walk(schema())
    # top level, calendar, hours, stage, action, email route, schedule, data field
    assert len(objects) == 8
    for where, node in objects:
        assert node.get("additionalProperties") is False, where
        for name, prop in node["properties"].items():
            assert prop.get("title") and prop.get("description"), f"{where}/{name}"


def test_name_to_value_mappings_only_admit_their_value_schema() -> None:
    calendars = schema()["properties"]["calendars"]
    assert calendars["type"] == "object"
    assert calendars["additionalProperties"] == {"$ref": "#/$defs/calendar"}


def test_schema_covers_every_model_setting() -> None:
    top = schema()["properties"]
    defs = schema()["$defs"]
    model_fields = {f.name for f in dataclasses.fields(ProcessModel)} - {"settings"}
    assert model_fields <= set(top)
    assert {f.name for f in dataclasses.fields(CaseSettings)} <= set(top)
    assert {f.name for f in dataclasses.fields(StageDef)} == set(defs["stage"]["properties"])
    assert {f.name for f in dataclasses.fields(ActionDef)} == set(defs["action"]["properties"])
    assert {f.name for f in dataclasses.fields(EmailRoute)} == set(
        defs["email_route"]["properties"]
    )
    assert {f.name for f in dataclasses.fields(ScheduleDef)} == set(defs["schedule"]["properties"])


def test_schema_defaults_match_the_model_defaults() -> None:
    top = schema()["properties"]
    settings = CaseSettings()
    for name in (
        "add_wait_time_to_due_date",
        "allow_title_edit",
        "send_automated_emails",
        "calendar_required",
        "keep_with_me",
        "keep_actions_with_me",
        "allow_due_date_override",
    ):
        assert top[name]["default"] == getattr(settings, name), name
    action = schema()["$defs"]["action"]["properties"]
    defaults = ActionDef(id="a", title="A")
    for name in ("manual_launch", "flow", "robot"):
        assert action[name]["default"] == getattr(defaults, name), name


def test_api_example_and_fixtures_are_schema_valid() -> None:
    for name in ("claim.yaml", "full.yaml"):
        assert problems((DATA / name).read_text(encoding="utf-8")) == [], name


# -- located problems --------------------------------------------------------------------------


def test_unknown_top_level_key_points_at_the_key() -> None:
    found = problems(HEAD + "colour: red\n" + STAGES)
    assert [(p.line, p.column, p.path, p.code) for p in found] == [(4, 1, "colour", "S001")]
    assert "unknown key 'colour'" in found[0].message


def test_unknown_nested_key_points_at_the_key_and_suggests() -> None:
    text = HEAD + (
        "stages:\n  - name: Intake\n    actions:\n      - id: register\n        robott: true\n"
    )
    [found] = problems(text)
    assert (found.line, found.column, found.path) == (8, 9, "stages[0].actions[0].robott")
    assert found.message == "unknown key 'robott': did you mean 'robot'?"


def test_unknown_key_in_small_mapping_lists_allowed_keys() -> None:
    text = HEAD + "email_routes:\n  - {mailbox: a@x, colour: red}\n" + STAGES
    [found] = problems(text)
    assert found.line == 5
    assert "allowed here: mailbox, enabled, test_mode" in found.message


def test_each_unknown_key_is_its_own_problem() -> None:
    found = problems(HEAD + "a: 1\nb: 2\n" + STAGES)
    assert [(p.line, p.path) for p in found] == [(4, "a"), (5, "b")]


def test_missing_required_keys_are_named() -> None:
    found = problems("id: claim\n")
    assert sorted(p.message for p in found) == [
        "missing required key 'name'",
        "missing required key 'stages'",
        "missing required key 'version'",
    ]
    assert {p.code for p in found} == {"S002"}


def test_missing_nested_key_points_at_the_parent() -> None:
    found = problems(HEAD + "stages:\n  - name: Intake\n    actions:\n      - {title: Register}\n")
    assert [(p.line, p.column, p.path, p.message) for p in found] == [
        (7, 9, "stages[0].actions[0]", "missing required key 'id'")
    ]


def test_wrong_types_say_what_was_expected() -> None:
    found = problems(HEAD + "due: 4\nallow_title_edit: 'no'\nmore_info_reasons: x\n" + STAGES)
    by_path = {p.path: p for p in found}
    assert by_path["due"].message.startswith("expected a string, e.g. '4h'")
    assert "got the number 4" in by_path["due"].message
    assert by_path["allow_title_edit"].message == "expected true or false; got the string 'no'"
    assert by_path["more_info_reasons"].message == (
        "expected a list, e.g. ['Customer documents', 'Third-party report']; got the string 'x'"
    )
    assert [p.line for p in found] == [4, 5, 6]
    assert {p.code for p in found} == {"S003"}


def test_empty_value_is_reported_as_nothing() -> None:
    [found] = problems(HEAD + "due:\n" + STAGES)
    assert found.message.startswith("expected a string")
    assert "nothing" in found.message
    assert found.line == 4


def test_ids_must_match_the_pattern() -> None:
    found = problems("id: Claim\nname: C\nversion: 1\n" + STAGES.replace("register", "Reg-1"))
    assert [(p.path, p.code) for p in found] == [
        ("id", "S004"),
        ("stages[0].actions[0].id", "S004"),
    ]
    assert "lowercase letters" in found[0].message


def test_version_must_be_a_whole_number_from_one() -> None:
    [zero] = problems("id: c\nname: C\nversion: 0\n" + STAGES)
    assert zero.message == "must be at least 1; got 0"
    [text] = problems("id: c\nname: C\nversion: one\n" + STAGES)
    assert text.message.startswith("expected a whole number")
    [flag] = problems("id: c\nname: C\nversion: true\n" + STAGES)
    assert flag.path == "version"


def test_records_count_choices_V9() -> None:
    for good in ("true", "false", "hidden", "shown", "editable"):
        assert problems(HEAD + f"records_count: {good}\n" + STAGES) == [], good
    [bad] = problems(HEAD + "records_count: visible\n" + STAGES)
    assert bad.message == (
        "expected true or false or one of 'hidden', 'shown', 'editable'; got the string 'visible'"
    )


def test_required_contacts_are_primary_or_requester_V10() -> None:
    [bad] = problems(HEAD + "required_contacts: [primary, boss]\n" + STAGES)
    assert bad.path == "required_contacts[1]"
    assert bad.message == "expected one of 'primary', 'requester'; got the string 'boss'"


def test_empty_stages_and_empty_names_are_refused() -> None:
    [empty] = problems(HEAD + "stages: []\n")
    assert (empty.message, empty.code) == ("must not be empty", "S005")
    [blank] = problems(HEAD + "stages:\n  - name: ''\n    actions: [{id: a}]\n")
    assert blank.path == "stages[0].name"


def test_stage_needs_name_and_actions() -> None:
    found = problems(HEAD + "stages:\n  - condition: a > 1\n")
    assert sorted(p.message for p in found) == [
        "missing required key 'actions'",
        "missing required key 'name'",
    ]
    assert {p.line for p in found} == {5}


def test_calendar_hours_are_one_range_or_a_list() -> None:
    calendars = (
        "calendars:\n  uk:\n    hours:\n      mon: '09:00-17:00'\n"
        "      tue: ['09:00-12:00', 5]\n      wed: 7\n      xyz: '1'\n"
    )
    found = problems(HEAD + calendars + STAGES)
    assert [(p.line, p.path) for p in found] == [
        (8, "calendars.uk.hours.tue[1]"),
        (9, "calendars.uk.hours.wed"),
        (10, "calendars.uk.hours.xyz"),
    ]
    assert found[0].message.startswith("expected a string")
    assert found[1].message.startswith("expected a string or a list")
    assert found[2].message.startswith("unknown key 'xyz'")


def test_dates_are_validated_as_iso_text() -> None:
    text = (
        HEAD
        + ("calendars:\n  uk:\n    holidays: [2026-12-25, '2026-12-26', 2026-12-25 10:00:00, x]\n")
        + STAGES
    )
    found = problems(text)
    assert [p.path for p in found] == ["calendars.uk.holidays[2]", "calendars.uk.holidays[3]"]
    assert all("not a date" in p.message for p in found)


def test_empty_and_non_mapping_files() -> None:
    [empty] = problems("")
    assert "the file is empty" in empty.message
    [listed] = problems("- a\n- b\n")
    assert listed.message == "expected a mapping (key: value); got a list"
    assert (listed.line, listed.column) == (1, 1)


def test_problems_are_sorted_by_position() -> None:
    found = problems("stages: x\nversion: 0\nid: X\nname: 1\n")
    assert [p.line for p in found] == sorted(p.line or 0 for p in found)
    assert len(found) == 4


# -- schedules (C1) ------------------------------------------------------------------------------


def test_C1_schedules_schema_requires_every_and_first_and_knows_only_its_keys() -> None:
    schedule = schema()["$defs"]["schedule"]
    assert schedule["required"] == ["every", "first"]
    assert schedule["properties"]["every"]["$ref"] == "#/$defs/duration"
    text = (
        HEAD
        + (
            "schedules:\n"
            "  - {every: 1d, first: 2026-03-02T08:00:00Z, title: Daily}\n"
            "  - {first: 2026-03-02T08:00:00Z, titel: x}\n"
            "  - {every: 1d, first: [2026]}\n"
            "  - daily\n"
        )
        + STAGES
    )
    found = problems(text)
    assert [(p.line, p.path, p.code) for p in found] == [
        (6, "schedules[1]", "S002"),
        (6, "schedules[1].titel", "S001"),
        (7, "schedules[2].first", "S003"),
        (8, "schedules[3]", "S003"),
    ]
    assert "missing required key 'every'" in found[0].message
    assert "did you mean 'title'?" in found[1].message


def test_C1_yaml_timestamps_pass_the_schema_as_text() -> None:
    text = HEAD + (
        "schedules:\n  - {every: 1d, first: 2026-03-02T08:00:00Z}\n"
        "  - {every: 1d, first: '2026-03-06T16:00:00+01:00'}\n"
    )
    assert problems(text + STAGES) == []
