"""Scenario files: loading, variants, and every kind of bad input with its location."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stage_ids import claim_stage, task_of

from engine.builder.loader import load_definition
from engine.errors import DefinitionError, Problem
from engine.model import DueRule, DueUnit
from engine.simulation.distributions import Distribution
from engine.simulation.scenario import (
    SCHEMA_PATH,
    ScenarioError,
    load_scenario,
    load_variants,
    scenario_schema,
    scenarios_from_source,
)
from engine.simulation.scenario_model import (
    DataGenerator,
    HoldSpec,
    ResourcePool,
    ReworkSpec,
    RobotBehaviour,
    Scenario,
    SubcaseSpawn,
)

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
DATA = Path(__file__).parent / "data" / "scenarios"
EXAMPLE = ROOT / "examples" / "claims.scenario.yaml"
WHATIF = ROOT / "examples" / "claims-whatif.scenario.yaml"

BASE = """\
name: Test
definitions: [claim.yaml, fraud_check.yaml]
start: 2026-03-02T09:00:00Z
cases: 10
arrivals: {process: claim, interarrival: {dist: expon, mean: 20m}, calendar: office}
resources:
  clerks: {count: 2, calendar: office, actions: [register, assess, pay, notify]}
  investigators: {count: 1, actions: [screen_history, review_flags, investigate]}
processes:
  claim:
    durations: {register: 20m, assess: 2h, pay: 1m, notify: 1m}
  fraud_check:
    durations: {screen_history: 1m, review_flags: 1h, investigate: 4h}
"""


def load(text: str) -> list[Scenario]:
    """Scenarios of ``text``, definitions looked up in processes/."""
    return scenarios_from_source(text, "test.scenario.yaml", base_dir=PROCESSES)


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load(text)
    return list(caught.value.problems)


def line_of(text: str, fragment: str, after: int = 0) -> int:
    """Number (from 1) of the first line holding ``fragment``, after line ``after``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > after and fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the text")


def only(problems: list[Problem], path: str) -> Problem:
    """The one problem at ``path``."""
    found = [p for p in problems if p.path == path]
    assert len(found) == 1, problems
    return found[0]


def assert_problem(text: str, path: str, fragment: str, message: str) -> Problem:
    """``text`` is refused with a problem at ``path``, on the line holding ``fragment``."""
    problem = only(problems_of(text), path)
    assert message in problem.message
    assert problem.file == "test.scenario.yaml"
    assert problem.line == line_of(text, fragment)
    return problem


# -- valid scenarios -------------------------------------------------------------------------


def test_base_scenario_is_built() -> None:
    [scenario] = load(BASE)
    assert scenario.name == "Test" and scenario.variant == "base"
    assert scenario.start == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert (scenario.cases, scenario.horizon, scenario.seed, scenario.replications) == (
        10,
        None,
        0,
        1,
    )
    assert set(scenario.processes) == set(scenario.params) == {"claim", "fraud_check"}
    assert scenario.arrivals.process == "claim"
    assert scenario.arrivals.interarrival == Distribution("expon", (1200.0,))
    assert scenario.arrivals.calendar == "office"
    assert scenario.resources == (
        ResourcePool(
            "clerks", 2, ("claim.register", "claim.assess", "claim.pay", "claim.notify"), "office"
        ),
        ResourcePool(
            "investigators",
            1,
            ("fraud_check.screen_history", "fraud_check.review_flags", "fraud_check.investigate"),
        ),
    )
    assert set(scenario.calendars) == {"office"}
    assert scenario.params["claim"].durations["register"] == Distribution("fix", (1200.0,))
    assert scenario.processes["claim"].model is not None


def test_full_example_loads_with_every_parameter() -> None:
    [scenario] = load_variants(EXAMPLE)
    assert scenario.name == "Claims baseline"
    assert (scenario.cases, scenario.seed, scenario.replications) == (1000, 42, 5)
    claim = scenario.params["claim"]
    assert claim.data[:2] == (
        DataGenerator("amount", distribution=Distribution("lognorm", (3000.0, 2500.0))),
        DataGenerator(
            "prior_claims", distribution=Distribution("uniform", (0.0, 5.0)), integer=True
        ),
    )
    assert claim.data[2:] == (
        DataGenerator("channel", choices=(("web", 0.6), ("phone", 0.4))),
        DataGenerator("vip", probability=0.1),
        DataGenerator("country", value="FR"),
    )
    assert claim.durations["register"] == Distribution("norm", (1200.0, 300.0), minimum=60.0)
    assert claim.holds == (
        HoldSpec("more_info", 0.2, Distribution("expon", (86400.0,)), ("register",)),
    )
    assert claim.rework == (ReworkSpec("assess", 0.1, action="register"),)
    assert claim.robots == {"pay": RobotBehaviour(failure=0.05)}
    assert claim.robot_default == RobotBehaviour(failure=0.02, refusal=0.01)
    robot = next(pool for pool in scenario.resources if pool.robot)
    assert robot.calendar is None  # around the clock
    fraud = scenario.params["fraud_check"]
    assert fraud.durations["investigate"] == Distribution(
        "empirical", values=(7200.0, 14400.0, 28800.0), weights=(5.0, 3.0, 1.0)
    )


