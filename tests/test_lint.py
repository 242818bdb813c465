"""Warnings about valid but doubtful definitions: engine.builder.lint."""

from __future__ import annotations

from pathlib import Path

from engine.builder.lint import lint
from engine.builder.yaml_definition import model_from_document
from engine.builder.yaml_source import load_yaml
from engine.errors import Problem

DATA = Path(__file__).parent / "data" / "yaml"

HEAD = "id: claim\nname: Claim\nversion: 1\n"
STAGES = "stages:\n  - name: Intake\n    actions:\n      - {id: register}\n"


def warnings(text: str, *, located: bool = True) -> list[Problem]:
    doc = load_yaml(text, "l.yaml")
    model = model_from_document(doc)
    return lint(model, doc if located else None, "l.yaml")


def codes(text: str) -> list[str]:
    return [p.code for p in warnings(text)]


def stage_with(condition: str) -> str:
    return (
        HEAD
        + f'stages:\n  - name: Check\n    condition: "{condition}"\n'
        + ("    actions: [{id: a}]\n")
    )


def test_api_example_has_no_warnings() -> None:
    assert warnings((DATA / "claim.yaml").read_text(encoding="utf-8")) == []


def test_warnings_are_warnings_with_codes_lines_and_paths() -> None:
    [found] = warnings(stage_with("1 > 2"))
    assert found.severity == "warning"
    assert (found.file, found.line, found.column) == ("l.yaml", 6, 16)
    assert found.path == "stages[0].condition"
    assert str(found).startswith("l.yaml:6:16: warning: ")


def test_without_a_document_warnings_carry_the_file_only() -> None:
    [found] = warnings(stage_with("1 > 2"), located=False)
    assert (found.file, found.line, found.path, found.code) == ("l.yaml", None, "", "W001")


def test_file_defaults_to_the_document_file() -> None:
    doc = load_yaml(stage_with("False"), "doc.yaml")
    [found] = lint(model_from_document(doc), doc)
    assert found.file == "doc.yaml"


def test_RW3_constant_false_condition_makes_the_stage_unreachable() -> None:
    for condition in ("False", "1 > 2", "false and x", "not True", "'a' in []"):
        found = warnings(stage_with(condition))
        if condition == "false and x":
            assert found == []  # reads a name: not constant
            continue
        assert [p.code for p in found] == ["W001"], condition
        assert "never runs" in found[0].message


def test_RW3_constant_true_condition_has_no_effect() -> None:
    [found] = warnings(stage_with("2 > 1"))
    assert found.code == "W002"
    assert found.message == "the condition of stage 'Check' is always true"


def test_condition_that_always_fails() -> None:
    [found] = warnings(stage_with("1 / 0 > 1"))
    assert found.code == "W003"
    assert "always fails" in found.message


def test_conditions_over_case_data_are_not_flagged() -> None:
    assert warnings(stage_with("amount > 1000")) == []


def test_SC1_subcase_step_to_the_process_itself() -> None:
    text = (
        HEAD
        + "subcases: [claim]\nstages:\n  - name: A\n    actions:\n"
        + ("      - {id: again, subcase: claim}\n")
    )
    [found] = warnings(text)
    assert (found.code, found.line, found.path) == ("W004", 8, "stages[0].actions[0].subcase")


def test_calendar_defined_but_not_used() -> None:
    text = (
        HEAD
        + "calendar: uk\ncalendars:\n  uk: {timezone: Europe/London}\n"
        + ("  fr: {timezone: Europe/Paris}\n")
        + STAGES
    )
    [found] = warnings(text)
    assert (found.code, found.line, found.column) == ("W005", 7, 3)
    assert "calendar 'fr'" in found.message


def test_H3_H4_pausing_sla_needs_more_info_reasons_and_a_due() -> None:
    text = HEAD + "add_wait_time_to_due_date: true\n" + STAGES
    found = warnings(text)
    assert [(p.code, p.line, p.column) for p in found] == [("W006", 4, 1), ("W007", 4, 1)]
    assert (
        codes(HEAD + "add_wait_time_to_due_date: true\ndue: 4h\nmore_info_reasons: [x]\n" + STAGES)
        == []
    )


