"""Scenario ``branches`` named by stage and outcome (not only by compiled ids).

The ids are never written literally here: :mod:`stage_ids` reads them from the compiled
definition, so the tests hold whatever ids the compiler gives.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from stage_ids import StageIds, claim_stage

from engine.errors import Problem
from engine.simulation.api import simulate
from engine.simulation.results import SimulationResult
from engine.simulation.scenario import ScenarioError, load_variants, scenarios_from_source
from engine.simulation.scenario_model import Scenario

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
FILE = "branches.scenario.yaml"

BASE = """\
name: Branches
definitions: [claim.yaml, fraud_check.yaml]
start: 2026-03-02T09:00:00Z
cases: 60
seed: 11
arrivals: {process: claim, interarrival: {dist: expon, mean: 20m}, calendar: office}
resources:
  clerks: {count: 2, calendar: office, actions: [register, assess, pay, notify]}
  investigators: {count: 1, actions: [screen_history, review_flags, investigate]}
processes:
  claim:
    data:
      amount: {dist: lognorm, mean: 3000, std: 2500}
      prior_claims: {dist: uniform, low: 0, high: 5, integer: true}
    durations: {register: 20m, assess: 2h, pay: 1m, notify: 1m}
    branches: BRANCHES
  fraud_check:
    durations: {screen_history: 1m, review_flags: 1h, investigate: 4h}
"""


def scenario_text(branches: str) -> str:
    return BASE.replace("BRANCHES", branches)


def load(branches: str) -> list[Scenario]:
    return scenarios_from_source(scenario_text(branches), FILE, base_dir=PROCESSES)


def problems_of(branches: str) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load(branches)
    return list(caught.value.problems)


def assess() -> StageIds:
    return claim_stage("Assessment")


def fraud() -> StageIds:
    return claim_stage("Fraud screening")


def by_ids(ids: StageIds, enter: float, skip: float) -> str:
    return f"{{{ids.gateway}: {{{ids.enter}: {enter}, {ids.skip}: {skip}}}}}"


def run(scenario: Scenario) -> SimulationResult:
    return simulate(scenario, replications=1)


def same_run(a: SimulationResult, b: SimulationResult) -> bool:
    ra, rb = a.replications[0], b.replications[0]
    return (
        list(ra.acts.activity) == list(rb.acts.activity)
        and list(ra.acts.end) == list(rb.acts.end)
        and [repr(x) for x in ra.cases.end] == [repr(x) for x in rb.cases.end]
    )


# -- the forms resolve to the same gateway and flows -----------------------------------------


@pytest.mark.parametrize(
    "named",
    [
        "{Assessment: {enter: 0.3, skip: 0.7}}",
        "{Assessment: {skip: 0.7, enter: 0.3}}",  # the order written does not matter
        "{Assessment: {amount > 1000: 0.3, otherwise: 0.7}}",
        "{Assessment: {'amount  >  1000': 0.3, skip: 0.7}}",  # spaces do not matter
    ],
)
def test_a_stage_named_branch_resolves_to_the_gateway_and_flows(named: str) -> None:
    ids = assess()
    [scenario] = load(named)
    assert scenario.params["claim"].branches == {ids.gateway: ((ids.enter, 0.3), (ids.skip, 0.7))}


def test_outcome_names_also_work_on_a_gateway_named_by_id() -> None:
    ids = assess()
    [by_name] = load(f"{{{ids.gateway}: {{enter: 0.3, otherwise: 0.7}}}}")
    [by_id] = load(by_ids(ids, 0.3, 0.7))
    assert by_name.params == by_id.params


def test_a_stage_named_branch_gives_the_same_run_as_the_id_branch() -> None:
    ids = fraud()
    [by_name] = load("{Fraud screening: {enter: 0.8, skip: 0.2}}")
    [by_id] = load(by_ids(ids, 0.8, 0.2))
    [by_condition] = load(
        "{Fraud screening: {amount > 5000 or prior_claims >= 3: 0.8, otherwise: 0.2}}"
    )
    [reordered] = load(f"{{{ids.gateway}: {{{ids.skip}: 0.2, {ids.enter}: 0.8}}}}")
    first = run(by_id)
    assert first.replications[0].acts.activity  # something ran
    for other in (by_name, by_condition, reordered):
        assert same_run(first, run(other))
    # and the probabilities do steer the run: without them the conditions decide
    [plain] = load("{}")
    assert not same_run(first, run(plain))


def test_the_what_if_example_names_its_branch_by_stage() -> None:
    text = (ROOT / "examples" / "claims-whatif.scenario.yaml").read_text()
    assert "Stage_" not in text and "Flow_" not in text
    ids = assess()
    variants = {
        s.variant: s for s in load_variants(ROOT / "examples" / "claims-whatif.scenario.yaml")
    }
    assert variants["assess fewer claims"].params["claim"].branches == {
        ids.gateway: ((ids.enter, 0.5), (ids.skip, 0.5))
    }
    assert variants["base"].params["claim"].branches == {}


COMPLAINT = """\
name: Complaints
definitions: [complaint.bpmn]
start: 2026-03-02T09:00:00Z
cases: 5
arrivals: {process: complaint, interarrival: {dist: expon, mean: 1h}}
resources:
  staff: {count: 2, actions: [acknowledge, classify, investigate, propose_remedy, send_outcome]}
