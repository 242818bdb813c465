"""Replay simulated cases through the real runtime and compare ("same semantics as the runtime").

The kernel (:mod:`engine.simulation.kernel`, run with ``trace=True``) records, per case, the
runtime commands the case went through: ``(t, op, args)`` in time order. :func:`replay_case`
drives an :class:`engine.Engine` on a :class:`~engine.clock.ManualClock` through the merged
traces of one top-level case and of its sub-cases, setting the clock to each step's instant,
and compares what the runtime did with what the simulator logged:

1. per case, the action types completed (Resolved, in completion order) equal those of the
   event log rows with outcome 0 (completed) of that case, by end time. Sub-case *steps* (an
   action whose definition names a ``subcase``) are left out on both sides: the kernel has no
   activity for them; the runtime resolves them when their sub-case finishes, and the replay
   checks that side through the sub-cases themselves (every sub-case the runtime creates by
   itself must match one the kernel started by a flow step, and the reverse);
2. per case (sub-cases too), the final ``due`` of the runtime equals the kernel's **to the
   microsecond** (both sides turn epoch floats into datetimes the same way, and the runtime's
   SLA code and the kernel's share :mod:`engine.calendars`);
3. the SLA outcome is the same: resolved at or before ``due`` (None without an SLA);
4. every action the kernel started (or a robot refused) was offered by the runtime: an open
   action of that type existed at that instant.

Trace operations and the commands they become
---------------------------------------------
======================  ===================================================================
``create``              top-level: ``create_case(process, data=..., submit=True)``; a
                        sub-case started by a flow step (``step``) is *not* created: the
                        runtime creates it itself, and it is matched to the earliest
                        unmatched sub-case of that process the runtime created from the
                        flow; an ad hoc sub-case was created by its parent's ``subcase``
``start``               ``start_action`` on the open To Do action of that type
``complete``            ``complete_action`` (the action that ``by`` started, else the open
                        one of that type)
``refuse``              ``refuse_action`` (S3)
``fail``                ``fail_action`` (S4); a person's ``start``/``complete`` follow
``subcase``             ``create_subcase`` (ad hoc, SC2)
``hold``                ``hold(kind)`` just before the ``complete`` of the same instant (H2)
``hold_end``            more_info: ``reply``; until: the ``tick()`` of that instant must have
                        woken the case (H6); paused: ``set_status(To Do)`` (H7)
``rework``              ``rework(stage=N)``, or ``rework(action=ref)`` with the latest
                        Resolved action of that type
``resolve``             ``resolve``
======================  ===================================================================

Extra steps the replayer takes (the runtime needs them, the kernel does not model them)
---------------------------------------------------------------------------------------
* ``tick()`` once at every instant the clock is set to, before that instant's steps, as a
  scheduler would (wakes ``until`` holds, closes feedback windows).
* ``resolve`` is allowed from In Progress only (R1): a case still To Do is first taken with
  ``start_work`` by :data:`PERSON` at the same instant.
* (None is needed after a robot failure, S4: ``fail_action`` leaves the action To Do and the
  case To Do, and the person's ``start_action`` is accepted as it is.)
* A ``more_info`` hold needs a reason from the definition's list (H3): the first one is given
  (``"More information"`` when the list is empty). Holds, replies, status changes, reworks
  and resolutions are done by :data:`PERSON`; replies come from :data:`CUSTOMER`.
* An ad hoc sub-case is created with the sub-process's own calendar passed explicitly: the
  kernel counts its SLA on that calendar, and the runtime refuses a sub-case of a process
  with ``calendar_required`` without one (SC9).
* Data generators of a sub-process give a sub-case fields its parent does not have (e.g.
  ``risk_score`` of a fraud check); the runtime copies only the parent's data into a
  sub-case (SC6). The fields the runtime sub-case lacks (or holds with another value) are
  merged into it with its first ``complete_action(data=...)``, as a person would enter them
  while working it, before any condition of the sub-process reads them. The runtime then
  shares them up the parent chain (SC6), which the kernel does not; no condition of the
  parent may read them for the comparison to hold.
* Within one instant, steps of different cases of the family are taken in the kernel's
  per-case order; across cases, the first case (parent first) whose next step the runtime
  can take now goes first (e.g. a sub-case resolves before its parent's next action starts;
  a parent creates an ad hoc sub-case before the sub-case's first action starts). When no
  case's next step can be taken, the first is tried anyway and the runtime's refusal is
  reported.

What can be replayed
--------------------
The runtime runs the deployed definitions, so a replay means something only for a scenario
whose processes the kernel runs as deployed: no ``settings`` overrides (what-if), no
``branches`` probabilities on gateways that have conditions (the runtime follows the
conditions on the case data), and no scenario calendar named like a process calendar (the
kernel then counts due dates on the scenario's). Such scenarios replay with disagreements
that are by design, not kernel faults.

A command the runtime refuses ends the replay of the case with a :class:`Disagreement`
(nothing after it would be meaningful); otherwise the comparisons above add one per
difference. :meth:`ReplayOutcome.report` words them for an assertion message.

Layout
------
This module drives the replay instant by instant. The parts live in their own modules:
:mod:`~engine.simulation.replay_trace` (families, merging the traces into instants, step
features), :mod:`~engine.simulation.replay_commands` (each trace step as runtime commands),
:mod:`~engine.simulation.replay_runtime` (what is asked of the runtime),
:mod:`~engine.simulation.replay_checks` (the comparisons at the end),
:mod:`~engine.simulation.replay_state` and :mod:`~engine.simulation.replay_outcome`.
"""

