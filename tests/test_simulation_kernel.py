"""The simulation kernel: case rules on a virtual clock, conservation, calendars, seeds."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.calendars import calendar_for, due_date
from engine.durations import parse_due
from engine.model import BUILTIN_CALENDARS
from engine.simulation.api import replication_seed, simulate
from engine.simulation.fastcal import FastCalendar
from engine.simulation.kernel import SimulationError, run_replication
from engine.simulation.prosimos import import_prosimos
from engine.simulation.results import HOLD_INDEX, ReplicationLog
from engine.simulation.scenario import scenarios_from_source
from engine.simulation.scenario_model import Scenario

ROOT = Path(__file__).resolve().parents[1]
PROSIMOS = ROOT.parent / "shared" / "simulation" / "prosimos"

TWO_STEPS = """
id: two_steps
name: Two steps
version: 1
due: 2 working days
calendar: office
add_wait_time_to_due_date: {add_wait}
subcases: [side]
stages:
  - name: First
    actions:
      - {{id: a, title: Step A}}
  - name: Check
    condition: amount > 100
    actions:
      - {{id: b, title: Step B}}
  - name: Pay
    actions:
      - {{id: c, title: Step C, robot: true}}
"""

SIDE = """
id: side
name: Side work
version: 1
stages:
  - name: Only
    actions:
      - {id: s, title: Side step}
"""

SCENARIO = """
name: kernel test
definitions: [two_steps.yaml, side.yaml]
start: 2026-03-02T09:00:00Z
{bound}
seed: 3
replications: 1
arrivals: {{process: two_steps, interarrival: {{dist: expon, mean: 1h}}, calendar: office}}
resources:
  clerks: {{count: 2, calendar: office, actions: [a, b, c, s]}}
  robot: {{count: 1, robot: true, actions: [c]}}
processes:
  two_steps:
    data: {{amount: {{dist: uniform, low: 0, high: 200}}}}
    durations: {{a: 30m, b: {{dist: expon, mean: 1h}}, c: 5m}}
{extra}
  side:
    durations: {{s: 45m}}
