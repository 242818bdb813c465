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
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn

from engine.clock import ManualClock
from engine.errors import EngineError
from engine.facade import Engine
from engine.runtime.snapshots import Action, Case
from engine.runtime.status import CaseStatus, HoldKind
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

PERSON = "replayer"
"""Who does the steps the trace does not attribute to a resource (holds, resolutions...)."""
CUSTOMER = "customer"
"""Who replies to a ``more_info`` hold."""
ARRIVALS = "arrivals"
"""Who creates the top-level case."""

_OPEN = (CaseStatus.TO_DO, CaseStatus.IN_PROGRESS, CaseStatus.WAITING)
_MISSING = object()

Step = tuple[float, str, dict[str, object]]


@dataclass(frozen=True)
class Disagreement:
    """One difference between the kernel and the runtime.

    ``case`` is the simulator's case index, ``ref`` the runtime's reference (None when the
    runtime has no such case), ``at`` the instant, ``step`` the trace step (or the check)
    concerned, ``kernel`` what the kernel did or assumed and ``runtime`` what the runtime did.
    """

    case: int
    ref: str | None
    at: datetime | None
    step: str
    kernel: str
    runtime: str

    def __str__(self) -> str:
        when = self.at.isoformat() if self.at else "end"
        return (
            f"case {self.case} ({self.ref or 'no runtime case'}) at {when}, {self.step}: "
            f"kernel: {self.kernel}; runtime: {self.runtime}"
        )


@dataclass(frozen=True)
class CaseCheck:
    """What the kernel and the runtime ended with for one case of the family."""

    case: int
    ref: str
    process: str
    kernel_actions: tuple[str, ...]
    runtime_actions: tuple[str, ...]
    kernel_due: datetime | None
    runtime_due: datetime | None
    kernel_end: datetime | None
    runtime_resolved: datetime | None

    @property
    def kernel_sla_met(self) -> bool | None:
        """Resolved at or before due in the simulation; None without an SLA or resolution."""
        return _sla_met(self.kernel_end, self.kernel_due)

    @property
    def runtime_sla_met(self) -> bool | None:
        """Resolved at or before due in the runtime; None without an SLA or resolution."""
        return _sla_met(self.runtime_resolved, self.runtime_due)


@dataclass(frozen=True)
class ReplayOutcome:
    """The replay of one top-level case (index ``case``) and its sub-cases."""

    case: int
    checks: tuple[CaseCheck, ...]
    disagreements: tuple[Disagreement, ...]
    commands: int
    ops: frozenset[str] = field(default_factory=frozenset)
    """The :func:`step_features` of the steps replayed (up to a disagreement that stopped
    the replay)."""

    @property
    def ok(self) -> bool:
        return not self.disagreements

    def report(self) -> str:
        """The disagreements, one per line (empty when none)."""
        return "\n".join(str(d) for d in self.disagreements)


def _sla_met(end: datetime | None, due: datetime | None) -> bool | None:
    if end is None or due is None:
        return None
    return end <= due


def _when(seconds: float) -> datetime | None:
    return None if math.isnan(seconds) else to_datetime(seconds)


def step_features(step: Step) -> frozenset[str]:
    """What a trace step exercises: its ``op``, plus ``hold:<kind>``, ``rework:stage`` or
    ``rework:action``, and ``create:step`` / ``create:adhoc`` for sub-cases (what a test may
    require a sample of cases to cover)."""
    _, op, args = step
    found = {op}
    if op == "hold":
        found.add(f"hold:{args['kind']}")
    elif op == "rework":
        found.add("rework:stage" if args.get("stage") is not None else "rework:action")
    elif op == "create" and args.get("parent") is not None:
        found.add("create:step" if args.get("step") else "create:adhoc")
    return frozenset(found)


def family_features(log: ReplicationLog, case_index: int) -> frozenset[str]:
    """The :func:`step_features` of every trace step of a case and its sub-cases."""
    return frozenset(
        feature
        for index in family_of(log, case_index)
        for step in log.traces.get(index, ())
        for feature in step_features(step)
    )


def family_of(log: ReplicationLog, case_index: int) -> list[int]:
    """``case_index`` and its sub-cases (recursively), parents before their sub-cases."""
    children: dict[int, list[int]] = {}
    for index, parent in enumerate(log.cases.parent):
        if parent >= 0:
            children.setdefault(parent, []).append(index)
    family = [case_index]
    pending = deque([case_index])
    while pending:
        for child in children.get(pending.popleft(), []):
            family.append(child)
            pending.append(child)
    return family


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
    return _Replay(engine, clock, log, case_index).run()