def test_working_durations_without_a_calendar() -> None:
    text = (
        HEAD
        + "due: 3 working days\nstages:\n  - name: A\n    actions:\n"
        + ("      - {id: a, due: 6 working hours}\n")
    )
    found = warnings(text)
    assert [(p.code, p.path) for p in found] == [
        ("W008", "due"),
        ("W008", "stages[0].actions[0].due"),
    ]
    assert codes(text.replace("version: 1\n", "version: 1\ncalendar: office\n")) == []


def test_parallel_stage_with_one_flow_action() -> None:
    text = (
        HEAD
        + "stages:\n  - name: A\n    parallel: true\n    actions:\n"
        + ("      - {id: a}\n      - {id: b, flow: false, manual_launch: true}\n")
    )
    [found] = warnings(text)
    assert (found.code, found.path, found.line) == ("W009", "stages[0].parallel", 6)


def test_overlapping_calendar_hours() -> None:
    text = (
        HEAD
        + "calendar: uk\ncalendars:\n  uk:\n    hours:\n"
        + (
            "      mon: ['09:00-13:00', '12:00-17:00']\n      tue: ['09:00-12:00', '12:00-24:00']\n"
            "      wed: ['20:00-24:00', '21:00-22:00']\n"
        )
        + STAGES
    )
    found = warnings(text)
    assert [(p.code, p.path) for p in found] == [
        ("W010", "calendars.uk.hours.mon"),
        ("W010", "calendars.uk.hours.wed"),
    ]


def test_action_due_later_than_the_case() -> None:
    text = (
        HEAD
        + "due: 4h\nstages:\n  - name: A\n    actions:\n"
        + ("      - {id: a, due: 8h}\n      - {id: b, due: 2h}\n      - {id: c, due: 2d}\n")
    )
    [found] = warnings(text)
    assert (found.code, found.path) == ("W011", "stages[0].actions[0].due")
    assert found.message == "action 'a' is due in 8h, later than its case (4h)"


def test_warnings_are_sorted_by_position() -> None:
    text = (
        HEAD
        + "add_wait_time_to_due_date: true\ncalendars:\n  spare: {}\n"
        + ("stages:\n  - name: A\n    condition: 'False'\n    actions: [{id: a}]\n")
    )
    found = warnings(text)
    assert [p.code for p in found] == ["W006", "W007", "W005", "W001"]
    assert [p.line for p in found] == sorted(p.line or 0 for p in found)


def test_C1_schedule_more_often_than_hourly() -> None:
    text = HEAD + (
        "schedules:\n"
        "  - {every: 59m, first: 2026-03-02T08:00:00Z}\n"
        "  - {every: 1h, first: 2026-03-02T08:00:00Z}\n"
        "  - {every: 1d, first: 2026-03-02T08:00:00Z}\n"
    )
    [found] = warnings(text + STAGES)
    assert (found.code, found.line, found.column, found.path) == (
        "W012",
        5,
        13,
        "schedules[0].every",
    )
    assert "every 59m: more than 24 cases a day" in found.message


def test_C1_two_schedules_at_the_same_times() -> None:
    text = HEAD + (
        "schedules:\n"
        "  - {every: 1d, first: 2026-03-02T08:00:00Z, title: A}\n"
        "  - {every: 24h, first: '2026-03-02T09:00:00+01:00', title: B}\n"
        "  - {every: 1d, first: 2026-03-02T08:01:00Z}\n"
        "  - {every: 2d, first: 2026-03-02T08:00:00Z}\n"
    )
    [found] = warnings(text + STAGES)
    assert (found.code, found.line, found.path) == ("W013", 6, "schedules[1]")
    assert "same 'every' and 'first' as schedule 0" in found.message


def test_C1_V10_schedules_with_required_contacts_stay_draft() -> None:
    text = HEAD + (
        "required_contacts: [requester]\n"
        "schedules:\n"
        "  - {every: 1d, first: 2026-03-02T08:00:00Z}\n"
    )
    [found] = warnings(text + STAGES)
    assert found.code == "W014" and found.path == "schedules"
    assert "stay Draft" in found.message