def test_whatif_example_loads_base_then_each_variant() -> None:
    scenarios = load_variants(WHATIF)
    assert [s.variant for s in scenarios] == [
        "base",
        "one more clerk",
        "one more investigator",
        "no wait-time credit",
        "long days",
        "assess fewer claims",
    ]
    assert {s.name for s in scenarios} == {"Claims what-if"}
    assert scenarios[0].horizon == 30 * 86400 and scenarios[0].cases is None
    assert scenarios[0].params["claim"].subcases == (SubcaseSpawn("assess", "fraud_check", 0.05),)
    assert scenarios[0].calendars["long_days"].timezone == "Europe/Paris"


def test_variant_one_more_clerk_changes_only_the_count() -> None:
    base, clerk = load_variants(WHATIF)[:2]
    pools = {pool.name: pool for pool in clerk.resources}
    assert pools["clerks"].count == 6
    base_clerks = next(pool for pool in base.resources if pool.name == "clerks")
    assert pools["clerks"].actions == base_clerks.actions
    assert pools["clerks"].calendar == base_clerks.calendar == "office"
    assert [p for p in clerk.resources if p.name != "clerks"] == [
        p for p in base.resources if p.name != "clerks"
    ]
    assert clerk.params == base.params and clerk.arrivals == base.arrivals


def test_H4_variant_overrides_add_wait_time_to_due_date() -> None:
    variants = {s.variant: s for s in load_variants(WHATIF)}
    base, no_credit = variants["base"], variants["no wait-time credit"]
    assert base.processes["claim"].model is not None
    assert base.processes["claim"].model.settings.add_wait_time_to_due_date is True
    model = no_credit.processes["claim"].model
    assert model is not None and model.settings.add_wait_time_to_due_date is False
    assert no_credit.params["claim"].settings == {"add_wait_time_to_due_date": False}


def test_variant_calendar_and_branches() -> None:
    scenarios = {s.variant: s for s in load_variants(WHATIF)}
    long_days = {p.name: p.calendar for p in scenarios["long days"].resources}
    assert long_days == {"clerks": "long_days", "investigators": "long_days", "payment_robot": None}
    assess = claim_stage("Assessment")
    assert scenarios["assess fewer claims"].params["claim"].branches == {
        assess.gateway: ((assess.enter, 0.5), (assess.skip, 0.5))
    }


def test_load_scenario_picks_a_variant_by_name() -> None:
    assert load_scenario(WHATIF).variant == "base"
    assert load_scenario(WHATIF, variant="long days").variant == "long days"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(WHATIF, variant="two more clerks")
    [problem] = caught.value.problems
    assert "no variant named 'two more clerks'" in problem.message
    assert problem.path == "variants" and problem.line is not None


def test_a_distribution_in_a_variant_replaces_the_base_one() -> None:
    text = BASE + (
        "variants:\n"
        "  - name: fixed\n"
        "    arrivals: {interarrival: {dist: fix, value: 15m}}\n"
        "    processes: {claim: {durations: {assess: {dist: uniform, low: 1h, high: 2h}}}}\n"
    )
    base, fixed = load(text)
    assert fixed.arrivals.interarrival == Distribution("fix", (900.0,))
    assert fixed.arrivals.calendar == "office"  # the rest of arrivals merged
    assert fixed.params["claim"].durations["assess"] == Distribution("uniform", (3600.0, 7200.0))
    assert fixed.params["claim"].durations["register"] == base.params["claim"].durations["register"]


def test_settings_overrides_are_read_like_definitions() -> None:
    text = BASE.replace(
        "    durations: {register",
        "    settings: {due: 2 working days, feedback_window: 1d, calendar: office}\n"
        "    durations: {register",
        1,
    )
    [scenario] = load(text)
    settings = scenario.params["claim"].settings
    assert settings == {
        "due": DueRule(2, DueUnit.DAYS, working=True),
        "feedback_window": DueRule(1, DueUnit.DAYS),
        "calendar": "office",
    }
    model = scenario.processes["claim"].model
    assert model is not None and model.settings.due == DueRule(2, DueUnit.DAYS, working=True)


def test_start_may_be_a_string_with_an_offset() -> None:
    text = BASE.replace("start: 2026-03-02T09:00:00Z", "start: '2026-03-02T10:00:00+01:00'")
    assert load(text)[0].start == datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_bare_action_of_one_process_is_qualified_and_qualified_ids_are_kept() -> None:
    text = BASE.replace("[register, assess, pay, notify]", "[claim.register, assess, pay, notify]")
    assert load(text)[0].resources[0].actions[:2] == ("claim.register", "claim.assess")


