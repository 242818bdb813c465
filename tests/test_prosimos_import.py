"""Importing Prosimos 2.x scenarios (``engine.simulation.prosimos``).

The reference scenarios are read from ``../shared/simulation/prosimos`` next to the repository
(never copied into it); the tests skip when that folder is absent.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.errors import DefinitionError, InvalidArgument, Problem
from engine.model import WorkingPeriod
from engine.simulation.distributions import Distribution
from engine.simulation.graph import NodeKind
from engine.simulation.prosimos import ARRIVAL_CALENDAR, import_prosimos

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "simulation" / "prosimos"
CREDIT_BPMN = SHARED / "Credit_Application_Simulation.bpmn"
STABLE = SHARED / "credit_app_stable.json"
ASIS = SHARED / "credit_app_asis.json"
AND_BPMN = SHARED / "AND_join.bpmn"
AND_JSON = SHARED / "AND_join.json"

pytestmark = pytest.mark.skipif(
    not STABLE.is_file(), reason=f"Prosimos reference scenarios not found in {SHARED}"
)

START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)  # a Monday

PID = "sid-e138ad92-53db-4474-a117-cf3a5074182e"
CHECK_HISTORY = "sid-4B24111F-B305-4608-9E12-744B47C44D0D"
CHECK_INCOME = "sid-D048D99D-F549-43B8-8ACB-5AE153B12B0F"
FEEDBACK = "sid-3744BAA1-9382-4FAB-B7FE-B6A333F10D25"
NOTIFY = "sid-622A1118-4766-43B2-A004-7DADE521982D"
ASSESS = "sid-02577CBF-ABA3-4EFD-9480-E1DFCF238B1C"
OFFER = "sid-503A048D-6344-446A-8D67-172B164CF8FA"
DECISION = "sid-64FC5B46-47E5-4940-A0AF-ECE87483967D"
FEEDBACK_GATEWAY = "sid-FACFF0AE-6A1B-47AC-B289-F5E60CB12B2A"
BIG = 1_000_000_000.0


def weekdays(first: int, last: int, begin: time, end: time) -> tuple[WorkingPeriod, ...]:
    return tuple(WorkingPeriod(d, begin, end) for d in range(first, last + 1))


OFFICE = weekdays(0, 4, time(9), time(17))


def stable_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(STABLE.read_text(encoding="utf-8"))
    return data


def import_modified(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], bpmn: Path = CREDIT_BPMN
) -> Any:
    """Import the stable Credit scenario after ``change`` edited its JSON."""
    data = stable_json()
    change(data)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return import_prosimos(bpmn, path, start=START, cases=100)


def problems_of(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        import_modified(tmp_path, change)
    return list(caught.value.problems)


def arrival(name: str, *values: object) -> Callable[[dict[str, Any]], None]:
    """A change setting the arrival distribution."""

    def change(data: dict[str, Any]) -> None:
        data["arrival_time_distribution"] = {
            "distribution_name": name,
            "distribution_params": [{"value": v} for v in values],
        }

    return change


def task_entry(data: dict[str, Any], task: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(
        e for e in data["task_resource_distribution"] if e["task_id"] == task
    )
    return entry


# -- the reference scenarios ---------------------------------------------------------------------


def test_credit_stable_imports_process_pools_and_calendars() -> None:
    scenario = import_prosimos(CREDIT_BPMN, STABLE, start=START, cases=10_000, seed=7)
    assert scenario.name == "credit_app_stable"
    assert (scenario.cases, scenario.horizon, scenario.seed, scenario.replications) == (
        10_000,
        None,
        7,
        1,
    )
    assert scenario.start == START
    assert scenario.file == str(STABLE)
    [process] = scenario.processes.values()
    assert process.id == PID and process.model is None
    tasks = [n.id for n in process.graph.nodes.values() if n.kind == NodeKind.TASK]
    assert sorted(process.task_actions) == sorted(tasks)
    assert all(k == v for k, v in process.task_actions.items())
    assert process.labels[CHECK_HISTORY] == "Check credit history"
    assert process.labels[ASSESS] == "Assess application"
    pools = {p.name: p for p in scenario.resources}
    assert {n: (p.count, p.calendar, p.cost_per_hour) for n, p in pools.items()} == {
        "Clerk_1": (1, "office", 25.0),
        "Clerk_2": (1, "office", 25.0),
        "Credit_Officer_1": (1, "credit_officer", 50.0),
        "Credit_Officer_2": (1, "credit_officer", 50.0),
        "System": (1, "24_7", 0.0),
    }
    assert pools["Credit_Officer_2"].actions == (f"{PID}.{NOTIFY}", f"{PID}.{OFFER}")
    assert pools["Clerk_1"].actions == (f"{PID}.{CHECK_HISTORY}",)
    assert pools["System"].actions == (f"{PID}.{FEEDBACK}",)
    assert not any(p.robot for p in pools.values())
    cals = scenario.calendars
    assert set(cals) == {"office", "credit_officer", "24_7", ARRIVAL_CALENDAR}
    assert cals["office"].periods == OFFICE and cals["office"].timezone == "UTC"
    assert cals["credit_officer"].periods == OFFICE
    # "23:59:59" means through midnight (time(0) ends a period at the end of the day).
    assert cals["24_7"].periods == weekdays(0, 6, time(0), time(0))
    assert scenario.arrivals.calendar == ARRIVAL_CALENDAR
    assert cals[ARRIVAL_CALENDAR].periods == OFFICE


def test_credit_stable_durations_branches_and_arrivals() -> None:
    scenario = import_prosimos(CREDIT_BPMN, STABLE, start=START, cases=10)
    params = scenario.params[PID]
    assert params.process == PID
    assert params.durations == {
        CHECK_HISTORY: Distribution("norm", (600.0, 120.0), 0.0, BIG, resample=True),
        CHECK_INCOME: Distribution("norm", (1200.0, 240.0), 0.0, BIG, resample=True),
        FEEDBACK: Distribution("fix", (0.0,)),
        NOTIFY: Distribution("norm", (600.0, 120.0), 0.0, BIG, resample=True),
        ASSESS: Distribution("expon", (1200.0,), 0.0, BIG, resample=True),
        OFFER: Distribution("norm", (600.0, 120.0), 0.0, BIG, resample=True),
    }
    assert params.branches == {
        DECISION: (
            ("sid-8AE82A7B-75EE-401B-8ABE-279FB05A3946", 0.2),
            ("sid-789335C6-205C-4A03-9AD6-9655893C1FFB", 0.8),
        ),
        FEEDBACK_GATEWAY: (
            ("sid-AFEC7074-8C12-43E2-A1FE-87D5CEF395C8", 0.2),
            ("sid-AE313010-5715-438C-AD61-1C02F03DCF77", 0.8),
        ),
    }
    assert scenario.arrivals.process == PID
    assert scenario.arrivals.interarrival == Distribution(
        "expon", (1800.0,), 0.0, BIG, resample=True
    )


def test_credit_asis_officers_work_afternoons() -> None:
    scenario = import_prosimos(CREDIT_BPMN, ASIS, start=START, horizon=86_400.0)
    assert scenario.horizon == 86_400.0 and scenario.cases is None
    assert scenario.calendars["credit_officer"].periods == weekdays(0, 4, time(13), time(17))
    assert scenario.calendars["office"].periods == OFFICE


def test_and_join_imports_pool_of_ten_and_reads_prosimos_parameter_order() -> None:
    scenario = import_prosimos(AND_BPMN, AND_JSON, start=START, cases=5)
    [process] = scenario.processes.values()
    assert process.id == "Process_1"
    assert sorted(process.labels.values()) == ["A", "B", "C", "D", "E", "F", "G"]
    join = process.graph.nodes["Gateway_1pf78gi"]
    assert join.kind == NodeKind.AND and join.incoming == 6
    [pool] = scenario.resources
    # "amount": "10" (a string) -> 10; "assignedTasks": [] is ignored as Prosimos ignores it:
    # the pool does every task whose distribution names it.
    assert pool.name == "sid-0164ba6f-fecc-43d9-9f2b-8f1a02d20113_1"
    assert pool.count == 10
    assert sorted(pool.actions) == sorted(f"Process_1.{t}" for t in process.task_actions)
    calendar = scenario.calendars[pool.calendar or ""]
    assert calendar.periods == OFFICE  # "09:00:00.000" - "17:00:00.000"
    # expon takes [mean, min, max]: min + Exp(mean - min), redrawn within [min, max]; the
    # fourth value (3600) is ignored, as in Prosimos.
    expected = Distribution("expon", (1500.0, 150.0), 150.0, 1500.0, resample=True)
    assert set(scenario.params["Process_1"].durations.values()) == {expected}
    assert scenario.params["Process_1"].branches == {}
    # fix takes [value]: the extra values are ignored.
    assert scenario.arrivals.interarrival == Distribution("fix", (1200.0,))


def test_import_agrees_with_prosimos_own_parser() -> None:
    parser = pytest.importorskip("prosimos.simulation_properties_parser")
    resources_map, _, element_distribution, task_resource, arrival_calendar, *_ = (
        parser.parse_json_sim_parameters(str(STABLE))
    )
    scenario = import_prosimos(CREDIT_BPMN, STABLE, start=START, cases=10)
    assert {p.name for p in scenario.resources} == set(resources_map)
    for pool in scenario.resources:
        assert resources_map[pool.name].calendar_id == pool.calendar
    durations = scenario.params[PID].durations
    assert set(durations) == set(task_resource)
    for task, per_resource in task_resource.items():
        for theirs in per_resource.values():
            ours = durations[task]
            assert ours.kind == theirs.type.value
            assert ours.params[0] == theirs.mean
            if ours.kind == "norm":
                assert ours.params[1] == theirs.std
            if ours.kind != "fix":
                assert (ours.minimum, ours.maximum) == (theirs.min, theirs.max)
    theirs_arrival = element_distribution["arrivalTime"]
    assert scenario.arrivals.interarrival.params[0] == theirs_arrival.mean
    assert arrival_calendar.total_weekly_work == 5 * 8 * 3600


# -- distributions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (arrival("fix", 60), Distribution("fix", (60.0,))),
        (arrival("uniform", 10, 70), Distribution("uniform", (10.0, 70.0))),
        # negative samples are never drawn: the lower bound is at least 0
        (arrival("uniform", -10, 70), Distribution("uniform", (0.0, 70.0))),
        (
            arrival("norm", 600, 60, -5, 900),
            Distribution("norm", (600.0, 60.0), 0.0, 900.0, resample=True),
        ),
        (
            arrival("expon", 300, 0, 5000),
            Distribution("expon", (300.0,), 0.0, 5000.0, resample=True),
        ),
        # lognorm and gamma take [mean, variance, min, max]; ours take (mean, std)
        (
            arrival("lognorm", 400, 1600, 0, 9000),
            Distribution("lognorm", (400.0, 40.0), 0.0, 9000.0, resample=True),
        ),
        (
            arrival("gamma", 400, 2500, 1, 9000),
            Distribution("gamma", (400.0, 50.0), 1.0, 9000.0, resample=True),
        ),
        # numbers written as strings are read as Prosimos's float() reads them
        (
            arrival("norm", "600", "60", "0", "900"),
            Distribution("norm", (600.0, 60.0), 0.0, 900.0, resample=True),
        ),
    ],
)
def test_distribution_parameters_follow_pix_framework(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], expected: Distribution
) -> None:
    scenario = import_modified(tmp_path, change)
    assert scenario.arrivals.interarrival == expected


def test_expon_with_a_minimum_keeps_the_mean(tmp_path: Path) -> None:
    # Prosimos draws min + Exp(mean - min); the contract's expon has no shift: same mean.
    scenario = import_modified(tmp_path, arrival("expon", 1500, 150, 3600))
    dist = scenario.arrivals.interarrival
    assert (dist.kind, dist.minimum, dist.maximum) == ("expon", 150.0, 3600.0)
    assert dist.mean() == pytest.approx(1500.0)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (arrival("triang", 1, 2, 3), "'triang' is not accepted"),
        (arrival("histogram_sampling"), "is not accepted"),
        (arrival("norm", 600, 60), "norm takes 4 parameters (mean, std, min, max), found 2"),
        (arrival("norm", 600, -1, 0, 10), "norm std -1 must be positive"),
        (arrival("norm", 600, 0, 0, 10), "use fix for a constant"),
        (arrival("expon", 0, 0, 10), "expon mean 0 must be positive"),
        (arrival("expon", 10, 10, 100), "its scale mean - min is 0"),
        (arrival("uniform", 5, 5), "uniform needs 0 <= min < max"),
        (arrival("fix", -3), "fix value -3 is negative"),
        (arrival("gamma", 100, 0, 0, 10), "gamma variance 0 must be positive"),
        (arrival("lognorm", -1, 10, 0, 10), "lognorm mean -1 must be positive"),
        (arrival("norm", 600, 60, 900, 100), "min 900 is greater than max 100"),
        (arrival("norm", "abc", 60, 0, 10), "expected a finite number, found 'abc'"),
        (arrival("norm", 600, True, 0, 10), "expected a finite number, found a boolean"),
    ],
)
def test_bad_distribution_is_located(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    [problem] = problems_of(tmp_path, change)
    assert fragment in problem.message
    assert problem.path.startswith("arrival_time_distribution")
    assert problem.file.endswith("scenario.json")


# -- bad input: every problem at once ------------------------------------------------------------


def test_every_problem_is_reported_at_once_with_its_json_path(tmp_path: Path) -> None:
    def break_everything(data: dict[str, Any]) -> None:
        data["task_resource_distribution"][0]["task_id"] = "no-such-task"
        entry = task_entry(data, ASSESS)
        entry["resources"][0]["distribution_name"] = "weibull"
        data["gateway_branching_probabilities"][0]["gateway_id"] = "no-such-gateway"
        data["gateway_branching_probabilities"][1]["probabilities"][0]["value"] = 0.5
        data["resource_profiles"][1]["resource_list"][0]["calendar"] = "no-such-calendar"
        data["resource_profiles"][2]["resource_list"][0]["amount"] = 0
        data["resource_calendars"][0]["time_periods"][0]["beginTime"] = "25:00"
        data["batch_processing"] = [{"task_id": ASSESS}]

    problems = problems_of(tmp_path, break_everything)
    found = {(p.path, p.message) for p in problems}
    expected_paths = {
        "task_resource_distribution[0].task_id",
        "task_resource_distribution[4].resources[0].distribution_name",
        "gateway_branching_probabilities[0].gateway_id",
        "gateway_branching_probabilities[1].probabilities",
        "resource_profiles[1].resource_list[0].calendar",
        "resource_profiles[2].resource_list[0].amount",
        "resource_calendars[0].time_periods[0].beginTime",
        "batch_processing",
    }
    assert expected_paths <= {path for path, _ in found}, found
    messages = " | ".join(p.message for p in problems)
    assert "task 'no-such-task' is not a task of the BPMN" in messages
    assert "distribution 'weibull' is not accepted" in messages
    assert "gateway 'no-such-gateway' is not in the BPMN" in messages
    assert "sum to 1.3, not 1" in messages
    assert "unknown calendar 'no-such-calendar'" in messages
    assert "amount must be a positive integer, found 0" in messages
    assert "expected a time of day" in messages
    assert "does not support Prosimos's 'batch_processing'" in messages
    # the renamed task and gateway leave a task without duration and a split without odds
    assert f"task {CHECK_HISTORY!r} has no resource and duration" in messages
    assert f"exclusive gateway {DECISION!r} splits but has no branching" in messages
    assert all(p.file == str(tmp_path / "scenario.json") for p in problems)


def test_empty_unsupported_sections_are_ignored(tmp_path: Path) -> None:
    def add_empty(data: dict[str, Any]) -> None:
        for key in ("batch_processing", "case_attributes", "prioritisation_rules"):
            data[key] = []
        data["event_distribution"] = {}

    scenario = import_modified(tmp_path, add_empty)
    assert scenario.cases == 100


@pytest.mark.parametrize(
    "section", ["prioritisation_rules", "case_attributes", "event_distribution", "multitask"]
)
def test_non_empty_unsupported_section_is_refused(tmp_path: Path, section: str) -> None:
    [problem] = problems_of(tmp_path, lambda data: data.update({section: [{"x": 1}]}))
    assert problem.path == section
    assert "does not support" in problem.message


def test_fuzzy_calendars_are_refused(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, lambda data: data.update(model_type="FUZZY"))
    assert problem.path == "model_type"


def test_a_duration_per_task_and_resource(tmp_path: Path) -> None:
    data = json.loads(STABLE.read_text())
    entry = task_entry(data, OFFER)
    other = copy.deepcopy(entry["resources"][0])
    other["resource_id"] = "Credit_Officer_1"
    other["distribution_params"][0]["value"] = 900
    entry["resources"].append(other)
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps(data))
    scenario = import_prosimos(CREDIT_BPMN, params_file, start=START, cases=10)
    params = scenario.params[PID]
    assert params.durations[OFFER] == Distribution("norm", (600.0, 120.0), 0.0, BIG, resample=True)
    assert params.pool_durations == {
        OFFER: {"Credit_Officer_1": Distribution("norm", (900.0, 120.0), 0.0, BIG, resample=True)}
    }
    pools = {p.name: p for p in scenario.resources}
    assert f"{PID}.{OFFER}" in pools["Credit_Officer_1"].actions


def test_same_duration_for_two_resources_gives_both_the_task(tmp_path: Path) -> None:
    def two_resources(data: dict[str, Any]) -> None:
        entry = task_entry(data, OFFER)
        other = copy.deepcopy(entry["resources"][0])
        other["resource_id"] = "Credit_Officer_1"
        entry["resources"].append(other)

    scenario = import_modified(tmp_path, two_resources)
    pools = {p.name: p for p in scenario.resources}
    assert f"{PID}.{OFFER}" in pools["Credit_Officer_1"].actions
    assert f"{PID}.{OFFER}" in pools["Credit_Officer_2"].actions


def test_unknown_resource_and_task_without_resources(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        task_entry(data, OFFER)["resources"][0]["resource_id"] = "Nobody"
        task_entry(data, NOTIFY)["resources"] = []

    problems = problems_of(tmp_path, change)
    assert {p.path for p in problems} == {
        "task_resource_distribution[5].resources[0].resource_id",
        "task_resource_distribution[3].resources",
    }
    assert any("unknown resource 'Nobody'" in p.message for p in problems)


def test_resource_with_no_working_hours(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["resource_calendars"][2]["time_periods"] = []

    [problem] = problems_of(tmp_path, change)
    assert problem.path == "resource_profiles[4].resource_list[0].calendar"
    assert "'System' has no working hours" in problem.message


def test_bad_calendar_entries(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        periods = data["resource_calendars"][0]["time_periods"]
        periods[0]["from"] = "FUNDAY"
        periods.append({"from": "MONDAY", "to": "MONDAY", "beginTime": "17:00", "endTime": "9:00"})
        data["arrival_time_calendar"] = "weekdays"

    problems = problems_of(tmp_path, change)
    assert {p.path for p in problems} == {
        "resource_calendars[0].time_periods[0].from",
        "resource_calendars[0].time_periods[1]",
        "arrival_time_calendar",
    }
    assert any("unknown weekday 'FUNDAY'" in p.message for p in problems)
    assert any("endTime 09:00:00 is not after beginTime 17:00:00" in p.message for p in problems)


def test_gateway_flow_checks(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["gateway_branching_probabilities"][0]["probabilities"][0]["path_id"] = "no-flow"
        data["gateway_branching_probabilities"][1]["gateway_id"] = (
            "sid-6B518C80-2B96-4C95-B6DE-F9E4A75FF191"  # the parallel split
        )

    problems = problems_of(tmp_path, change)
    messages = [p.message for p in problems]
    assert any(f"'no-flow' is not an outgoing flow of gateway {DECISION!r}" in m for m in messages)
    assert any("is a AND node" in m for m in messages)
    assert any(f"{FEEDBACK_GATEWAY!r} splits but has no branching" in m for m in messages)


def test_missing_probability_gets_what_is_left(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        del data["gateway_branching_probabilities"][0]["probabilities"][1]["value"]

    scenario = import_modified(tmp_path, change)
    (_, p1), (_, p2) = scenario.params[PID].branches[DECISION]
    assert (p1, p2) == (0.2, pytest.approx(0.8))


def test_arrival_calendar_defaults_to_first_tasks_resources(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        del data["arrival_time_calendar"]
        data["resource_calendars"][0]["time_periods"][0]["to"] = "SATURDAY"

    scenario = import_modified(tmp_path, change)
    # Clerk_1 and Clerk_2 (the first tasks) both work the "office" calendar, now Mon-Sat.
    assert scenario.calendars[ARRIVAL_CALENDAR].periods == weekdays(0, 5, time(9), time(17))


def test_weekday_ranges_wrap_past_sunday(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["arrival_time_calendar"] = [
            {"from": "saturday", "to": "TUESDAY", "beginTime": "22:00", "endTime": "23:59:59.999"}
        ]

    scenario = import_modified(tmp_path, change)
    assert scenario.calendars[ARRIVAL_CALENDAR].periods == tuple(
        WorkingPeriod(d, time(22), time(0)) for d in (5, 6, 0, 1)
    )


def test_malformed_json_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "resource_profiles": [,]\n}', encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        import_prosimos(CREDIT_BPMN, path, start=START, cases=1)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (2, 25)
    assert problem.file == str(path)


def test_missing_sections_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        import_prosimos(CREDIT_BPMN, path, start=START, cases=1)
    messages = {p.message for p in caught.value.problems}
    for key in (
        "resource_profiles",
        "resource_calendars",
        "task_resource_distribution",
        "gateway_branching_probabilities",
        "arrival_time_distribution",
    ):
        assert f"missing {key!r}" in messages


def test_bpmn_and_json_problems_come_together(tmp_path: Path) -> None:
    bpmn = tmp_path / "inclusive.bpmn"
    text = CREDIT_BPMN.read_text(encoding="utf-8")
    bpmn.write_text(
        text.replace(
            f'<parallelGateway id="{"sid-6B518C80-2B96-4C95-B6DE-F9E4A75FF191"}"',
            '<inclusiveGateway id="sid-6B518C80-2B96-4C95-B6DE-F9E4A75FF191"',
            1,
        ).replace("</parallelGateway>", "</inclusiveGateway>", 1),
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        import_modified(tmp_path, arrival("triang", 1, 2, 3), bpmn=bpmn)
    files = {p.file for p in caught.value.problems}
    assert files == {str(bpmn), str(tmp_path / "scenario.json")}


# -- arguments ------------------------------------------------------------------------------------


def test_calendars_follow_the_start_time_zone() -> None:
    tallinn = datetime(2024, 1, 1, 9, tzinfo=ZoneInfo("Europe/Tallinn"))
    scenario = import_prosimos(CREDIT_BPMN, STABLE, start=tallinn, cases=1)
    assert {c.timezone for c in scenario.calendars.values()} == {"Europe/Tallinn"}
    assert scenario.start == datetime(2024, 1, 1, 7, tzinfo=UTC)
    plus_two = datetime.fromisoformat("2024-01-01T09:00:00+02:00")
    scenario = import_prosimos(CREDIT_BPMN, STABLE, start=plus_two, cases=1)
    assert {c.timezone for c in scenario.calendars.values()} == {"Etc/GMT-2"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": datetime(2024, 1, 1, 9), "cases": 1},
        {"start": START},
        {"start": START, "cases": 1, "horizon": 10.0},
        {"start": START, "cases": 0},
        {"start": START, "horizon": math.inf},
        {"start": START, "cases": 1, "replications": 0},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        import_prosimos(CREDIT_BPMN, STABLE, **kwargs)


def test_unreadable_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as caught:
        import_prosimos(CREDIT_BPMN, tmp_path / "absent.json", start=START, cases=1)
    assert "cannot read the JSON file" in caught.value.problems[0].message


def test_missing_files_are_both_reported(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as err:
        import_prosimos(tmp_path / "nope.bpmn", tmp_path / "nope.json", start=START, cases=10)
    assert [p.file for p in err.value.problems] == [
        str(tmp_path / "nope.bpmn"),
        str(tmp_path / "nope.json"),
    ]
    assert "cannot read the BPMN file" in str(err.value)
    assert "cannot read the JSON file" in str(err.value)
