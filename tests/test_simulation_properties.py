"""Invariants of every simulated run, over random scenario parameters (Hypothesis).

Whatever the probabilities of holds, rework, robot failures and refusals, and sub-case
spawns: no resource works two actions at once, nobody works off their calendar, times are
ordered, every arrived case is finished or still open at the horizon, and a parent never
resolves before its sub-cases.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.model import BUILTIN_CALENDARS
from engine.simulation.fastcal import FastCalendar
from engine.simulation.kernel import run_replication
from engine.simulation.results import ReplicationLog
from engine.simulation.scenario import scenarios_from_source

ROOT = Path(__file__).resolve().parents[1]

SCENARIO = """
name: properties
definitions: [{root}/processes/claim.yaml, {root}/processes/fraud_check.yaml]
start: 2026-03-06T15:00:00Z
horizon: 12d
seed: 1
arrivals: {{process: claim, interarrival: {{dist: expon, mean: 45m}}, calendar: office}}
resources:
  clerks: {{count: {clerks}, calendar: office, actions: [register, assess, pay, notify]}}
  investigators: {{count: 1, calendar: office, actions: [review_flags, investigate]}}
  robot: {{count: 1, robot: true, actions: [pay, notify, screen_history]}}
processes:
  claim:
    data:
      amount: {{dist: lognorm, mean: 3000, std: 2500}}
      prior_claims: {{dist: uniform, low: 0, high: 5, integer: true}}
    durations:
      register: {{dist: norm, mean: 20m, std: 5m, min: 1m}}
      assess: {{dist: gamma, mean: 2h, std: 1h}}
      pay: 1m
      notify: {{dist: uniform, low: 30s, high: 2m}}
    holds:
      - {{kind: more_info, probability: {p_hold}, after: [register],
         duration: {{dist: expon, mean: 6h}}}}
      - {{kind: until, probability: {p_hold}, after: [assess], duration: 1d}}
      - {{kind: paused, probability: {p_hold}, duration: 3h}}
    rework:
      - {{after: pay, probability: {p_rework}, stage: 3}}
      - {{after: assess, probability: {p_rework}, action: register}}
    subcases:
      - {{after: register, process: fraud_check, probability: {p_sub}}}
    robots:
      default: {{failure: {p_fail}, refusal: {p_refuse}}}
  fraud_check:
    durations:
      screen_history: 2m
      review_flags: {{dist: triangular, low: 15m, mode: 30m, high: 1h}}
      investigate: {{dist: lognorm, mean: 2h, std: 1h}}
"""

OFFICE = FastCalendar.from_definition(BUILTIN_CALENDARS["office"])

probability = st.sampled_from([0.0, 0.1, 0.3, 0.6])


def _run(seed: int, clerks: int, **p: float) -> ReplicationLog:
    text = SCENARIO.format(root=ROOT, clerks=clerks, **p)
    scenario = scenarios_from_source(text, str(ROOT / "properties.scenario.yaml"))[0]
    return run_replication(scenario, 0, seed)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    clerks=st.integers(1, 4),
    p_hold=probability,
    p_rework=probability,
    p_sub=probability,
    p_fail=probability,
    p_refuse=probability,
)
def test_run_invariants_hold_for_any_parameters(
    seed: int,
    clerks: int,
    p_hold: float,
    p_rework: float,
    p_sub: float,
    p_fail: float,
    p_refuse: float,
) -> None:
    log = _run(
        seed,
        clerks,
        p_hold=p_hold,
        p_rework=p_rework,
        p_sub=p_sub,
        p_fail=p_fail,
        p_refuse=p_refuse,
    )
    acts, cases, resources = log.acts, log.cases, log.resources
    # Times are ordered and inside the run.
    for i in range(len(acts)):
        assert acts.enable[i] <= acts.start[i] <= acts.end[i] <= log.end
        assert 0.0 <= acts.processing[i] <= acts.end[i] - acts.start[i] + 1e-6
    # No resource works two actions at once; people work only in office hours.
    by_resource: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for i in range(len(acts)):
        by_resource[acts.resource[i]].append((acts.start[i], acts.end[i]))
        if resources.pool[acts.resource[i]] != "robot" and acts.processing[i] > 0:
            assert OFFICE.working_between(acts.start[i], acts.end[i]) >= acts.processing[i] - 1e-3
    for spans in by_resource.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end - 1e-6
    # Busy time never exceeds what the calendars offered.
    for r in range(len(resources.name)):
        assert resources.busy[r] <= resources.available[r] + 1e-3
    # Conservation: every arrived top-level case is finished or open at the horizon, and the
    # work-in-progress count agrees.
    top = [c for c in range(len(cases)) if cases.parent[c] == -1]
    open_top = sum(1 for c in top if math.isnan(cases.end[c]))
    last_wip = log.wip_value[-1] if len(log.wip_value) else 0
    assert last_wip == open_top
    # SC1: a parent is never resolved before its sub-cases.
    for c in range(len(cases)):
        parent = cases.parent[c]
        if parent >= 0 and not math.isnan(cases.end[parent]):
            assert not math.isnan(cases.end[c]) and cases.end[c] <= cases.end[parent]
    # Holds: time in holds is never negative; no hold time without that hold being drawn.
    assert all(h >= 0 for h in cases.hold)
    if p_hold == 0:
        assert sum(cases.hold) == 0
    if p_rework == 0:
        assert sum(cases.reworks) == 0
    if p_fail == 0 and p_refuse == 0:
        assert all(o in (0, 3) for o in acts.outcome)