# -- one error listing everything ------------------------------------------------------------

MANY = DATA / "many_mistakes.scenario.yaml"


def test_many_problems_are_reported_together_with_their_lines() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_variants(MANY)
    error = caught.value
    assert isinstance(error, DefinitionError)
    text = MANY.read_text()
    found = {(p.path, p.line) for p in error.problems}
    expected = {
        ("start", line_of(text, "start:")),
        ("horizon", line_of(text, "horizon:")),
        ("replications", line_of(text, "replications:")),
        ("arrivals.process", line_of(text, "arrivals:")),
        ("arrivals.interarrival.mean", line_of(text, "arrivals:")),
        ("arrivals.calendar", line_of(text, "arrivals:")),
        ("calendars.closed.hours", line_of(text, "closed:")),
        ("resources.clerks.calendar", line_of(text, "clerks:")),
        ("resources.clerks.actions[1]", line_of(text, "clerks:")),
        ("processes.claim.durations.register.std", line_of(text, "std: -5m")),
        ("processes.claim.durations.asses", line_of(text, "asses: 2h")),
        ("processes.claim.durations.pay.low", line_of(text, "low: 2m")),
        ("processes.claim.branches.Assessment", line_of(text, "branches:")),
        ("processes.claim.branches.Gateway_x", line_of(text, "branches:")),
        ("processes.claim.holds[0].kind", line_of(text, "vacation")),
        ("processes.claim.rework[0].stage", line_of(text, "stage: 4")),
        ("processes.claim.rework[1].action", line_of(text, "second_opinion")),
        ("processes.claim.rework[2]", line_of(text, "after: assess, probability: 0.1}")),
        ("processes.claim.subcases[0].process", line_of(text, "subcases:")),
        ("processes.claim.robots.default", line_of(text, "robots: {default")),
        ("processes.fraud_chek", line_of(text, "fraud_chek")),
    }
    assert expected <= found
    assert all(p.file == str(MANY) for p in error.problems)
    assert str(error).startswith(f"{len(error.problems)} problems in scenario")


# -- bad input, one class at a time ----------------------------------------------------------


def test_missing_definition_file_is_located_at_its_entry() -> None:
    text = BASE.replace("fraud_check.yaml]", "fraud.yaml]")
    problems = problems_of(text)
    problem = only(problems, "definitions[1]")
    assert "no such definition file" in problem.message and problem.line == 2
    assert not any("has no resource" in p.message for p in problems)  # not misleading


def test_invalid_definition_keeps_its_own_problems() -> None:
    text = BASE.replace(
        "fraud_check.yaml]", "fraud_check.yaml, ../tests/data/scenarios/broken_definition.yaml]"
    )
    problems = problems_of(text)
    assert "is invalid (1 problem" in only(problems, "definitions[2]").message
    own = [p for p in problems if p.file.endswith("broken_definition.yaml")]
    assert [(p.line, p.path) for p in own] == [(5, "due")]


def test_process_defined_twice() -> None:
    text = BASE.replace("fraud_check.yaml]", "fraud_check.yaml, claim.yaml]")
    assert "already defined by definitions[0]" in only(problems_of(text), "definitions[2]").message


def test_unknown_process_in_arrivals() -> None:
    text = BASE.replace("{process: claim,", "{process: claims,")
    assert_problem(text, "arrivals.process", "arrivals:", "unknown process 'claims'")


def test_unknown_process_key() -> None:
    text = BASE + "  onboarding: {}\n"
    assert_problem(text, "processes.onboarding", "onboarding", "unknown process")


def test_unknown_action_in_durations() -> None:
    text = BASE.replace("pay: 1m, notify", "pay: 1m, payy: 1m, notify")
    assert_problem(
        text, "processes.claim.durations.payy", "payy", "unknown action 'payy' of process 'claim'"
    )


def test_unknown_action_in_a_pool() -> None:
    text = BASE.replace("[register, assess, pay, notify]", "[register, assess, pay, notify, nap]")
    assert_problem(text, "resources.clerks.actions[4]", "nap", "no process of the scenario")


def test_unknown_qualified_action_in_a_pool() -> None:
    text = BASE.replace("[register, assess, pay, notify]", "[register, assess, pay, claim.nap]")
    assert_problem(text, "resources.clerks.actions[3]", "claim.nap", "unknown action 'nap'")


def test_ambiguous_bare_action_in_a_pool() -> None:
    text = BASE.replace(
        "fraud_check.yaml]", "fraud_check.yaml, ../tests/data/scenarios/letters.yaml]"
    ).replace("notify]", "notify, write]")
    problem = assert_problem(
        text, "resources.clerks.actions[3]", "clerks:", "action 'notify' is ambiguous"
    )
    assert "'claim.notify' or 'letters.notify'" in problem.message


def test_every_action_of_the_flow_needs_a_duration() -> None:
    text = BASE.replace(", notify: 1m}", "}")
    problem = assert_problem(text, "processes.claim.durations", "durations: {register", "")
    assert problem.message.startswith("action 'notify' of process 'claim' has no duration")