"""


def _scenario(
    tmp_path: Path, *, extra: str = "", bound: str = "cases: 200", add_wait: bool = True
) -> Scenario:
    (tmp_path / "two_steps.yaml").write_text(
        TWO_STEPS.format(add_wait="true" if add_wait else "false")
    )
    (tmp_path / "side.yaml").write_text(SIDE)
    text = SCENARIO.format(bound=bound, extra=extra)
    return scenarios_from_source(text, str(tmp_path / "s.yaml"))[0]


def _rows(log: ReplicationLog, case: int) -> list[tuple[str, float, float, float, int]]:
    acts = log.acts
    return sorted(
        (
            log.activities[acts.activity[i]],
            acts.enable[i],
            acts.start[i],
            acts.end[i],
            acts.outcome[i],
        )
        for i in range(len(acts))
        if acts.case[i] == case
    )


def test_reproducible_same_seed_same_log(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    one = run_replication(scenario, 0, 11)
    two = run_replication(scenario, 0, 11)
    other = run_replication(scenario, 0, 12)
    assert list(one.acts.start) == list(two.acts.start)
    assert list(one.acts.resource) == list(two.acts.resource)
    assert list(one.cases.end) == list(two.cases.end)
    assert list(one.acts.start) != list(other.acts.start)


def test_replications_use_their_own_seeds(tmp_path: Path) -> None:
    result = simulate(_scenario(tmp_path), replications=2, seed=5)
    assert [r.seed for r in result.replications] == [replication_seed(5, 0), replication_seed(5, 1)]
    again = run_replication(_scenario(tmp_path), 1, replication_seed(5, 1))
    assert list(again.acts.end) == list(result.replications[1].acts.end)


def test_conservation_every_case_ends_or_is_open_at_the_horizon(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, bound="horizon: 10d")
    log = run_replication(scenario, 0, 4)
    top = [i for i in range(len(log.cases)) if log.cases.parent[i] == -1]
    finished = [i for i in top if not math.isnan(log.cases.end[i])]
    horizon = log.start + 10 * 86400
    assert log.end == horizon
    assert all(log.cases.arrival[i] <= horizon for i in top)
    assert all(log.cases.end[i] <= horizon for i in finished)
    # WIP bookkeeping agrees: the last change point is the number still open.
    assert log.wip_value[-1] == len(top) - len(finished)
    assert all(end <= horizon for end in log.acts.end)
    # Every finished case completed its flow: A, then C, with B only when amount > 100.
    for case in finished[:50]:
        done = [r[0] for r in _rows(log, case) if r[4] == 0]
        assert done[0] == "Step A" and done[-1] == "Step C"


def test_conservation_with_a_case_count_every_case_finishes(tmp_path: Path) -> None:
    log = run_replication(_scenario(tmp_path), 0, 4)
    top = [i for i in range(len(log.cases)) if log.cases.parent[i] == -1]
    assert len(top) == 200
    assert not any(math.isnan(log.cases.end[i]) for i in top)


def test_calendars_respected_no_work_outside_hours(tmp_path: Path) -> None:
    log = run_replication(_scenario(tmp_path), 0, 9)
    office = FastCalendar.from_definition(BUILTIN_CALENDARS["office"])
    acts = log.acts
    checked = 0
    for i in range(len(acts)):
        pool = log.resources.pool[acts.resource[i]]
        if pool != "clerks" or acts.outcome[i] != 0:
            continue
        assert office.is_working(acts.start[i]) or acts.end[i] == acts.start[i]
        # All the processing time lies inside office hours: no work at night or at weekends.
        assert office.working_between(acts.start[i], acts.end[i]) == pytest.approx(
            acts.processing[i], abs=1e-3
        )
        checked += 1
    assert checked > 300
    # Arrivals only in office hours (the arrival calendar).
    assert all(office.is_working(t) for t in log.cases.arrival if t == t)


def test_C3_due_date_is_arrival_plus_rule_on_the_case_calendar(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    log = run_replication(scenario, 0, 2)
    rule = scenario.processes["two_steps"].model.settings.due  # type: ignore[union-attr]
    assert rule is not None
    office = calendar_for(BUILTIN_CALENDARS["office"])
    for i in range(20):
        if log.cases.parent[i] != -1:
            continue
        arrival = datetime.fromtimestamp(log.cases.arrival[i], UTC)
        assert log.cases.due[i] == pytest.approx(due_date(arrival, rule, office).timestamp())


def test_RW3_stage_condition_branches_on_generated_data(tmp_path: Path) -> None:
    log = run_replication(_scenario(tmp_path), 0, 6)
    with_b = sum(
        1
        for case in range(len(log.cases))
        if log.cases.parent[case] == -1 and any(r[0] == "Step B" for r in _rows(log, case))
    )
    assert 60 < with_b < 140  # amount uniform on 0..200: about half take stage 2


def test_H2_completion_during_a_hold_creates_no_follow_on_action(tmp_path: Path) -> None:
    extra = "    holds: [{kind: until, probability: 1, after: [a], duration: 3h}]\n"
    log = run_replication(_scenario(tmp_path, extra=extra), 0, 1)
    for case in range(10):
        rows = _rows(log, case)
        end_a = next(r[3] for r in rows if r[0] == "Step A")
        nxt = next(r for r in rows if r[0] in ("Step B", "Step C"))
        assert nxt[1] == pytest.approx(end_a + 3 * 3600)  # enabled when the hold ended
        assert log.cases.hold[case * 3 + HOLD_INDEX["until"]] == pytest.approx(3 * 3600)


def test_H4_more_info_pauses_the_sla_only_with_add_wait_time(tmp_path: Path) -> None:
    extra = "    holds: [{kind: more_info, probability: 1, after: [a], duration: 20h}]\n"
    (tmp_path / "on").mkdir()
    (tmp_path / "off").mkdir()
    paused = run_replication(_scenario(tmp_path / "on", extra=extra), 0, 1)
    running = run_replication(_scenario(tmp_path / "off", extra=extra, add_wait=False), 0, 1)
    office = calendar_for(BUILTIN_CALENDARS["office"])
    rule = parse_due("2 working days")
    for case in range(5):
        shift = paused.cases.sla_paused[case]
        assert shift > 0
        assert running.cases.sla_paused[case] == 0
        arrival = datetime.fromtimestamp(paused.cases.arrival[case], UTC)
        first_due = due_date(arrival, rule, office).timestamp()
        assert paused.cases.due[case] == pytest.approx(first_due + shift)
        assert running.cases.due[case] == pytest.approx(first_due)


def test_RW8_rework_closes_open_actions_and_restarts_the_flow(tmp_path: Path) -> None:
    extra = "    rework: [{after: c, probability: 0.5, stage: 1}]\n"
    log = run_replication(_scenario(tmp_path, extra=extra), 0, 3)
    reworked = [i for i in range(len(log.cases)) if log.cases.reworks[i] > 0]
    assert reworked
    for case in reworked[:10]:
        done = [r[0] for r in sorted(_rows(log, case), key=lambda r: r[3]) if r[4] == 0]
        # A ... C, then the flow restarts at stage 1: A again, and ends with C.
        assert done.count("Step A") == log.cases.reworks[case] + 1
        assert done.count("Step C") == log.cases.reworks[case] + 1


def test_SC1_parent_resolves_only_after_its_subcases(tmp_path: Path) -> None:
    extra = "    subcases: [{after: a, process: side, probability: 1}]\n"
    log = run_replication(_scenario(tmp_path, extra=extra), 0, 3)
    children = [i for i in range(len(log.cases)) if log.cases.parent[i] >= 0]
    assert len(children) == 200
    for child in children:
        parent = log.cases.parent[child]
        assert log.cases.end[parent] >= log.cases.end[child]
        assert log.cases.arrival[child] >= log.cases.arrival[parent]


def test_S3_S4_robot_refusals_and_failures_go_to_a_person(tmp_path: Path) -> None:
    extra = "    robots: {c: {failure: 0.3, refusal: 0.3}}\n"
    log = run_replication(_scenario(tmp_path, extra=extra), 0, 8)
    acts = log.acts
    failed = [i for i in range(len(acts)) if acts.outcome[i] == 1]
    refused = [i for i in range(len(acts)) if acts.outcome[i] == 2]
    assert failed and refused
    assert all(log.resources.pool[acts.resource[i]] == "robot" for i in failed + refused)
    for i in failed + refused:
        retry = [
            j
            for j in range(len(acts))
            if acts.case[j] == acts.case[i]
            and acts.activity[j] == acts.activity[i]
            and acts.outcome[j] == 0
        ]
        assert len(retry) == 1
        assert log.resources.pool[acts.resource[retry[0]]] == "clerks"
        assert acts.enable[retry[0]] == acts.end[i]


def test_scenario_that_cannot_run_is_refused_before_any_event(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    import dataclasses

    params = dict(scenario.params)
    params["two_steps"] = dataclasses.replace(params["two_steps"], durations={})
    broken = dataclasses.replace(scenario, params=params)
    with pytest.raises(SimulationError) as err:
        run_replication(broken, 0, 1)
    text = str(err.value)
    assert "'a' of process 'two_steps' has no duration" in text
    assert "'b' of process 'two_steps' has no duration" in text


@pytest.mark.skipif(not PROSIMOS.is_dir(), reason="../shared/simulation/prosimos not present")
def test_prosimos_credit_scenario_runs_with_its_semantics() -> None:
    scenario = import_prosimos(
        PROSIMOS / "Credit_Application_Simulation.bpmn",
        PROSIMOS / "credit_app_stable.json",
        start=datetime(2024, 1, 1, 9, tzinfo=UTC),
        cases=2000,
    )
    log = run_replication(scenario, 0, 1)
    assert len(log.cases) == 2000
    assert not any(math.isnan(e) for e in log.cases.end)
    per_case = len(log.acts) / 2000
    assert 4.0 < per_case < 4.7  # Prosimos writes about 4.3 task events per case


def test_SC1_time_waiting_for_subcases_is_recorded(tmp_path: Path) -> None:
    extra = "    subcases: [{after: c, process: side, probability: 1}]\n"
    log = run_replication(_scenario(tmp_path, extra=extra), 0, 3)
    cases = log.cases
    for child in range(len(cases)):
        parent = cases.parent[child]
        if parent < 0:
            continue
        # The flow ended with C; the parent then waits for the side case it spawned (SC1).
        end_c = max(
            log.acts.end[i]
            for i in range(len(log.acts))
            if log.acts.case[i] == parent and log.activities[log.acts.activity[i]] == "Step C"
        )
        assert cases.end[parent] == cases.end[child]
        assert cases.subcase_wait[parent] == pytest.approx(cases.end[child] - end_c)
    assert all(cases.subcase_wait[c] == 0 for c in range(len(cases)) if cases.parent[c] >= 0)


def test_reproducible_same_seed_same_event_log_file(tmp_path: Path) -> None:
    from engine.simulation.eventlog import write_csv, write_xes

    scenario = _scenario(tmp_path, extra="    robots: {c: {failure: 0.2, refusal: 0.2}}\n")
    for run in ("one", "two"):
        log = simulate(scenario, replications=1, seed=21).replications[0]
        write_csv(log, tmp_path / f"{run}.csv")
        write_xes(log, tmp_path / f"{run}.xes")
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    assert (tmp_path / "one.xes").read_bytes() == (tmp_path / "two.xes").read_bytes()
    other = simulate(scenario, replications=1, seed=22).replications[0]
    write_csv(other, tmp_path / "other.csv")
    assert (tmp_path / "other.csv").read_bytes() != (tmp_path / "one.csv").read_bytes()


def test_a_condition_that_cannot_be_evaluated_stops_the_run_naming_case_and_gateway(
    tmp_path: Path,
) -> None:
    scenario = _scenario(tmp_path)
    import dataclasses

    from engine.simulation.scenario_model import DataGenerator

    params = dict(scenario.params)
    params["two_steps"] = dataclasses.replace(
        params["two_steps"], data=(DataGenerator("amount", value="lots"),)
    )
    with pytest.raises(SimulationError) as err:
        run_replication(dataclasses.replace(scenario, params=params), 0, 1)
    text = str(err.value)
    assert "case 0 of process 'two_steps'" in text
    assert "condition 'amount > 100'" in text and "Stage_2_entry" in text


def test_durations_per_pool_override_the_action_duration(tmp_path: Path) -> None:
    import dataclasses

    from engine.simulation.distributions import Distribution
    from engine.simulation.scenario_model import ResourcePool

    scenario = _scenario(tmp_path)
    seniors = ResourcePool("seniors", 1, ("two_steps.a",), calendar="office")
    params = dict(scenario.params)
    params["two_steps"] = dataclasses.replace(
        params["two_steps"], pool_durations={"a": {"seniors": Distribution("fix", (600.0,))}}
    )
    faster = dataclasses.replace(scenario, params=params, resources=(*scenario.resources, seniors))
    log = run_replication(faster, 0, 5)
    acts, pools = log.acts, log.resources.pool
    by_pool: dict[str, set[float]] = {}
    for i in range(len(acts)):
        if log.activities[acts.activity[i]] == "Step A" and acts.outcome[i] == 0:
            by_pool.setdefault(pools[acts.resource[i]], set()).add(round(acts.processing[i]))
    assert by_pool["seniors"] == {600}  # 10 minutes when a senior does it
    assert by_pool["clerks"] == {1800}  # the action's own 30 minutes otherwise


def test_work_in_hand_at_the_horizon_counts_as_busy_time(tmp_path: Path) -> None:
    # Mon 09:00 + 51 h = Wed 12:00: the clerks are in the middle of their work.
    log = run_replication(_scenario(tmp_path, bound="horizon: 51h"), 0, 4)
    acts, res = log.acts, log.resources
    in_hand = []
    for r in range(len(res.name)):
        finished = sum(acts.processing[i] for i in range(len(acts)) if acts.resource[i] == r)
        assert finished <= res.busy[r] + 1e-6
        assert res.busy[r] <= res.available[r] + 1e-6
        in_hand.append(res.busy[r] - finished)
    assert max(in_hand) > 60  # at least one clerk had started an action not finished by noon