class _Abort(Exception):
    """The runtime refused a step: the replay of the case stops there."""


class _Replay:
    """The state of one replay."""

    def __init__(
        self, engine: Engine, clock: ManualClock, log: ReplicationLog, case_index: int
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.log = log
        self.top = case_index
        self.family = family_of(log, case_index)
        missing = [i for i in self.family if i not in log.traces]
        if missing:
            raise ValueError(f"cases {missing} have no trace: run the replication with trace=True")
        self.refs: dict[int, str] = {}
        self.extra_data: dict[int, dict[str, object]] = {}
        self.started: dict[tuple[int, str], str] = {}
        self.woken: set[str] = set()
        self.disagreements: list[Disagreement] = []
        self.commands = 0
        self.ops: set[str] = set()
        self.now: datetime = clock.now()

    # -- driving ----------------------------------------------------------------------------

    def run(self) -> ReplayOutcome:
        instants: dict[float, list[deque[tuple[int, Step]]]] = {}
        for index in self.family:
            per_instant: dict[float, deque[tuple[int, Step]]] = {}
            for step in self.log.traces[index]:
                per_instant.setdefault(step[0], deque()).append((index, step))
            for t, queue in per_instant.items():
                instants.setdefault(t, []).append(queue)
        try:
            for t in sorted(instants):
                self._instant(t, instants[t])
        except _Abort:
            return self._outcome(())
        return self._outcome(self._compare())

    def _instant(self, t: float, queues: list[deque[tuple[int, Step]]]) -> None:
        moment = to_datetime(t)
        if moment < self.clock.now():
            raise ValueError(
                f"the clock ({self.clock.now().isoformat()}) is after step time "
                f"{moment.isoformat()} of case {queues[0][0][0]}"
            )
        self.now = self.clock.set(moment)
        self.woken = {fired.case_ref for fired in self.engine.tick() if fired.kind == "hold_until"}
        while True:
            waiting = [q for q in queues if q]
            if not waiting:
                return
            chosen = waiting[0]
            if len(waiting) > 1:
                chosen = next((q for q in waiting if self._ready(*q[0])), chosen)
            index, step = chosen.popleft()
            self._apply(index, step)

    def _ready(self, index: int, step: Step) -> bool:
        """Whether the runtime can take ``step`` of case ``index`` now (see module doc)."""
        _, op, args = step
        ref = self.refs.get(index)
        if ref is None:
            if op != "create":
                return False
            if args.get("parent") is None:
                return True
            return bool(args.get("step")) and self._flow_subcase(args) is not None
        if op in ("start", "refuse"):
            return self._open_action(ref, str(args["action"]), CaseStatus.TO_DO) is not None
        if op in ("complete", "fail"):
            return self._open_action(ref, str(args["action"])) is not None
        if op == "resolve":
            case = self.engine.case(ref)
            return (
                case.status is not CaseStatus.WAITING
                and not self._open_flow_actions(ref)
                and not self._open_subcases(case)
            )
        return True

    def _apply(self, index: int, step: Step) -> None:
        _, op, args = step
        self.ops.update(step_features(step))
        handler = self._handlers().get(op)
        if handler is None:
            self._stop(index, step, f"a trace step {op!r}", "the replayer knows no such step")
        ref = self.refs.get(index)
        if ref is None and op != "create":
            self._stop(
                index,
                step,
                f"{op} on a case it had started",
                "no runtime case was matched to this case",
            )
        try:
            handler(index, step)
        except EngineError as err:
            self._stop(index, step, f"{op} allowed", f"refused: {err}")

    def _handlers(self) -> Mapping[str, Callable[[int, Step], None]]:
        return {
            "create": self._create,
            "start": self._start,
            "complete": self._complete,
            "refuse": self._refuse,
            "fail": self._fail,
            "subcase": self._subcase,
            "hold": self._hold,
            "hold_end": self._hold_end,
            "rework": self._rework,
            "resolve": self._resolve,
        }

    # -- steps --------------------------------------------------------------------------------

    def _create(self, index: int, step: Step) -> None:
        _, _, args = step
        process = str(args["process"])
        data = args.get("data")
        kernel_data: dict[str, object] = dict(data) if isinstance(data, dict) else {}
        ref = self.refs.get(index)
        if args.get("parent") is None:
            self.commands += 1
            case = self.engine.create_case(process, by=ARRIVALS, data=kernel_data, submit=True)
            self.refs[index] = case.ref
        elif ref is not None:  # an ad hoc sub-case, created by its parent's "subcase" step
            case = self.engine.case(ref)
        elif not args.get("step"):
            self._stop(
                index,
                step,
                "the parent created this sub-case ad hoc (its 'subcase' step) first",
                "no runtime sub-case was created for it",
            )
        else:
            found = self._flow_subcase(args)
            if found is None:
                self._stop(
                    index,
                    step,
                    "the flow step created the sub-case",
                    f"no unmatched sub-case of {process!r} created by the parent's flow",
                )
            case = found
            self.refs[index] = case.ref
        if case.status is not CaseStatus.TO_DO:
            self._note(index, step, "created and submitted: To Do", f"{case.status.value}")
        unknown = sorted(set(case.data) - set(kernel_data))
        if unknown:
            self._note(
                index,
                step,
                f"case data has fields {sorted(kernel_data)}",
                f"case data also has {unknown}",
            )
        extra = {k: v for k, v in kernel_data.items() if case.data.get(k, _MISSING) != v}
        if extra:
            self.extra_data[index] = extra

    def _flow_subcase(self, args: Mapping[str, object]) -> Case | None:
        parent = self.refs.get(int(str(args["parent"])))
        if parent is None:
            return None
        matched = set(self.refs.values())
        for ref in self.engine.case(parent).subcases:
            if ref in matched:
                continue
            sub = self.engine.case(ref)
            if sub.process == args["process"] and sub.created_how == "flow":
                return sub
        return None

    def _start(self, index: int, step: Step) -> None:
        _, _, args = step
        ref = self.refs[index]
        action_type, by = str(args["action"]), str(args["by"])
        action = self._open_action(ref, action_type, CaseStatus.TO_DO)
        if action is None:
            self._stop(
                index,
                step,
                f"offers an open {action_type!r} action to start",
                f"no To Do {action_type!r} action (open: {self._open_summary(ref)})",
            )
        self.commands += 1
        self.engine.start_action(action.ref, by=by)
        self.started[(index, action_type)] = action.ref

    def _complete(self, index: int, step: Step) -> None:
        _, _, args = step
        action_type, by = str(args["action"]), str(args["by"])
        action = self._worked_action(index, step)
        self.commands += 1
        data = self.extra_data.pop(index, None)
        self.engine.complete_action(action.ref, by=by, data=data)
        self.started.pop((index, action_type), None)

    def _refuse(self, index: int, step: Step) -> None:
        _, _, args = step
        ref = self.refs[index]
        action_type, by = str(args["action"]), str(args["by"])
        action = self._open_action(ref, action_type, CaseStatus.TO_DO)
        if action is None:
            self._stop(
                index,
                step,
                f"offers an open {action_type!r} action to a robot",
                f"no To Do {action_type!r} action (open: {self._open_summary(ref)})",
            )
        self.commands += 1
        self.engine.refuse_action(action.ref, by=by)

    def _fail(self, index: int, step: Step) -> None:
        _, _, args = step
        action = self._worked_action(index, step)
        self.commands += 1
        self.engine.fail_action(action.ref, error="automation failed (simulated)")
        self.started.pop((index, str(args["action"])), None)

    def _worked_action(self, index: int, step: Step) -> Action:
        """The action a ``complete``/``fail`` step is about: the one started for it."""
        _, op, args = step
        ref = self.refs[index]
        action_type = str(args["action"])
        started = self.started.get((index, action_type))
        candidates = self._open_actions(ref, action_type)
        action = next((a for a in candidates if a.ref == started), None)
        if action is None and candidates:
            action = candidates[0]
        if action is None:
            self._stop(
                index,
                step,
                f"{op} of an open {action_type!r} action",
                f"no open {action_type!r} action (open: {self._open_summary(ref)})",
            )
        return action

    def _subcase(self, index: int, step: Step) -> None:
        _, _, args = step
        process = str(args["process"])
        child = int(str(args["case"]))
        calendar = self.engine.definition(process).model.settings.calendar
        self.commands += 1
        sub = self.engine.create_subcase(self.refs[index], process, by=PERSON, calendar=calendar)
        self.refs[child] = sub.ref

    def _hold(self, index: int, step: Step) -> None:
        _, _, args = step
        ref = self.refs[index]
        kind = HoldKind.parse(str(args["kind"]))
        self.commands += 1
        if kind is HoldKind.MORE_INFO:
            case = self.engine.case(ref)
            reasons = self.engine.definition(case.process, case.version).model.settings
            reason = next(iter(reasons.more_info_reasons), "More information")
            self.engine.hold(ref, kind, by=PERSON, reason=reason)
        elif kind is HoldKind.UNTIL:
            until = to_datetime(float(str(args["until"])))
            self.engine.hold(ref, kind, by=PERSON, until=until)
        else:
            self.engine.hold(ref, kind, by=PERSON)

    def _hold_end(self, index: int, step: Step) -> None:
        _, _, args = step
        ref = self.refs[index]
        kind = HoldKind.parse(str(args["kind"]))
        before = self.engine.case(ref)
        if kind is HoldKind.UNTIL:
            if ref not in self.woken or before.status is CaseStatus.WAITING:
                self._stop(
                    index,
                    step,
                    "the hold's date is reached: the case wakes up (H6)",
                    f"no wake-up fired now; the case is {before.status.value}",
                )
            return
        if before.status is not CaseStatus.WAITING or before.hold_kind is not kind:
            held = before.hold_kind.value if before.hold_kind else "no hold"
            self._stop(
                index,
                step,
                f"the case waits with hold {kind.value}",
                f"the case is {before.status.value} ({held})",
            )
        self.commands += 1
        if kind is HoldKind.MORE_INFO:
            after = self.engine.reply(ref, body="the information asked for", sender=CUSTOMER)
        else:
            after = self.engine.set_status(ref, CaseStatus.TO_DO, by=PERSON, reason="resumed")
        if after.status is not CaseStatus.TO_DO:
            self._note(index, step, "the hold ends: To Do", after.status.value)

    def _rework(self, index: int, step: Step) -> None:
        _, _, args = step
        ref = self.refs[index]
        self.commands += 1
        stage = args.get("stage")
        if stage is not None:
            self.engine.rework(ref, by=PERSON, stage=int(str(stage)))
            return
        action_type = str(args["action"])
        done = [
            a
            for a in self.engine.actions(ref)
            if a.action_type == action_type and a.status is CaseStatus.RESOLVED and not a.ad_hoc
        ]
        if not done:
            self._stop(
                index,
                step,
                f"rework from a completed {action_type!r} action",
                f"no Resolved {action_type!r} action",
            )
        latest = max(done, key=lambda a: (a.completed_at or self.now, _number(a.ref)))
        self.engine.rework(ref, by=PERSON, action=latest.ref)

    def _resolve(self, index: int, step: Step) -> None:
        ref = self.refs[index]
        open_actions = self._open_flow_actions(ref)
        if open_actions:
            self._stop(
                index,
                step,
                "the flow is finished: nothing left to do",
                "open actions "
                + ", ".join(f"{a.ref} {a.action_type} ({a.status.value})" for a in open_actions),
            )
        case = self.engine.case(ref)
        if case.status is CaseStatus.TO_DO:
            self.commands += 1
            self.engine.start_work(ref, by=PERSON)
        self.commands += 1
        self.engine.resolve(ref, by=PERSON)

    # -- runtime queries ----------------------------------------------------------------------

    def _open_actions(self, ref: str, action_type: str) -> list[Action]:
        return sorted(
            (
                a
                for a in self.engine.actions(ref)
                if a.action_type == action_type and a.status in _OPEN and not a.ad_hoc
            ),
            key=lambda a: _number(a.ref),
        )

    def _open_action(
        self, ref: str, action_type: str, status: CaseStatus | None = None
    ) -> Action | None:
        return next(
            (
                a
                for a in self._open_actions(ref, action_type)
                if status is None or a.status is status
            ),
            None,
        )

    def _open_flow_actions(self, ref: str) -> list[Action]:
        return [a for a in self.engine.actions(ref) if a.status in _OPEN and not a.ad_hoc]

    def _open_subcases(self, case: Case) -> list[str]:
        return [r for r in case.subcases if self.engine.case(r).status.is_open]

    def _open_summary(self, ref: str) -> str:
        found = [f"{a.action_type} {a.status.value}" for a in self._open_flow_actions(ref)]
        return ", ".join(found) or "none"

    # -- results ------------------------------------------------------------------------------

    def _note(self, index: int, step: Step | None, kernel: str, runtime: str) -> None:
        self.disagreements.append(
            Disagreement(
                case=index,
                ref=self.refs.get(index),
                at=to_datetime(step[0]) if step else None,
                step=_describe(step) if step else "after the run",
                kernel=kernel,
                runtime=runtime,
            )
        )

    def _stop(self, index: int, step: Step, kernel: str, runtime: str) -> NoReturn:
        self._note(index, step, kernel, runtime)
        raise _Abort

    def _compare(self) -> tuple[CaseCheck, ...]:
        kernel_done = self._kernel_completions()
        checks = []
        for index in self.family:
            ref = self.refs.get(index)
            if ref is None:
                self._note(index, None, "the case exists", "no runtime case was matched")
                continue
            case = self.engine.case(ref)
            check = CaseCheck(
                case=index,
                ref=ref,
                process=case.process,
                kernel_actions=tuple(kernel_done.get(index, ())),
                runtime_actions=self._runtime_completions(case),
                kernel_due=_when(self.log.cases.due[index]),
                runtime_due=case.due,
                kernel_end=_when(self.log.cases.end[index]),
                runtime_resolved=case.first_resolved_at,
            )
            checks.append(check)
            self._compare_case(check)
            mapped = set(self.refs.values())
            for sub in case.subcases:
                if sub not in mapped:
                    self._note(index, None, "started no such sub-case", f"has sub-case {sub}")
        return tuple(checks)

    def _compare_case(self, check: CaseCheck) -> None:
        index = check.case
        if check.kernel_actions != check.runtime_actions:
            self._note(
                index,
                None,
                f"completed {list(check.kernel_actions)}",
                f"completed {list(check.runtime_actions)}",
            )
        if check.kernel_due != check.runtime_due:
            self._note(
                index, None, f"due {_iso(check.kernel_due)}", f"due {_iso(check.runtime_due)}"
            )
        if check.kernel_end != check.runtime_resolved:
            self._note(
                index,
                None,
                f"resolved {_iso(check.kernel_end)}",
                f"resolved {_iso(check.runtime_resolved)}",
            )
        if check.kernel_sla_met != check.runtime_sla_met:
            self._note(
                index,
                None,
                f"SLA met: {check.kernel_sla_met}",
                f"SLA met: {check.runtime_sla_met}",
            )

    def _kernel_completions(self) -> dict[int, list[str]]:
        """Per case of the family, the action types of its completed event-log rows."""
        acts = self.log.acts
        members = set(self.family)
        rows: dict[int, list[tuple[float, int, str]]] = {}
        labels = self._labels()
        for row in range(len(acts)):
            index = acts.case[row]
            if index not in members or acts.outcome[row] != 0:
                continue
            process = self.log.processes[self.log.cases.process[index]]
            label = self.log.activities[acts.activity[row]]
            action_type = labels.get(process, {}).get(label, f"<label {label!r}>")
            rows.setdefault(index, []).append((acts.end[row], row, action_type))
        return {i: [r[2] for r in sorted(found)] for i, found in rows.items()}

    def _labels(self) -> dict[str, dict[str, str]]:
        """process -> activity label (action title) -> action type, from the deployed models
        (a title shared by two actions of a process maps to neither)."""
        out: dict[str, dict[str, str]] = {}
        for index in self.family:
            process = self.log.processes[self.log.cases.process[index]]
            if process in out:
                continue
            model = self.engine.definition(process).model
            titles: dict[str, str] = {}
            shared: set[str] = set()
            for action in model.all_actions():
                if action.title in titles:
                    shared.add(action.title)
                titles[action.title] = action.id
            out[process] = {t: a for t, a in titles.items() if t not in shared}
        return out

    def _runtime_completions(self, case: Case) -> tuple[str, ...]:
        """The action types the runtime completed in the case, in completion order, sub-case
        steps left out."""
        events = self.engine.timeline(case.ref, include_related=True, kinds=["action_completed"])
        return tuple(
            str(e.details["action_type"])
            for e in events
            if e.case_ref == case.ref and e.ref != case.ref and "subcase" not in e.details
        )

    def _outcome(self, checks: tuple[CaseCheck, ...]) -> ReplayOutcome:
        return ReplayOutcome(
            case=self.top,
            checks=checks,
            disagreements=tuple(self.disagreements),
            commands=self.commands,
            ops=frozenset(self.ops),
        )


def _number(ref: str) -> int:
    tail = ref.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _iso(at: datetime | None) -> str:
    return at.isoformat() if at is not None else "none"


def _describe(step: Step) -> str:
    _, op, args = step
    shown = {k: v for k, v in args.items() if k != "data"}
    inner = ", ".join(f"{k}={v}" for k, v in shown.items())
    return f"{op}{{{inner}}}"