def test_every_action_of_the_flow_needs_a_resource() -> None:
    text = BASE.replace("[screen_history, review_flags, investigate]", "[review_flags]")
    problems = problems_of(text)
    missing = [p for p in problems if "has no resource" in p.message]
    assert {p.message.split(" has")[0] for p in missing} == {
        "action 'screen_history' of process 'fraud_check'",
        "action 'investigate' of process 'fraud_check'",
    }
    assert {(p.path, p.line) for p in missing} == {("resources", line_of(text, "resources:"))}


def test_out_of_flow_and_subcase_steps_need_nothing() -> None:
    """claim's request_documents/second_opinion (flow: false) and fraud_check (a sub-case
    step) have no duration and no pool in BASE, which loads."""
    assert load(BASE)[0].params["claim"].durations.keys() == {"register", "assess", "pay", "notify"}


def test_pool_with_no_working_hours_is_refused() -> None:
    text = BASE.replace(
        "resources:\n", "calendars:\n  night: {hours: {sun: []}}\nresources:\n"
    ).replace("investigators: {count: 1,", "investigators: {count: 1, calendar: night,")
    assert_problem(
        text,
        "resources.investigators.calendar",
        "investigators",
        "resource pool 'investigators' has no working hours in calendar 'night'",
    )


def test_unknown_calendar_of_a_pool() -> None:
    text = BASE.replace("{count: 2, calendar: office,", "{count: 2, calendar: ofice,")
    assert_problem(text, "resources.clerks.calendar", "clerks", "did you mean 'office'")


def test_resource_count_must_be_at_least_one() -> None:
    text = BASE.replace("{count: 2,", "{count: 0,")
    assert_problem(text, "resources.clerks.count", "clerks", "at least 1")


def test_robot_that_may_fail_needs_a_person_pool() -> None:
    text = (
        BASE.replace("[register, assess, pay, notify]", "[register, assess]")
        .replace(
            "resources:\n", "resources:\n  bot: {count: 1, robot: true, actions: [pay, notify]}\n"
        )
        .replace("  fraud_check:\n", "    robots: {pay: {failure: 0.1}}\n  fraud_check:\n")
    )
    problems = problems_of(text)
    problem = only(problems, "processes.claim.robots.pay")
    assert problem.message.startswith("robots may fail or refuse action 'pay'")
    assert "no person pool" in problem.message and problem.line == line_of(text, "robots: {pay")
    # notify has no failure rate: robots alone are fine for it
    assert not any("'notify'" in p.message for p in problems)


def test_robot_keys_must_be_actions() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    robots: {default: {refusal: 0}, payy: {failure: 0.1}}\n  fraud_check:\n",
    )
    assert_problem(text, "processes.claim.robots.payy", "payy", "unknown action 'payy'")


def with_branches(branches: str) -> str:
    """BASE with ``branches`` (a flow mapping) for process claim."""
    return BASE.replace("  fraud_check:\n", f"    branches: {branches}\n  fraud_check:\n")


def test_branch_gateway_must_be_an_exclusive_gateway() -> None:
    task = task_of(load_definition(PROCESSES / "claim.yaml"), "assess")
    text = with_branches(f"{{{task}: {{x: 1}}}}")
    assert_problem(text, f"processes.claim.branches.{task}", "branches", "no exclusive gateway")


def test_branch_flow_must_leave_the_gateway() -> None:
    assess, fraud = claim_stage("Assessment"), claim_stage("Fraud screening")
    text = with_branches(f"{{{assess.gateway}: {{{assess.enter}: 0.5, {fraud.enter}: 0.5}}}}")
    problem = assert_problem(
        text,
        f"processes.claim.branches.{assess.gateway}.{fraud.enter}",
        "branches",
        f"gateway {assess.gateway!r} has no outcome {fraud.enter!r}",
    )
    assert repr(assess.enter) in problem.message and repr(assess.skip) in problem.message


def test_branch_probabilities_must_add_up_to_one() -> None:
    assess = claim_stage("Assessment")
    text = with_branches(f"{{{assess.gateway}: {{{assess.enter}: 0.5, {assess.skip}: 0.4}}}}")
    assert_problem(text, f"processes.claim.branches.{assess.gateway}", "branches", "add up to 0.9")


def test_branch_probabilities_close_enough_to_one_are_fine() -> None:
    assess = claim_stage("Assessment")
    text = with_branches(
        f"{{{assess.gateway}: {{{assess.enter}: 0.7, {assess.skip}: 0.30000000000000004}}}}"
    )
    branches = load(text)[0].params["claim"].branches
    assert branches[assess.gateway][0] == (assess.enter, 0.7)


def test_probabilities_must_be_between_0_and_1() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    holds: [{kind: paused, probability: 1.5, duration: 1h}]\n  fraud_check:\n",
    )
    assert_problem(text, "processes.claim.holds[0].probability", "holds", "maximum of 1")