from __future__ import annotations

from collections import deque

from engine.clock import ManualClock
from engine.facade import Engine
from engine.simulation.replay_checks import compare_family
from engine.simulation.replay_commands import ARRIVALS, CUSTOMER, PERSON, apply_step, can_apply
from engine.simulation.replay_outcome import CaseCheck, Disagreement, ReplayOutcome
from engine.simulation.replay_state import ReplayAbort, ReplayState
from engine.simulation.replay_trace import (
    Step,
    family_features,
    family_of,
    merged_instants,
    step_features,
)
from engine.simulation.results import ReplicationLog, to_datetime

__all__ = [
    "ARRIVALS",
    "CUSTOMER",
    "PERSON",
    "CaseCheck",
    "Disagreement",
    "ReplayOutcome",
    "family_features",
    "family_of",
    "replay_case",
    "step_features",
]


def replay_case(
    engine: Engine, clock: ManualClock, log: ReplicationLog, case_index: int
) -> ReplayOutcome:
    """Replay top-level case ``case_index`` of ``log`` (a replication run with ``trace=True``)
    and its sub-cases through ``engine``, whose clock is ``clock`` (at or before the case's
    arrival; the definitions of the case's processes deployed). See the module docstring."""
    if not 0 <= case_index < len(log.cases):
        raise ValueError(f"case {case_index} is not in the log ({len(log.cases)} cases)")
    if log.cases.parent[case_index] >= 0:
        raise ValueError(
            f"case {case_index} is a sub-case of case {log.cases.parent[case_index]}: replay "
            "its top-level case"
        )
    state = ReplayState(engine, clock, log, case_index)
    try:
        for t, queues in merged_instants(log, state.family):
            _instant(state, t, queues)
    except ReplayAbort:
        return state.outcome(())
    return state.outcome(compare_family(state))


def _instant(state: ReplayState, t: float, queues: list[deque[tuple[int, Step]]]) -> None:
    """Set the clock to ``t``, tick, and take the steps of every case at ``t``: per case in
    trace order; across cases, the first whose next step the runtime can take goes first."""
    moment = to_datetime(t)
    if moment < state.clock.now():
        raise ValueError(
            f"the clock ({state.clock.now().isoformat()}) is after step time "
            f"{moment.isoformat()} of case {queues[0][0][0]}"
        )
    state.now = state.clock.set(moment)
    state.woken = {fired.case_ref for fired in state.engine.tick() if fired.kind == "hold_until"}
    while True:
        waiting = [q for q in queues if q]
        if not waiting:
            return
        chosen = waiting[0]
        if len(waiting) > 1:
            chosen = next((q for q in waiting if can_apply(state, *q[0])), chosen)
        index, step = chosen.popleft()
        apply_step(state, index, step)
