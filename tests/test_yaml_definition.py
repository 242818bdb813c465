"""YAML definitions to ProcessModel, every problem collected: engine.builder.yaml_definition."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.builder.yaml_definition import (
    check_document,
    humanise,
    load_yaml_file,
    model_from_document,
    model_from_yaml,
    schedule_interval,
    schedule_start,
)
from engine.builder.yaml_source import load_yaml
from engine.durations import DurationError
from engine.errors import DefinitionError, Problem
from engine.model import (
    ActionDef,
    CalendarDef,
    DueRule,
    DueUnit,
    EmailRoute,
    ProcessModel,
    RecordsCount,
    ScheduleDef,
    StageDef,
    WorkingPeriod,
    office_calendar,
)

DATA = Path(__file__).parent / "data" / "yaml"
ROOT = Path(__file__).resolve().parents[1]
CLAIM = (DATA / "claim.yaml").read_text(encoding="utf-8")

HEAD = "id: claim\nname: Claim\nversion: 1\n"
STAGES = "stages:\n  - name: Intake\n    actions:\n      - {id: register}\n"


def errors(text: str, **kwargs: object) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        model_from_yaml(text, "d.yaml", **kwargs)  # type: ignore[arg-type]
    return list(caught.value.problems)


def one_error(text: str, **kwargs: object) -> Problem:
    found = errors(text, **kwargs)
    assert len(found) == 1, found
    return found[0]


# -- the API example ---------------------------------------------------------------------------


def test_api_example_loads_to_the_expected_model() -> None:
    model = load_yaml_file(DATA / "claim.yaml")
    assert (model.id, model.version, model.name) == ("claim", 1, "Insurance claim")
    assert (model.customer, model.contract, model.service) == ("Acme Insurance", "Motor", "Claims")
    s = model.settings
    assert s.due == DueRule(3, DueUnit.DAYS, working=True)
    assert s.calendar == "office"
    assert s.add_wait_time_to_due_date is True
    assert s.feedback_window == DueRule(2, DueUnit.DAYS)
    assert (s.allow_title_edit, s.allow_due_date_override) == (True, False)
    assert s.more_info_reasons == ("Customer documents", "Third-party report")
    assert s.subcases == ("fraud_check",)
    assert s.send_automated_emails is True
    assert s.records_count is RecordsCount.HIDDEN
    assert model.calendars == ()
    assert model.stages == (
        StageDef(
            name="Intake",
            actions=(ActionDef("register", "Register claim", due=DueRule(4, DueUnit.HOURS)),),
        ),
        StageDef(
            name="Assessment",
            condition="amount > 1000",
            actions=(
                ActionDef("assess", "Assess damage"),
                ActionDef(
                    "second_opinion",
                    "Second opinion",
                    instructions="Ask a senior assessor",
                    manual_launch=True,
                    flow=False,
                ),
            ),
        ),
        StageDef(name="Payment", actions=(ActionDef("pay", "Pay claim", robot=True),)),
    )
    assert model.calendar("office") == office_calendar()


def test_api_example_file_is_verbatim_from_api_md() -> None:
    api = Path("/work/shared/API.md")
    if not api.exists():
        pytest.skip("API.md is not beside the checkout")
    block = re.search(r"## YAML definition.*?```yaml\n(.*?)```", api.read_text(), re.S)
    assert block is not None
    assert block.group(1) == CLAIM


def test_text_bytes_and_file_give_equal_models() -> None:
    from_text = model_from_yaml(CLAIM, "claim.yaml")
    assert model_from_yaml(CLAIM.encode(), "claim.yaml") == from_text
    assert load_yaml_file(str(DATA / "claim.yaml")) == from_text


def test_model_from_document_reuses_a_loaded_document() -> None:
    doc = load_yaml(CLAIM, "claim.yaml")
    assert check_document(doc) == []
    assert model_from_document(doc) == model_from_yaml(CLAIM, "claim.yaml")


def test_every_setting_reaches_the_model() -> None:
    model = load_yaml_file(DATA / "full.yaml")
    s = model.settings
    assert (model.id, model.version) == ("onboarding", 3)
    assert s.due == DueRule(6, DueUnit.HOURS, working=True)
    assert s.feedback_window == DueRule(48, DueUnit.HOURS)
    assert s.calendar == "london"
    assert (s.allow_title_edit, s.allow_due_date_override) == (False, True)
    assert s.send_automated_emails is False
    assert s.records_count is RecordsCount.EDITABLE
    assert s.subcases == ("kyc_check", "onboarding")
    assert s.defect_categories == ("Wrong address", "Late reply")
    assert s.sop_url == "https://intranet.example/sop/onboarding"
    assert s.email_routes == (
        EmailRoute("onboarding@acme.example"),
        EmailRoute("test-onboarding@acme.example", enabled=False, test_mode=True),
    )
    assert (s.calendar_required, s.keep_with_me, s.keep_actions_with_me) == (True, True, True)
    assert s.queue == "Onboarding team"
    assert s.required_contacts == ("primary", "requester")
    checks, approval = model.stages
    assert checks.parallel is True and checks.condition is None
    assert checks.actions == (
        ActionDef(
            "verify_identity",
            "Verify identity",
            instructions="Compare the ID with the application.",
            due=DueRule(2, DueUnit.HOURS),
            queue="Back office",
            sop_url="https://intranet.example/sop/id",
        ),
        ActionDef("kyc", "KYC check", subcase="kyc_check"),
    )
    assert approval.condition == "risk == 'high' and not waived"
    assert [a.id for a in approval.actions] == ["approve", "escalate", "notify"]


def test_calendars_become_calendar_defs_with_sorted_periods_and_holidays() -> None:
    london, paris = load_yaml_file(DATA / "full.yaml").calendars
    assert london == CalendarDef(
        name="london",
        timezone="Europe/London",
        periods=(
            WorkingPeriod(0, time(8, 30), time(12)),
            WorkingPeriod(0, time(13), time(17, 30)),
            WorkingPeriod(1, time(8, 30), time(17, 30)),
            WorkingPeriod(2, time(8, 30), time(17, 30)),
            WorkingPeriod(3, time(8, 30), time(17, 30)),
            WorkingPeriod(4, time(9), time(16)),
        ),
        holidays=(date(2026, 12, 24), date(2026, 12, 31)),
        country="GB",
        subdivision="ENG",
    )
    # no hours: Monday to Friday 09:00-17:00, like the built-in office calendar
    assert paris.periods == office_calendar().periods
    assert paris.timezone == "Europe/Paris"


def test_calendar_defaults_and_midnight_end() -> None:
    text = (
        HEAD
        + (
            "calendar: night\ncalendars:\n  night:\n    hours: {sat: '22:00-24:00'}\n"
            "    holidays: [2026-01-01, 2026-01-01]\n"
        )
        + STAGES
    )
    [night] = model_from_yaml(text, "d.yaml").calendars
    assert night == CalendarDef(
        name="night",
        periods=(WorkingPeriod(5, time(22), time(0)),),
        holidays=(date(2026, 1, 1),),
    )


def test_title_defaults_to_the_humanised_id() -> None:
    model = model_from_yaml(HEAD + STAGES.replace("register", "second_opinion"), "d.yaml")
    assert model.stages[0].actions[0].title == "Second opinion"
    assert humanise("second_opinion") == "Second opinion"
    assert humanise("kyc") == "Kyc"
    assert humanise("a__b_") == "A b"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("true", RecordsCount.SHOWN),
        ("false", RecordsCount.HIDDEN),
        ("shown", RecordsCount.SHOWN),
        ("editable", RecordsCount.EDITABLE),
    ],
)
def test_V9_records_count(written: str, expected: RecordsCount) -> None:
    text = HEAD + f"records_count: {written}\n" + STAGES
    assert model_from_yaml(text, "d.yaml").settings.records_count is expected


def test_version_written_as_float_is_an_int() -> None:
    model = model_from_yaml(HEAD.replace("version: 1", "version: 2.0") + STAGES, "d.yaml")
    assert model.version == 2 and isinstance(model.version, int)


def test_spellings_of_a_duration_give_equal_models() -> None:
    a = model_from_yaml(HEAD + "due: PT4H\n" + STAGES, "d.yaml")
    b = model_from_yaml(HEAD + "due: 240 minutes\n" + STAGES, "d.yaml")
    assert a == b


# -- every problem at once ---------------------------------------------------------------------


def test_many_mistakes_give_one_error_listing_all_with_lines() -> None:
    path = DATA / "many_mistakes.yaml"
    with pytest.raises(DefinitionError) as caught:
        load_yaml_file(path)
    err = caught.value
    located = [(p.line, p.column, p.path, p.code) for p in err.problems]
    assert located == [
        (4, 6, "due", "E001"),
        (5, 11, "calendar", "E003"),
        (6, 1, "colour", "S001"),
        (9, 34, "stages[0].condition", "E002"),
        (11, 52, "stages[0].actions[0].due", "E001"),
        (12, 13, "stages[0].actions[1].id", "E010"),
        (13, 15, "stages[0].actions[1].flow", "E008"),
        (17, 9, "stages[1].actions[0].robott", "S001"),
    ]
    assert all(p.file == str(path) and p.severity == "error" for p in err.problems)
    text = str(err)
    assert text.startswith(f"8 problems in definition {path}")
    assert f"{path}:4:6: error: invalid duration '3 wrking days'" in text
    assert f"{path}:9:34: error: invalid condition: function calls are not allowed" in text
    assert "unknown calendar 'ofice'" in text
    assert "did you mean 'robot'?" in text


def test_error_example_in_the_format_docs_is_current() -> None:
    doc = (ROOT / "docs" / "yaml-format.md").read_text(encoding="utf-8")
    section = doc.split("## What is refused", 1)[1]
    source = re.search(r"```yaml\n(.*?)```", section, re.S)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert source is not None and shown is not None
    with pytest.raises(DefinitionError) as caught:
        model_from_yaml(source.group(1), "processes/claim.yaml")
    assert str(caught.value) + "\n" == shown.group(1)


def test_schema_and_semantic_problems_are_reported_together() -> None:
    found = errors(HEAD + "colour: red\ndue: 4x\n" + STAGES)
    assert [(p.line, p.code) for p in found] == [(4, "S001"), (5, "E001")]


def test_YAML_problems_stop_before_the_schema() -> None:
    found = errors(HEAD + "id: again\n" + STAGES)
    assert [p.code for p in found] == ["Y008"]


# -- semantic checks, one by one -----------------------------------------------------------------


def test_bad_durations_everywhere() -> None:
    text = (
        HEAD
        + "due: 3 weeks\nfeedback_window: 1.5h\nstages:\n  - name: A\n    actions:\n"
        + ("      - {id: a, due: soon}\n")
    )
    found = errors(text)
    assert [(p.path, p.code) for p in found] == [
        ("due", "E001"),
        ("feedback_window", "E001"),
        ("stages[0].actions[0].due", "E001"),
    ]
    assert "weeks are not a unit" in found[0].message


def test_R2_feedback_window_is_wall_clock() -> None:
    problem = one_error(HEAD + "feedback_window: 2 working days\n" + STAGES)
    assert problem.path == "feedback_window"
    assert "wall-clock" in problem.message


def test_RW3_condition_errors_point_into_the_condition() -> None:
    text = HEAD + "stages:\n  - name: A\n    condition: 'x > 1 and y.z'\n    actions: [{id: a}]\n"
    problem = one_error(text)
    assert problem.code == "E002"
    assert problem.message.startswith("invalid condition:")
    # value starts at column 16 with a quote; 'y.z' is at offset 10 of the condition
    assert (problem.line, problem.column) == (6, 27)


@pytest.mark.parametrize("condition", ["__import__('os')", "open('f')", "a.b", "lambda: 1", "(a"])
def test_RW3_unsafe_or_broken_conditions_are_refused(condition: str) -> None:
    text = HEAD + f'stages:\n  - name: A\n    condition: "{condition}"\n    actions: [{{id: a}}]\n'
    assert one_error(text).code == "E002"


def test_unknown_calendar_lists_the_defined_ones() -> None:
    problem = one_error(HEAD + "calendar: london\n" + STAGES)
    assert problem.message == "unknown calendar 'london' (defined: office)"
    assert (problem.line, problem.column) == (4, 11)


def test_calendar_problems() -> None:
    text = (
        HEAD
        + (
            "calendars:\n"
            "  uk:\n"
            "    timezone: Europe/Londn\n"
            "    hours: {mon: '09:00-08:00', tue: ['09:00-12:00', '25:00-26:00'], wed: nine}\n"
            "    holidays: [2026-02-30, '2026-13-01']\n"
            "    country: XX\n"
            "  de:\n"
            "    country: DE\n"
            "    subdivision: ZZ\n"
            "  lone:\n"
            "    subdivision: ENG\n"
            "  idle:\n"
            "    hours: {mon: [], sun: []}\n"
        )
        + STAGES
    )
    found = errors(text)
    assert [(p.line, p.path, p.code) for p in found] == [
        (6, "calendars.uk.timezone", "E005"),
        (7, "calendars.uk.hours.mon", "E004"),
        (7, "calendars.uk.hours.tue[1]", "E004"),
        (7, "calendars.uk.hours.wed", "E004"),
        (8, "calendars.uk.holidays[0]", "E006"),
        (8, "calendars.uk.holidays[1]", "E006"),
        (9, "calendars.uk.country", "E007"),
        (12, "calendars.de.subdivision", "E007"),
        (14, "calendars.lone.subdivision", "E007"),
        (16, "calendars.idle.hours", "E004"),
    ]
    messages = [p.message for p in found]
    assert "unknown time zone 'Europe/Londn'" in messages[0]
    assert "end must be after the start" in messages[1]
    assert messages[4] == "'2026-02-30' is not a real date"
    assert "unknown country 'XX'" in messages[6]
    assert messages[7] == "unknown subdivision 'ZZ' of country 'DE'"
    assert messages[8] == "a subdivision needs a country"
    assert messages[9] == "the calendar has no working hours"


def test_country_codes_are_not_case_sensitive() -> None:
    text = HEAD + "calendar: uk\ncalendars:\n  uk: {country: gb, subdivision: ENG}\n" + STAGES
    assert model_from_yaml(text, "d.yaml").calendars[0].country == "gb"


def test_A1_flow_false_needs_manual_launch() -> None:
    text = HEAD + (
        "stages:\n  - name: A\n    actions:\n      - {id: a}\n      - {id: b, flow: false}\n"
    )
    problem = one_error(text)
    assert (problem.line, problem.path, problem.code) == (8, "stages[0].actions[1].flow", "E008")
    assert "manual_launch: true" in problem.message


def test_stage_without_flow_actions_is_empty() -> None:
    text = HEAD + (
        "stages:\n  - name: A\n    actions: []\n  - name: B\n    actions:\n"
        "      - {id: b, flow: false, manual_launch: true}\n"
    )
    found = errors(text)
    assert [(p.line, p.path, p.code) for p in found] == [
        (6, "stages[0].actions", "E009"),
        (9, "stages[1].actions", "E009"),
    ]
    assert found[0].message.startswith("stage 'A' has no actions")
    assert found[1].message.startswith("stage 'B' has no action in the flow")


def test_duplicate_action_ids_across_stages_and_duplicate_stage_names() -> None:
    text = HEAD + (
        "stages:\n  - name: A\n    actions: [{id: a}]\n  - name: A\n    actions: [{id: a}]\n"
    )
    found = errors(text)
    assert [(p.line, p.path, p.code) for p in found] == [
        (7, "stages[1].name", "E011"),
        (8, "stages[1].actions[0].id", "E010"),
    ]
    assert found[1].message == "duplicate action id 'a' (first used at stages[0].actions[0])"


def test_duplicate_list_entries() -> None:
    text = (
        HEAD
        + (
            "more_info_reasons: [Docs, Report, Docs]\n"
            "defect_categories: [x, x]\n"
            "required_contacts: [primary, primary]\n"
            "subcases: [k, k]\n"
            "email_routes:\n  - {mailbox: a@x.example}\n  - {mailbox: A@X.example}\n"
        )
        + STAGES
    )
    found = errors(text)
    assert [(p.path, p.code) for p in found] == [
        ("more_info_reasons[2]", "E014"),
        ("defect_categories[1]", "E014"),
        ("required_contacts[1]", "E014"),
        ("subcases[1]", "E014"),
        ("email_routes[1].mailbox", "E014"),
    ]
    assert found[0].message == "duplicate reason 'Docs' (first at more_info_reasons[0])"


SUBCASE = HEAD + "subcases: [fraud_check]\nstages:\n  - name: A\n    actions:\n"


def test_SC5_subcase_step_must_be_permitted() -> None:
    text = HEAD + "stages:\n  - name: A\n    actions:\n      - {id: a, subcase: fraud_check}\n"
    problem = one_error(text)
    assert (problem.line, problem.column, problem.code) == (7, 26, "E013")
    assert problem.message == "sub-case process 'fraud_check' is not listed in 'subcases' (SC5)"


def test_SC5_permitted_subcase_step_loads() -> None:
    model = model_from_yaml(SUBCASE + "      - {id: a, subcase: fraud_check}\n", "d.yaml")
    assert model.stages[0].actions[0].subcase == "fraud_check"
    assert model.settings.subcases == ("fraud_check",)


def test_SC5_unknown_processes_only_checked_when_known_processes_given() -> None:
    text = SUBCASE + "      - {id: a, subcase: fraud_check}\n"
    assert model_from_yaml(text, "d.yaml", known_processes=None).id == "claim"
    found = errors(text, known_processes={"other"})
    assert [(p.path, p.code) for p in found] == [
        ("subcases[0]", "E012"),
        ("stages[0].actions[0].subcase", "E012"),
    ]
    assert model_from_yaml(text, "d.yaml", known_processes=["fraud_check"]).id == "claim"


def test_SC5_the_process_itself_counts_as_known() -> None:
    text = HEAD + "subcases: [claim]\n" + STAGES
    assert model_from_yaml(text, "d.yaml", known_processes=()).settings.subcases == ("claim",)


def test_C1_subcase_step_must_be_a_flow_step_and_not_a_robot() -> None:
    text = SUBCASE + (
        "      - {id: a}\n"
        "      - {id: b, subcase: fraud_check, flow: false, manual_launch: true}\n"
        "      - {id: c, subcase: fraud_check, robot: true}\n"
    )
    found = errors(text)
    assert [(p.path, p.code) for p in found] == [
        ("stages[0].actions[1].flow", "E015"),
        ("stages[0].actions[2].robot", "E015"),
    ]


def test_parallel_stage_with_subcase_step_is_fine() -> None:
    text = HEAD + (
        "subcases: [k]\nstages:\n  - name: A\n    parallel: true\n"
        "    actions:\n      - {id: a}\n      - {id: b, subcase: k}\n"
    )
    assert model_from_yaml(text, "d.yaml").stages[0].parallel is True


def test_semantic_checks_survive_wrong_types() -> None:
    text = HEAD + (
        "due: [4h]\ncalendar: 3\ncalendars: [x]\nsubcases: fraud\nmore_info_reasons: {a: 1}\n"
        "email_routes: [3, {mailbox: [x]}]\n"
        "stages:\n  - 3\n  - name: [x]\n    condition: 5\n    actions: {id: a}\n"
        "  - name: B\n    actions: [3, {id: 4, due: 5, flow: 'no', subcase: 6}]\n"
    )
    found = errors(text)
    assert found
    assert all(p.code.startswith("S") for p in found)


# -- robustness ----------------------------------------------------------------------------------

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from(
        ["", "x", "4h", "office", "a > 1", "09:00-17:00", "GB", "fraud_check", "2026-12-25", "a(b"]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "name", "due", "flow", "actions", "hours", "mon", "x"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)
KEYS = st.sampled_from(
    [
        "due",
        "calendar",
        "calendars",
        "feedback_window",
        "records_count",
        "subcases",
        "email_routes",
        "schedules",
        "stages",
        "more_info_reasons",
        "version",
        "id",
        "name",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=4))
def test_any_changed_definition_loads_or_gives_definition_error(
    changes: dict[str, object],
) -> None:
    data = yaml.safe_load(CLAIM)
    data.update(changes)
    text = yaml.safe_dump(data, sort_keys=False)
    try:
        model = model_from_yaml(text, "fuzz.yaml", known_processes={"fraud_check"})
    except DefinitionError as err:
        assert all(p.file == "fuzz.yaml" and p.line is not None for p in err.problems)
    else:
        assert isinstance(model, ProcessModel)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(CLAIM.splitlines()), max_size=25))
def test_any_mix_of_example_lines_loads_or_gives_definition_error(lines: list[str]) -> None:
    try:
        model_from_yaml("\n".join(lines), "fuzz.yaml")
    except DefinitionError as err:
        assert err.problems


# -- schedules (C1) ------------------------------------------------------------------------------

SCHEDULES = (
    HEAD
    + (
        "schedules:\n"
        "  - {every: 1d, first: 2026-03-02T08:00:00Z, title: Daily reconciliation}\n"
        '  - {every: 7d, first: "2026-03-06T16:00:00+01:00"}\n'
        "  - {every: PT12H, first: 2026-03-06T16:00:00-05:30}\n"
        "  - {every: 120 minutes, first: '2026-03-02T08:00:00.250Z'}\n"
    )
    + STAGES
)


def test_C1_schedules_read_every_first_in_utc_and_title() -> None:
    model = model_from_yaml(SCHEDULES, "d.yaml")
    assert model.settings.schedules == (
        ScheduleDef(
            DueRule(1, DueUnit.DAYS), datetime(2026, 3, 2, 8, tzinfo=UTC), "Daily reconciliation"
        ),
        ScheduleDef(DueRule(7, DueUnit.DAYS), datetime(2026, 3, 6, 15, tzinfo=UTC)),
        ScheduleDef(DueRule(12, DueUnit.HOURS), datetime(2026, 3, 6, 21, 30, tzinfo=UTC)),
        ScheduleDef(DueRule(2, DueUnit.HOURS), datetime(2026, 3, 2, 8, 0, 0, 250000, tzinfo=UTC)),
    )
    assert all(s.first.tzinfo is UTC for s in model.settings.schedules)


def test_C1_schedules_default_to_none() -> None:
    assert model_from_yaml(HEAD + STAGES, "d.yaml").settings.schedules == ()
    assert model_from_yaml(HEAD + "schedules: []\n" + STAGES, "d.yaml").settings.schedules == ()


def test_C1_schedules_every_refusal_is_located() -> None:
    text = (
        HEAD
        + (
            "schedules:\n"
            "  - {every: 1 working day, first: 2026-03-02T08:00:00Z}\n"  # 5
            "  - {every: 0d, first: 2026-03-02T08:00:00Z}\n"  # 6
            "  - {every: 2 weeks, first: 2026-03-02T08:00:00Z}\n"  # 7
            "  - {every: 1d, first: 2026-03-02 08:00:00}\n"  # 8: naive YAML timestamp
            "  - {every: 1d, first: '2026-03-02T08:00:00'}\n"  # 9: naive text
            "  - {every: 1d, first: 2026-03-02}\n"  # 10: a date alone
            "  - {every: 1d, first: '2026-03-02'}\n"  # 11: a date alone, quoted
            "  - {every: 1d, first: soon}\n"  # 12
            "  - {every: 1d, first: 2026-02-30T08:00:00Z}\n"  # 13: no such day
            "  - {every: 1d, first: '0001-01-01T00:00:00+01:00'}\n"  # 14: before year 1 in UTC
            "  - {every: 1d, first: 2026-03-02T08:00:00Z, title: ''}\n"  # 15
            "  - {every: 1d}\n"  # 16
            "  - {every: 24, first: 2026-03-02T08:00:00Z, colour: red}\n"  # 17
            "  - every: 1 working hour\n"  # 18
            "    first: 3\n"  # 19
        )
        + STAGES
    )
    found = errors(text)
    assert [(p.line, p.column, p.path, p.code) for p in found] == [
        (5, 13, "schedules[0].every", "E001"),
        (6, 13, "schedules[1].every", "E001"),
        (7, 13, "schedules[2].every", "E001"),
        (8, 24, "schedules[3].first", "E017"),
        (9, 24, "schedules[4].first", "E017"),
        (10, 24, "schedules[5].first", "E017"),
        (11, 24, "schedules[6].first", "E017"),
        (12, 24, "schedules[7].first", "E017"),
        (13, 24, "schedules[8].first", "E017"),
        (14, 24, "schedules[9].first", "E017"),
        (15, 53, "schedules[10].title", "S005"),
        (16, 5, "schedules[11]", "S002"),
        (17, 13, "schedules[12].every", "S003"),
        (17, 46, "schedules[12].colour", "S001"),
        (18, 12, "schedules[13].every", "E001"),
        (19, 12, "schedules[13].first", "S003"),
    ]
    assert all(p.file == "d.yaml" for p in found)
    messages = [p.message for p in found]
    assert "wall-clock" in messages[0] and "drop 'working', e.g. '1d'" in messages[0]
    assert "greater than zero" in messages[1]
    assert "weeks are not a unit" in messages[2]
    assert "no UTC offset" in messages[3] and "no UTC offset" in messages[4]
    assert "a date alone" in messages[5] and "a date alone" in messages[6]
    assert "not an ISO 8601 date-time" in messages[7]
    assert "not an ISO 8601 date-time" in messages[8]
    assert "out of range" in messages[9]
    assert "missing required key 'first'" in messages[11]
    assert "drop 'working', e.g. '1h'" in messages[14]


def test_C1_schedule_every_and_first_helpers() -> None:
    assert schedule_interval("P1D") == DueRule(1, DueUnit.DAYS)
    with pytest.raises(DurationError, match="wall-clock"):
        schedule_interval("3 working days")
    moment = schedule_start("2026-03-06T16:00:00+01:00")
    assert moment == datetime(2026, 3, 6, 15, tzinfo=UTC) and moment.tzinfo is UTC
    assert schedule_start(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1, tzinfo=UTC)
    for bad in (datetime(2026, 1, 1), date(2026, 1, 1), "2026-01-01T00:00", "x", 3, None):
        with pytest.raises(ValueError):
            schedule_start(bad)