def test_H1_hold_kind_must_be_known_and_after_actions_exist() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    holds:\n"
        "      - {kind: holiday, probability: 0.5, duration: 1h}\n"
        "      - {kind: until, probability: 0.5, after: [register, regster], duration: 1h}\n"
        "      - {kind: paused, probability: 0.5, after: asess, duration: -1h}\n"
        "  fraud_check:\n",
    )
    problems = problems_of(text)
    assert "'holiday'" in only(problems, "processes.claim.holds[0].kind").message
    assert "'regster'" in only(problems, "processes.claim.holds[1].after[1]").message
    assert "'asess'" in only(problems, "processes.claim.holds[2].after").message
    assert "negative" in only(problems, "processes.claim.holds[2].duration").message


def test_RW5_rework_target_stage_must_be_before_the_action() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    rework:\n"
        "      - {after: assess, probability: 0.1, stage: 3}\n"
        "      - {after: assess, probability: 0.1, stage: 9}\n"
        "      - {after: register, probability: 0.1, action: pay}\n"
        "      - {after: pay, probability: 0.1, stage: 1, action: register}\n"
        "  fraud_check:\n",
    )
    problems = problems_of(text)
    assert "(RW5)" in only(problems, "processes.claim.rework[0].stage").message
    assert "there is no stage 9" in only(problems, "processes.claim.rework[1].stage").message
    third = only(problems, "processes.claim.rework[2].action")
    assert "(RW5)" in third.message and "(stage 4)" in third.message
    assert "exactly one of" in only(problems, "processes.claim.rework[3]").message
    assert third.line == line_of(text, "after: register")


def test_RW4_out_of_flow_action_is_no_rework_point() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    rework: [{after: pay, probability: 0.1, action: second_opinion}]\n  fraud_check:\n",
    )
    assert_problem(text, "processes.claim.rework[0].action", "rework", "(RW4)")


def test_rework_is_read() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    rework: [{after: pay, probability: 0.05, stage: 3}]\n  fraud_check:\n",
    )
    assert load(text)[0].params["claim"].rework == (ReworkSpec("pay", 0.05, stage=3),)


def test_SC5_subcase_must_be_permitted_and_a_scenario_process() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    subcases:\n"
        "      - {after: assess, process: claim, probability: 0.1}\n"
        "      - {after: assess, process: audit, probability: 0.1}\n"
        "      - {after: asess, process: fraud_check, probability: 0.1}\n"
        "  fraud_check:\n",
    )
    problems = problems_of(text)
    assert "(SC5)" in only(problems, "processes.claim.subcases[0].process").message
    unknown = [p for p in problems if p.path == "processes.claim.subcases[1].process"]
    assert any("unknown process 'audit'" in p.message for p in unknown)
    assert "'asess'" in only(problems, "processes.claim.subcases[2].after").message


def test_data_generators() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    data:\n"
        "      a: {dist: norm, mean: 10, std: 2, integer: true}\n"
        "      b: {choice: {x: 1, y: 3}}\n"
        "      c: {probability: 0.25}\n"
        "      d: {value: null}\n"
        "      e: 7\n"
        "  fraud_check:\n",
    )
    data = {g.name: g for g in load(text)[0].params["claim"].data}
    assert data["a"] == DataGenerator(
        "a", distribution=Distribution("norm", (10.0, 2.0)), integer=True
    )
    assert data["b"].choices == (("x", 1.0), ("y", 3.0))
    assert data["c"].probability == 0.25
    assert data["d"] == DataGenerator("d") and data["e"] == DataGenerator("e", value=7)


def test_bad_data_generators() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    data:\n"
        "      a: {probability: 0.1, value: true}\n"
        "      b: {choice: {x: 0, y: 0}}\n"
        "      c: {dist: expon, mean: -1}\n"
        "      d: {choice: {x: 1}, integer: true}\n"
        "      e: {}\n"
        "  fraud_check:\n",
    )
    problems = problems_of(text)
    assert "exactly one of" in only(problems, "processes.claim.data.a").message
    assert "must not all be 0" in only(problems, "processes.claim.data.b.choice").message
    assert "greater than 0" in only(problems, "processes.claim.data.c.mean").message
    assert (
        "'integer' does not go with 'choice'"
        in only(problems, "processes.claim.data.d.integer").message
    )
    assert "exactly one of" in only(problems, "processes.claim.data.e").message


def test_bad_settings_override() -> None:
    text = BASE.replace(
        "  fraud_check:\n",
        "    settings: {due: 3 fortnights, calendar: lunar, feedback_window: 2 working days}\n"
        "  fraud_check:\n",
    )
    problems = problems_of(text)
    assert "fortnights" in only(problems, "processes.claim.settings.due").message
    assert "unknown calendar 'lunar'" in only(problems, "processes.claim.settings.calendar").message
    assert "wall-clock" in only(problems, "processes.claim.settings.feedback_window").message