processes:
  complaint:
    durations:
      {acknowledge: 1m, classify: 10m, investigate: 2h, propose_remedy: 30m, send_outcome: 1m}
    branches: BRANCHES
"""


def load_complaint(branches: str) -> list[Scenario]:
    return scenarios_from_source(COMPLAINT.replace("BRANCHES", branches), FILE, base_dir=PROCESSES)


def test_a_hand_written_bpmn_stage_is_named_too() -> None:
    for branches in (
        "{Investigation: {enter: 0.4, skip: 0.6}}",
        "{Investigation: {severity >= 2: 0.4, otherwise: 0.6}}",
        "{Gateway_investigate: {Flow_investigate: 0.4, Flow_skip: 0.6}}",  # hand-written ids
    ):
        [scenario] = load_complaint(branches)
        assert scenario.params["complaint"].branches == {
            "Gateway_investigate": (("Flow_investigate", 0.4), ("Flow_skip", 0.6))
        }


def test_the_documented_branches_load() -> None:
    doc = (ROOT / "docs" / "scenario-format.md").read_text()
    block = doc.split("### Branches\n\n```yaml\n", 1)[1].split("```", 1)[0]
    processes = yaml.safe_load(block)["processes"]
    fraud_ids, assess_ids = fraud(), assess()
    [scenario] = load(json.dumps(processes["claim"]["branches"]))
    assert scenario.params["claim"].branches == {
        fraud_ids.gateway: ((fraud_ids.enter, 0.1), (fraud_ids.skip, 0.9)),
        assess_ids.gateway: ((assess_ids.enter, 0.3), (assess_ids.skip, 0.7)),
    }
    [complaint] = load_complaint(json.dumps(processes["complaint"]["branches"]))
    assert complaint.params["complaint"].branches == {
        "Gateway_investigate": (("Flow_investigate", 0.4), ("Flow_skip", 0.6))
    }


# -- every bad name is located ---------------------------------------------------------------


def located(branches: str, path: str, key: str, message: str) -> Problem:
    """The one problem at ``path``: on the branches line, at the column of ``key``."""
    found = [p for p in problems_of(branches) if p.path == path]
    assert len(found) == 1, problems_of(branches)
    problem = found[0]
    text = scenario_text(branches)
    number, line = next(
        (n, line) for n, line in enumerate(text.splitlines(), start=1) if "branches:" in line
    )
    assert problem.file == FILE and problem.code == "M009"
    assert problem.line == number
    assert problem.column == line.index(key) + 1
    assert message in problem.message, problem.message
    assert str(problem).startswith(f"{FILE}:{number}:{problem.column}: error: ")
    return problem


def test_an_unknown_stage_name_is_located_with_a_suggestion() -> None:
    problem = located(
        "{Assesment: {enter: 1}}",
        "processes.claim.branches.Assesment",
        "Assesment",
        "process 'claim' has no exclusive gateway or stage 'Assesment': did you mean 'Assessment'?",
    )
    assert "stages with a condition: 'Fraud screening', 'Assessment'" in problem.message


def test_a_stage_without_a_condition_is_located() -> None:
    located(
        "{Payment: {enter: 1}}",
        "processes.claim.branches.Payment",
        "Payment",
        "stage 'Payment' of process 'claim' has no condition",
    )


def test_an_unknown_outcome_is_located_with_the_outcomes() -> None:
    problem = located(
        "{Assessment: {enter: 0.5, maybe: 0.5}}",
        "processes.claim.branches.Assessment.maybe",
        "maybe",
        "stage 'Assessment' (gateway ",
    )
    assert "has no outcome 'maybe'" in problem.message
    assert "'enter', 'skip', 'amount > 1000', 'otherwise'" in problem.message


def test_a_condition_that_is_not_the_stages_is_an_unknown_outcome() -> None:
    located(
        "{Assessment: {amount > 2000: 0.5, skip: 0.5}}",
        "processes.claim.branches.Assessment['amount > 2000']",
        "amount > 2000",
        "has no outcome 'amount > 2000': did you mean 'amount > 1000'?",
    )


def test_probabilities_not_adding_up_to_one_are_located() -> None:
    located(
        "{Assessment: {enter: 0.5, skip: 0.4}}",
        "processes.claim.branches.Assessment",
        "{enter",
        "the probabilities of stage 'Assessment' (gateway ",
    )
    assert "add up to 0.9, not 1" in problems_of("{Assessment: {enter: 0.5, skip: 0.4}}")[0].message


def test_one_flow_named_twice_is_located() -> None:
    located(
        "{Assessment: {enter: 0.5, amount > 1000: 0.5}}",
        "processes.claim.branches.Assessment['amount > 1000']",
        "amount > 1000",
        "'amount > 1000' and 'enter' are the same outcome",
    )


def test_one_gateway_named_twice_is_located() -> None:
    ids = assess()
    located(
        f"{{Assessment: {{enter: 1}}, {ids.gateway}: {{{ids.enter}: 1}}}}",
        f"processes.claim.branches.{ids.gateway}",
        f"{ids.gateway}:",
        f"gateway {ids.gateway!r} is given twice: as 'Assessment' and {ids.gateway!r}",
    )


def test_a_bad_name_in_a_variant_is_located_in_the_variant() -> None:
    text = scenario_text("{Assessment: {enter: 0.5, skip: 0.5}}") + (
        "variants:\n"
        "  - name: typo\n"
        "    processes: {claim: {branches: {Fraud screenin: {enter: 1}}}}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        scenarios_from_source(text, FILE, base_dir=PROCESSES)
    [problem] = caught.value.problems
    last = text.splitlines()[-1]
    assert problem.line == len(text.splitlines())
    assert problem.column == last.index("Fraud screenin") + 1
    assert problem.message.startswith("variant 'typo': process 'claim' has no exclusive gateway")
    assert "did you mean 'Fraud screening'?" in problem.message


def test_every_bad_name_is_reported_at_once() -> None:
    found = problems_of(
        "{Intake: {enter: 1}, Assessment: {enter: 0.2, nope: 0.8}, Nowhere: {a: 1}}"
    )
    assert {p.path for p in found} == {
        "processes.claim.branches.Intake",
        "processes.claim.branches.Assessment.nope",
        "processes.claim.branches.Nowhere",
    }