def test_unknown_setting_is_a_schema_problem() -> None:
    text = BASE.replace("  fraud_check:\n", "    settings: {keep_with_me: true}\n  fraud_check:\n")
    assert_problem(text, "processes.claim.settings.keep_with_me", "keep_with_me", "unknown key")


def test_cases_or_horizon_exactly_one() -> None:
    neither = problems_of(BASE.replace("cases: 10\n", ""))
    assert "give 'cases'" in only(neither, "").message
    both = BASE.replace("cases: 10\n", "cases: 10\nhorizon: 5d\n")
    assert_problem(both, "horizon", "horizon", "not both")
    bad = BASE.replace("cases: 10\n", "horizon: soon\n")
    assert_problem(bad, "horizon", "horizon", "expected a duration")
    [scenario] = load(BASE.replace("cases: 10\n", "horizon: 1h30m\n"))
    assert (scenario.cases, scenario.horizon) == (None, 5400.0)


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2026-03-02T09:00:00", "needs a time zone"),
        ("2026-03-02", "needs a time of day and a time zone"),
        ("'next monday'", "not a date and time"),
    ],
)
def test_start_must_be_timezone_aware(start: str, message: str) -> None:
    text = BASE.replace("start: 2026-03-02T09:00:00Z", f"start: {start}")
    assert_problem(text, "start", "start:", message)


def test_seed_and_replications_types() -> None:
    text = BASE.replace("cases: 10\n", "cases: 10\nseed: abc\nreplications: 0\n")
    problems = problems_of(text)
    assert "whole number" in only(problems, "seed").message
    assert "at least 1" in only(problems, "replications").message


def test_unknown_top_level_key_suggests_the_right_one() -> None:
    text = BASE.replace("cases: 10\n", "cases: 10\nreplicatons: 3\n")
    assert_problem(text, "replicatons", "replicatons", "did you mean 'replications'")


# -- variants --------------------------------------------------------------------------------


def test_problem_in_a_variant_points_at_the_variant() -> None:
    text = BASE + (
        "variants:\n"
        "  - name: fewer\n"
        "    resources: {clerks: {count: 0}}\n"
        "  - name: typo\n"
        "    resources: {night: {count: 1, actions: [regster]}}\n"
    )
    problems = problems_of(text)
    count = only(problems, "variants[0].resources.clerks.count")
    assert count.message.startswith("variant 'fewer': ") and count.line == line_of(text, "count: 0")
    typo = only(problems, "variants[1].resources.night.actions[0]")
    assert "'regster'" in typo.message and typo.line == line_of(text, "regster")


def test_variant_that_breaks_a_base_value_points_at_the_base_line() -> None:
    """A variant taking 'pay' off its only pool: the problem names the variant and points
    at the base's 'resources'."""
    text = BASE + (
        "variants:\n"
        "  - name: no pay\n"
        "    resources: {clerks: {actions: [register, assess, notify]}}\n"
    )
    problem = only(problems_of(text), "resources")
    assert problem.line == line_of(text, "resources:")
    assert problem.message.startswith("variant 'no pay': action 'pay' of process 'claim'")


def test_variant_names_are_unique_and_not_base() -> None:
    text = BASE + (
        "variants:\n  - {name: a, seed: 1}\n  - {name: a, seed: 2}\n  - {name: base, seed: 3}\n"
    )
    problems = problems_of(text)
    assert "duplicate variant name 'a'" in only(problems, "variants[1].name").message
    assert "may not be called 'base'" in only(problems, "variants[2].name").message


def test_base_problems_are_not_repeated_for_each_variant() -> None:
    text = BASE.replace("pay: 1m,", "pay: 1m, payy: 1m,") + "variants:\n  - {name: a, seed: 1}\n"
    assert len([p for p in problems_of(text) if "payy" in p.message]) == 1


# -- files -----------------------------------------------------------------------------------


def test_missing_empty_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.scenario.yaml")
    empty = tmp_path / "empty.scenario.yaml"
    empty.write_text("")
    with pytest.raises(ScenarioError, match="the file is empty"):
        load_scenario(empty)
    broken = tmp_path / "broken.scenario.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(broken)
    assert caught.value.problems[0].file == str(broken)


def test_definitions_are_relative_to_the_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "scenarios").mkdir()
    for name in ("claim.yaml", "fraud_check.yaml"):
        shutil.copy(PROCESSES / name, tmp_path / "defs" / name)
    scenario = tmp_path / "scenarios" / "s.scenario.yaml"
    scenario.write_text(
        BASE.replace(
            "[claim.yaml, fraud_check.yaml]", "[../defs/claim.yaml, ../defs/fraud_check.yaml]"
        )
    )
    loaded = load_scenario(scenario)
    assert loaded.file == str(scenario)
    assert loaded.processes["claim"].source == str(tmp_path / "defs" / "claim.yaml")


# -- the schema ------------------------------------------------------------------------------


def test_schema_is_valid_and_shares_the_calendar_of_definitions() -> None:
    from jsonschema import Draft202012Validator

    schema = scenario_schema()
    Draft202012Validator.check_schema(schema)
    process = json.loads((SCHEMA_PATH.parent / "process.schema.json").read_text())
    for name in ("calendar", "time_range"):
        assert schema["$defs"][name] == process["$defs"][name]
    assert schema["$defs"]["due_rule"] == process["$defs"]["duration"]


def test_examples_point_editors_at_the_schema() -> None:
    for example in (EXAMPLE, WHATIF):
        first = example.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/scenario.schema.json"


def test_the_documented_example_loads() -> None:
    doc = (ROOT / "docs" / "scenario-format.md").read_text()
    block = doc.split("## A complete example\n\n```yaml\n", 1)[1].split("```", 1)[0]
    [base, clerk] = scenarios_from_source(block, "doc.scenario.yaml", base_dir=ROOT / "examples")
    assert clerk.variant == "one more clerk"
    assert set(base.calendars) == {"office", "night"}
    assess = claim_stage("Assessment")
    assert base.params["claim"].branches == {
        assess.gateway: ((assess.enter, 0.3), (assess.skip, 0.7))
    }
    assert base.params["claim"].pool_durations == {
        "pay": {"payment_robot": Distribution("fix", (10.0,))}
    }


def test_scenario_calendars_replace_process_calendars_also_for_due_dates() -> None:
    text = BASE.replace(
        "resources:\n",
        "calendars:\n"
        "  office: {hours: {mon: 08:00-20:00}}\n"
        "  weekend: {hours: {sat: 10:00-16:00}}\n"
        "resources:\n",
    ).replace(
        "    durations: {register", "    settings: {calendar: weekend}\n    durations: {register", 1
    )
    [scenario] = load(text)
    office = scenario.calendars["office"]
    assert [(p.weekday, p.start.hour, p.end.hour) for p in office.periods] == [(0, 8, 20)]
    claim = scenario.processes["claim"].model
    fraud = scenario.processes["fraud_check"].model
    assert claim is not None and fraud is not None
    assert claim.settings.calendar == "weekend"
    assert claim.calendar("weekend") == scenario.calendars["weekend"]
    assert fraud.calendar("office") == office  # fraud_check's case calendar is 'office'


# -- durations per pool ----------------------------------------------------------------------

POOLED = BASE.replace(
    "  investigators:",
    "  seniors: {count: 1, calendar: office, actions: [assess]}\n  investigators:",
).replace(
    "    durations: {register: 20m, assess: 2h, pay: 1m, notify: 1m}\n",
    "    durations: {register: 20m, pay: 1m, notify: 1m}\n"
    "    pool_durations:\n"
    "      assess: {seniors: {dist: gamma, mean: 1h, std: 30m}, clerks: 3h}\n",
)


def test_pool_durations_are_read_and_time_an_action_without_its_own_duration() -> None:
    [scenario] = load(POOLED)
    claim = scenario.params["claim"]
    assert claim.pool_durations == {
        "assess": {
            "seniors": Distribution("gamma", (3600.0, 1800.0)),
            "clerks": Distribution("fix", (10800.0,)),
        }
    }
    assert "assess" not in claim.durations  # every pool doing it has its own: enough
    assert scenario.params["fraud_check"].pool_durations == {}


def test_pool_durations_may_complete_an_action_duration() -> None:
    text = POOLED.replace("{register: 20m, pay", "{register: 20m, assess: 2h, pay").replace(
        ", clerks: 3h}", "}"
    )
    claim = load(text)[0].params["claim"]
    assert claim.durations["assess"] == Distribution("fix", (7200.0,))  # for the clerks
    assert claim.pool_durations == {"assess": {"seniors": Distribution("gamma", (3600.0, 1800.0))}}


def test_an_action_needs_its_own_duration_unless_every_pool_doing_it_has_one() -> None:
    text = POOLED.replace(", clerks: 3h}", "}")
    problem = assert_problem(text, "processes.claim.durations", "durations: {register", "")
    assert problem.code == "M012"
    assert problem.message == (
        "action 'assess' of process 'claim' has no duration: add it under "
        "processes.claim.durations, or give pool 'clerks' one under "
        "processes.claim.pool_durations.assess"
    )


@pytest.mark.parametrize(
    ("old", "new", "path", "fragment", "code", "message"),
    [
        (
            "      assess: {seniors",
            "      asses: {seniors: 1h}\n      assess: {seniors",
            "processes.claim.pool_durations.asses",
            "asses: {seniors",
            "M005",
            "unknown action 'asses' of process 'claim': did you mean 'assess'?",
        ),
        (
            "clerks: 3h}",
            "clerks: 3h, senior: 2h}",
            "processes.claim.pool_durations.assess.senior",
            "senior: 2h",
            "M019",
            "unknown resource pool 'senior': did you mean 'seniors'?",
        ),
        (
            "clerks: 3h}",
            "clerks: 3h, investigators: 2h}",
            "processes.claim.pool_durations.assess.investigators",
            "investigators: 2h",
            "M019",
            "resource pool 'investigators' does not do action 'assess' of process 'claim': "
            "add 'claim.assess' to its actions (pools doing it: 'clerks', 'seniors')",
        ),
        (
            "std: 30m}",
            "std: -30m}",
            "processes.claim.pool_durations.assess.seniors.std",
            "std: -30m",
            "D001",
            "",
        ),
        (
            "clerks: 3h}",
            "clerks: soon}",
            "processes.claim.pool_durations.assess.clerks",
            "clerks: soon",
            "D001",
            "soon",
        ),
        (
            "      assess: {seniors: {dist: gamma, mean: 1h, std: 30m}, clerks: 3h}",
            "      assess: 3h",
            "processes.claim.pool_durations.assess",
            "assess: 3h",
            "S003",
            "expected a mapping",
        ),
    ],
    ids=["unknown action", "unknown pool", "pool not doing it", "bad std", "bad duration", "type"],
)
def test_bad_pool_durations_are_located(
    old: str, new: str, path: str, fragment: str, code: str, message: str
) -> None:
    text = POOLED.replace(old, new)
    assert text != POOLED
    problem = assert_problem(text, path, fragment, message)
    assert problem.code == code, problem
    assert "M012" not in {p.code for p in problems_of(text)}  # assess is still timed


def test_a_variant_patches_pool_durations_one_distribution_at_a_time() -> None:
    text = POOLED + (
        "variants:\n"
        "  - name: faster seniors\n"
        "    processes: {claim: {pool_durations: {assess: {seniors: {dist: fix, value: 45m}}}}}\n"
        "  - name: register by pool\n"
        "    processes: {claim: {pool_durations: {register: {clerks: 10m}}}}\n"
    )
    base, faster, register = load(text)
    assert faster.params["claim"].pool_durations == {
        "assess": {  # the gamma replaced whole (its std not kept), the clerks' kept
            "seniors": Distribution("fix", (2700.0,)),
            "clerks": Distribution("fix", (10800.0,)),
        }
    }
    assert register.params["claim"].pool_durations == {
        **base.params["claim"].pool_durations,
        "register": {"clerks": Distribution("fix", (600.0,))},
    }
    assert register.params["claim"].durations == base.params["claim"].durations


def test_a_bad_pool_duration_in_a_variant_points_at_the_variant() -> None:
    text = POOLED + (
        "variants:\n"
        "  - name: juniors\n"
        "    processes: {claim: {pool_durations: {assess: {juniors: 2h}}}}\n"
        "  - name: no seniors on assess\n"
        "    resources: {seniors: {actions: [register]}}\n"
    )
    problems = problems_of(text)
    junior = only(problems, "variants[0].processes.claim.pool_durations.assess.juniors")
    assert junior.message.startswith("variant 'juniors': unknown resource pool 'juniors'")
    assert junior.line == line_of(text, "juniors: 2h")
    # taking assess away from the seniors leaves the base's duration for them without a use
    seniors = only(problems, "processes.claim.pool_durations.assess.seniors")
    assert seniors.message.startswith(
        "variant 'no seniors on assess': resource pool 'seniors' does not do action 'assess'"
    )
    assert seniors.line == line_of(text, "assess: {seniors")


def test_a_yaml_scenario_with_pool_durations_runs_them_per_pool() -> None:
    """End to end: each pool's processing time of 'assess' follows its own distribution,
    and the other actions keep theirs."""
    from engine.simulation.kernel import run_replication

    text = (
        POOLED.replace("cases: 10", "cases: 60")
        .replace(
            "{seniors: {dist: gamma, mean: 1h, std: 30m}, clerks: 3h}",
            "{seniors: {dist: uniform, low: 10m, high: 20m}, clerks: 50m}",
        )
        .replace(
            "    durations: {register",
            "    data: {amount: 2000, prior_claims: 0}\n    durations: {register",
            1,
        )
    )
    [scenario] = load(text)
    log = run_replication(scenario, 0, 7)
    acts, pools = log.acts, log.resources.pool
    label = scenario.processes["claim"].labels
    times: dict[tuple[str, str], list[float]] = {}
    for i in range(len(acts)):
        if acts.outcome[i] == 0:
            key = (log.activities[acts.activity[i]], pools[acts.resource[i]])
            times.setdefault(key, []).append(acts.processing[i])
    seniors = times[(label["assess"], "seniors")]
    clerks = times[(label["assess"], "clerks")]
    assert len(seniors) >= 5 and len(clerks) >= 5
    assert all(600 <= t <= 1200 for t in seniors)
    assert 800 < sum(seniors) / len(seniors) < 1000  # uniform 10-20 minutes: mean 15
    assert {round(t) for t in clerks} == {3000}
    assert {round(t) for t in times[(label["register"], "clerks")]} == {1200}
