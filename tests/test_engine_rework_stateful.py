"""Rework, manual launch and sub-cases under random command sequences (issue 4).

A Hypothesis state machine runs the shipped processes (``claim`` with its ``fraud_check``
sub-case step, ``onboarding`` with a parallel stage) and a small process of its own (an
intake stage of two actions, a conditional stage, a parallel stage, a last stage) on
``sqlite:///:memory:`` with a :class:`ManualClock`. Its rules create, submit and start cases,
complete open actions with data that flips stage conditions, rework to offered points and to
points that are not offered, launch ad hoc actions, create, work, resolve and cancel
sub-cases, hold and reply. A command may be refused only with an ``EngineError``, and a
refused command changes no stored row.

After every step, for every case, the invariants hold:

* the stored workflow and the action table agree: every open flow action is exactly one READY
  task of the workflow (same task id, type and stage) and, while the case is To Do / In
  Progress, every READY task has exactly one open action (RW8, H2);
* an open sub-case step has exactly one open sub-case started from it (SC1);
* sub-case references are ``<parent>-1`` … ``<parent>-n``, consecutive, with the parent's
  customer (SC10, SC3);
* ``rework_points`` offers neither the current stage nor a later one, nor ad hoc actions; its
  action points are completed flow actions of their own stage whose step the stored workflow
  still holds as completed (not undone by a later rework), so the flow can restart there
  (RW1, RW4, RW5, RW6).

The deterministic tests at the end pin down sequences worth keeping on their own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from SpiffWorkflow.util.task import TaskState
from store_dump import dump_tables, empty_runtime_tables

from engine import CaseStatus, Engine, EngineError, HoldKind, ManualClock, ReworkPoint
from engine.model import ProcessModel
from engine.runtime.flow import FlowRunner
from engine.runtime.records import ActionRecord, CaseRecord

T = TypeVar("T")
S = CaseStatus

PROCESSES = Path(__file__).resolve().parent.parent / "processes"
#: Monday 2026-03-02 09:00 UTC, the start of a working day on the ``office`` calendar.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
USERS = ("ann", "bob", "cy")
OPEN_WORK = (S.TO_DO, S.IN_PROGRESS)
#: Statuses in which an action is open (the engine never sets Waiting on an action, but an
#: open action of any kind must be backed by the flow).
OPEN_ACTION = (S.TO_DO, S.IN_PROGRESS, S.WAITING)
FINISHED = (S.RESOLVED, S.CLOSED, S.CANCELLED)
#: Top-level processes the machine creates cases of (``fraud_check`` runs as sub-cases).
TOP_PROCESSES = ("claim", "onboarding", "mini")

#: Three sequential stages (the second with a condition), a parallel stage, a last stage; an
#: ad hoc action type; ``fraud_check`` sub-cases permitted.
MINI_YAML = """\
id: mini
name: Mini rework process
version: 1
customer: Initech
due: 5 working days
calendar: office
feedback_window: 1d
more_info_reasons: [Customer documents]
subcases: [fraud_check]
stages:
  - name: Intake
    actions:
      - {id: a1, title: First step}
      - {id: a2, title: Second step}
      - {id: extra, title: Extra work, manual_launch: true, flow: false}
  - name: Check
    condition: amount > 100
    actions:
      - {id: b1, title: Check amount}
  - name: Parallel work
    parallel: true
    actions:
      - {id: c1, title: Left branch}
      - {id: c2, title: Right branch}
  - name: Close
    actions:
      - {id: d1, title: Close out}
"""


def deploy_all(engine: Engine, folder: Path) -> None:
    """Deploy the shipped processes and :data:`MINI_YAML` (written in ``folder``)."""
    for name in ("fraud_check.yaml", "claim.yaml", "onboarding.yaml"):
        engine.deploy(PROCESSES / name)
    mini = folder / "mini.yaml"
    mini.write_text(MINI_YAML, encoding="utf-8")
    engine.deploy(mini)


def ref_order(ref: str) -> tuple[int, ...]:
    """``C-2-10`` after ``C-2-9``: the numbers of a reference."""
    return tuple(int(part) for part in ref.split("-")[1:])


def case_data() -> st.SearchStrategy[dict[str, Any]]:
    """Data every stage condition can evaluate: amount (mini's Check, claim's screening and
    assessment), prior_claims (claim), remote (onboarding), risk_score (fraud_check)."""
    return st.fixed_dictionaries(
        {
            "amount": st.sampled_from([0, 100, 101, 1000, 1001, 5000, 5001, 9000]),
            "prior_claims": st.sampled_from([0, 3]),
            "remote": st.booleans(),
            "risk_score": st.sampled_from([0, 69, 70, 95]),
        }
    )


def flip_data() -> st.SearchStrategy[dict[str, Any]]:
    """Data merged on completion, flipping one stage condition (or none)."""
    return st.one_of(
        st.just({}),
        st.fixed_dictionaries({"amount": st.sampled_from([50, 101, 1001, 6000])}),
        st.fixed_dictionaries({"remote": st.booleans()}),
        st.fixed_dictionaries({"risk_score": st.sampled_from([10, 80])}),
        st.fixed_dictionaries({"prior_claims": st.sampled_from([0, 4])}),
    )


INDEX = st.integers(0, 63)
USER = st.sampled_from(USERS)


@dataclass(frozen=True)
class Stored:
    """One case as stored: its record, actions, workflow text and sub-cases."""

    case: CaseRecord
    actions: list[ActionRecord]
    workflow: str | None
    subcases: list[CaseRecord]


def stored(engine: Engine, ref: str) -> Stored:
    """Read a case's rows in one transaction."""
    with engine.store.transaction() as tx:
        case = tx.get_case(ref)
        assert case is not None, ref
        return Stored(case, tx.actions_of(ref), tx.get_workflow(ref), tx.subcases_of(ref))


@dataclass(frozen=True)
class Ready:
    """A READY manual task of a workflow, as the invariants need it."""

    task_id: str
    action_id: str
    stage: int


@dataclass(frozen=True)
class Flow:
    """What the invariants read from a stored workflow: whether it finished, its READY
    manual steps, and the ids of its COMPLETED tasks (sub-workflows included)."""

    finished: bool
    ready: list[Ready]
    completed: frozenset[str]


class ReworkMachine(RuleBasedStateMachine):
    """Random complete / rework / launch / sub-case commands; invariants after every step."""

    #: The engine of the current test run (see the fixture); each example empties its tables.
    shared_engine: Engine | None = None

    def __init__(self) -> None:
        super().__init__()
        assert self.shared_engine is not None, "set ReworkMachine.shared_engine first"
        self.engine = self.shared_engine
        empty_runtime_tables(self.engine)
        self.clock = ManualClock(T0)
        self.engine.clock = self.clock
        self.rows = dump_tables(self.engine)
        self.cases: list[str] = []
        self.points: dict[str, list[ReworkPoint]] = {}
        self.flow_cache: dict[str, Flow] = {}
        self.models: dict[tuple[str, int | None], ProcessModel] = {}
        self.runners: dict[tuple[str, int], FlowRunner] = {}

    # -- plumbing ------------------------------------------------------------------------------

    def _model(self, process: str, version: int | None = None) -> ProcessModel:
        key = (process, version)
        model = self.models.get(key)
        if model is None:
            model = self.models[key] = self.engine.definition(process, version).model
        return model

    def _statuses(self) -> dict[str, S]:
        return {row["ref"]: S(row["status"]) for row in self.rows["cases"]}

    def _pick(self, refs: list[str], index: int) -> str:
        return refs[index % len(refs)]

    def _case(self, index: int, *fitting: S, fit: bool = True) -> str:
        """A case; with ``fit``, one in a ``fitting`` status when there is one."""
        refs = self.cases
        if fit and fitting:
            statuses = self._statuses()
            refs = [ref for ref in refs if statuses[ref] in fitting] or refs
        return self._pick(refs, index)

    def _command(self, run: Callable[[], T], expect: bool | None = None) -> T | None:
        """Run one command. Refused (EngineError only): no stored row changed. ``expect``
        True / False: the command must be accepted / refused."""
        before = self.rows
        rule_name = sys._getframe(1).f_code.co_name  # for --hypothesis-show-statistics
        try:
            result = run()
        except EngineError as err:
            event(f"{rule_name}: refused")
            assert dump_tables(self.engine) == before, f"a refused command changed rows: {err}"
            assert expect is not True, f"command refused: {type(err).__name__}: {err}"
            return None
        event(f"{rule_name}: accepted")
        assert expect is not False, f"command accepted: {result!r}"
        self.rows = dump_tables(self.engine)
        self.cases = sorted((row["ref"] for row in self.rows["cases"]), key=ref_order)
        return result

    def _open_actions(self) -> list[str]:
        """To Do / In Progress actions of every case but sub-case steps (their sub-case
        completes them; see ``complete_subcase_step``)."""
        processes = {row["ref"]: str(row["process"]) for row in self.rows["cases"]}
        return sorted(
            (
                row["ref"]
                for row in self.rows["actions"]
                if S(row["status"]) in OPEN_WORK
                and not self._is_subcase_step(processes[row["case_ref"]], row["action_type"])
            ),
            key=ref_order,
        )

    def _is_subcase_step(self, process: str, action_type: str) -> bool:
        definition = self._model(process).action(action_type)
        return definition is not None and definition.subcase is not None

    def _process_of(self, ref: str) -> str:
        return next(str(row["process"]) for row in self.rows["cases"] if row["ref"] == ref)

    # -- rules: cases --------------------------------------------------------------------------

    @initialize(
        process=st.sampled_from(TOP_PROCESSES), data=case_data(), by=USER, steps=st.integers(0, 6)
    )
    def started_case(self, process: str, data: dict[str, Any], by: str, steps: int) -> None:
        """Every run starts with a case being worked on, some steps into its flow."""
        case = self._command(
            lambda: self.engine.create_case(process, by=by, data=data, submit=True), expect=True
        )
        assert case is not None
        self._command(lambda: self.engine.start_work(case.ref, by=by), expect=True)
        self._complete_some(case.ref, steps, by, {})

    def _complete_some(self, ref: str, steps: int, by: str, data: dict[str, Any]) -> None:
        """Complete up to ``steps`` open actions of a case, one after the other (the first
        with ``data``), stopping at the first refusal."""
        for n in range(steps):
            owner = {row["ref"]: row["case_ref"] for row in self.rows["actions"]}
            mine = [a for a in self._open_actions() if owner[a] == ref]
            if not mine:
                return
            payload = data if n == 0 else None
            done = self._command(partial(self.engine.complete_action, mine[0], by=by, data=payload))
            if done is None:
                return

    @precondition(lambda self: len(self.cases) < 12)
    @rule(process=st.sampled_from(TOP_PROCESSES), data=case_data(), by=USER, how=INDEX)
    def create_case(self, process: str, data: dict[str, Any], by: str, how: int) -> None:
        """A new case: a Draft now and then, else submitted, mostly also started."""
        case = self._command(
            lambda: self.engine.create_case(process, by=by, data=data, submit=how % 5 > 0),
            expect=True,
        )
        if case is not None and how % 5 > 1:
            self._command(lambda: self.engine.start_work(case.ref, by=by), expect=True)

    @precondition(lambda self: any(r["status"] in (S.DRAFT, S.TO_DO) for r in self.rows["cases"]))
    @rule(case=INDEX, by=USER)
    def move_on(self, case: int, by: str) -> None:
        """Submit a Draft, start a To Do case."""
        ref = self._case(case, S.DRAFT, S.TO_DO)
        if self._statuses()[ref] is S.DRAFT:
            self._command(lambda: self.engine.submit(ref, by=by))
        else:
            self._command(lambda: self.engine.start_work(ref, by=by))

    @precondition(lambda self: self.cases)
    @rule(case=INDEX, by=USER, how=st.sampled_from(["more_info", "paused", "reply", "end"]))
    def hold_or_reply(self, case: int, by: str, how: str) -> None:
        """Hold an open case (more_info with the process's first reason, or paused); end a
        hold by a reply (ends more_info) or by a person setting In Progress (ends any)."""
        if how in ("reply", "end"):
            ref = self._case(case, S.WAITING)
            if how == "reply":
                self._command(lambda: self.engine.reply(ref, body="here", sender="c@x.org"))
            else:
                self._command(lambda: self.engine.set_status(ref, S.IN_PROGRESS, by=by))
            return
        ref = self._case(case, *OPEN_WORK)
        if how == "more_info":
            reasons = self._model(self._process_of(ref)).settings.more_info_reasons
            reason = reasons[0] if reasons else None
            self._command(lambda: self.engine.hold(ref, HoldKind.MORE_INFO, by=by, reason=reason))
        else:
            self._command(lambda: self.engine.hold(ref, HoldKind.PAUSED, by=by))

    @precondition(lambda self: self.cases)
    @rule(case=INDEX, by=USER, how=st.sampled_from(["resolve", "resolve", "close", "cancel"]))
    def finish_case(self, case: int, by: str, how: str) -> None:
        """Resolve (SC1, R1: never with an unfinished sub-case), maybe let the feedback window
        close it (the clock moves, timers fire), or cancel."""
        if how == "cancel":
            ref = self._case(case, S.DRAFT, S.TO_DO, S.IN_PROGRESS, S.WAITING)
            self._command(lambda: self.engine.cancel(ref, by=by))
            return
        ref = self._case(case, *OPEN_WORK)
        if self._statuses()[ref] is S.TO_DO:
            self._command(lambda: self.engine.set_status(ref, S.IN_PROGRESS, by=by))
        unfinished = [s.ref for s in stored(self.engine, ref).subcases if s.status.is_open]
        self._command(lambda: self.engine.resolve(ref, by=by), expect=False if unfinished else None)
        if how == "close":
            self.clock.advance(timedelta(days=2))
            self._command(self.engine.tick, expect=True)

    # -- rules: actions ------------------------------------------------------------------------

    @precondition(lambda self: self._open_actions())
    @rule(action=INDEX, by=USER, data=flip_data())
    def complete_action(self, action: int, by: str, data: dict[str, Any]) -> None:
        """Complete an open action (not a sub-case step: its sub-case completes it), merging
        data that may flip the conditions of later stages."""
        ref = self._pick(self._open_actions(), action)
        self._command(lambda: self.engine.complete_action(ref, by=by, data=data))

    def _open_subcase_steps(self) -> list[str]:
        processes = {row["ref"]: str(row["process"]) for row in self.rows["cases"]}
        return [
            row["ref"]
            for row in self.rows["actions"]
            if S(row["status"]) in OPEN_WORK
            and self._is_subcase_step(processes[row["case_ref"]], row["action_type"])
        ]

    @precondition(lambda self: self._open_subcase_steps())
    @rule(action=INDEX, by=USER)
    def complete_subcase_step(self, action: int, by: str) -> None:
        """SC1: an open sub-case step waits for its sub-case (open, by the invariant): it is
        not completed by hand."""
        ref = self._pick(self._open_subcase_steps(), action)
        self._command(lambda: self.engine.complete_action(ref, by=by), expect=False)

    @precondition(lambda self: self._open_actions())
    @rule(case=INDEX, steps=st.integers(1, 6), by=USER, data=flip_data())
    def advance_case(self, case: int, steps: int, by: str, data: dict[str, Any]) -> None:
        """Complete several open actions of one case in a row, so that cases reach their
        later stages and have rework points."""
        owner = {row["ref"]: row["case_ref"] for row in self.rows["actions"]}
        refs = sorted({owner[a] for a in self._open_actions()}, key=ref_order)
        self._complete_some(self._pick(refs, case), steps, by, data)

    @precondition(lambda self: self.cases)
    @rule(case=INDEX, kind=INDEX, by=USER, count=st.integers(1, 3), from_action=st.booleans())
    def launch_action(self, case: int, kind: int, by: str, count: int, from_action: bool) -> None:
        """A1, A2: manual_launch types are launched (from the case or one of its actions)
        while the case is To Do / In Progress, creating ad hoc actions and changing nothing
        else; other types are always refused."""
        ref = self._case(case, *OPEN_WORK)
        status = self._statuses()[ref]
        model = self._model(self._process_of(ref))
        types = [a for stage in model.stages for a in stage.actions]
        manual = [a for a in types if a.manual_launch]
        definition = manual[kind % len(manual)] if kind % 4 and manual else types[kind % len(types)]
        expect: bool | None = None
        if not definition.manual_launch or status in (S.DRAFT, *FINISHED):
            expect = False
        elif status in OPEN_WORK:
            expect = True
        target = ref
        if from_action:
            mine = [row["ref"] for row in self.rows["actions"] if row["case_ref"] == ref]
            target = self._pick(mine, kind) if mine else ref
        before = self.rows
        launched = self._command(
            lambda: self.engine.launch_action(target, definition.id, by=by, count=count), expect
        )
        if launched is None:
            return
        assert len(launched) == count
        assert all(a.ad_hoc and a.status is S.TO_DO and a.case_ref == ref for a in launched)
        for table in ("cases", "workflows", "timers"):
            assert self.rows[table] == before[table], f"launch_action changed {table} (A2)"
        old = {row["ref"]: row for row in before["actions"]}
        assert all(old[row["ref"]] == row for row in self.rows["actions"] if row["ref"] in old)

    # -- rules: rework -------------------------------------------------------------------------

    @precondition(lambda self: self.cases)
    @rule(
        case=INDEX,
        point=INDEX,
        by=USER,
        finish_subcases=st.booleans(),
        finish_adhoc=st.booleans(),
        fit=st.integers(0, 4).map(bool),
    )
    def rework_offered(
        self, case: int, point: int, by: str, finish_subcases: bool, finish_adhoc: bool, fit: bool
    ) -> None:
        """RW1, RW3, RW7-RW10: rework to an offered point of a To Do / In Progress case
        is accepted; the case is In Progress, the open flow actions are closed, the flow
        restarts at the point."""
        with_points = [ref for ref in self.cases if self.points.get(ref)]
        if fit and with_points:
            statuses = self._statuses()
            ref = self._pick(
                [r for r in with_points if statuses[r] in OPEN_WORK] or with_points, case
            )
        else:
            ref = self._pick(self.cases, case)
        points = self.engine.rework_points(ref)
        if not points and self._statuses()[ref] in OPEN_WORK:
            self._complete_some(ref, 3, by, {})  # move on until a point is offered
            points = self.engine.rework_points(ref)
        if not points:
            event("rework_offered: no point")
            return
        chosen = points[point % len(points)]
        status = self._statuses()[ref]
        before = stored(self.engine, ref)
        expect = True if status in OPEN_WORK else False if status in (S.DRAFT, *FINISHED) else None
        target: dict[str, Any] = (
            {"stage": chosen.stage} if chosen.action is None else {"action": chosen.action}
        )
        call = partial(
            self.engine.rework,
            ref,
            by=by,
            finish_subcases=finish_subcases,
            finish_adhoc=finish_adhoc,
            **target,
        )
        result = self._command(call, expect)
        if result is None:
            return
        self._check_reworked(
            before, stored(self.engine, ref), chosen, finish_subcases, finish_adhoc
        )

    def _check_reworked(
        self, before: Stored, after: Stored, point: ReworkPoint, subs: bool, adhoc: bool
    ) -> None:
        ref = after.case.ref
        assert after.case.status is S.IN_PROGRESS, f"RW8: {ref} is {after.case.status.value}"
        now = {a.ref: a for a in after.actions}
        for old in before.actions:
            if old.status not in OPEN_ACTION:
                continue
            new = now[old.ref]
            if old.ad_hoc and not adhoc:
                assert new.status is old.status, f"RW7: ad hoc {old.ref} changed"
            else:
                assert new.status is S.CLOSED, f"RW8: {old.ref} is {new.status.value}"
        for old_sub in before.subcases:
            sub = next(s for s in after.subcases if s.ref == old_sub.ref)
            if old_sub.status.is_open:
                want = S.CANCELLED if subs else old_sub.status
                assert sub.status is want, f"RW7: sub-case {sub.ref} is {sub.status.value}"
        fresh = [a for a in after.actions if a.ref not in {b.ref for b in before.actions}]
        assert all(not a.ad_hoc and a.status in OPEN_WORK for a in fresh), fresh
        if point.action is None:  # RW3: conditions re-evaluated, stages may be skipped
            assert after.workflow is not None
            finished = self._flow(after.case, after.workflow).finished
            assert fresh or finished, f"{ref}: rework to {point} created no action"
            assert min((a.stage for a in fresh), default=point.stage) >= point.stage, fresh
        else:  # not re-evaluated: the action's own step comes back
            assert point.action_type in {a.action_type for a in fresh}, (point, fresh)
            assert all(a.stage == point.stage for a in fresh), (point, fresh)
            self._check_RW10(before, after, point, fresh)
        reworks = self.engine.timeline(ref, kinds=["rework"])
        assert reworks, f"RW9: no rework event for {ref}"
        details = reworks[-1].details
        assert (details["stage"], details["action"]) == (point.stage, point.action), details
        for action in fresh[:1]:  # RW9: seen from the related activities too
            seen = self.engine.timeline(action.ref, kinds=["rework"])
            assert reworks[-1].id in {e.id for e in seen}, f"RW9: not in {action.ref}'s timeline"

    @staticmethod
    def _check_RW10(
        before: Stored, after: Stored, point: ReworkPoint, fresh: list[ActionRecord]
    ) -> None:
        """RW10: the re-created action goes to whoever completed it (when the point is the
        latest action of its type), unless the case keeps actions with its assignee."""
        same = [a for a in before.actions if a.action_type == point.action_type and not a.ad_hoc]
        latest = max(same, key=lambda a: a.seq)
        [copy] = [a for a in fresh if a.action_type == point.action_type]
        if after.case.keep_actions_with_me:
            assert copy.assignee == after.case.assignee, (copy, after.case.assignee)
        elif latest.ref == point.action:
            assert copy.assignee == latest.completed_by, (copy, latest)

    @precondition(lambda self: self.cases)
    @rule(
        case=INDEX,
        choice=INDEX,
        to_stage=st.booleans(),
        by=USER,
        finish_subcases=st.booleans(),
        finish_adhoc=st.booleans(),
    )
    def rework_not_offered(
        self,
        case: int,
        choice: int,
        to_stage: bool,
        by: str,
        finish_subcases: bool,
        finish_adhoc: bool,
    ) -> None:
        """RW4-RW6, bad input: a stage or action that is not offered (current, later, ad hoc,
        open, unknown, another case's) is refused with an EngineError; nothing changes."""
        ref = self._case(choice, *OPEN_WORK, fit=bool(case % 4))
        points = self.engine.rework_points(ref)
        n_stages = len(self._model(self._process_of(ref)).stages)
        target: dict[str, Any]
        if to_stage:
            offered = {p.stage for p in points if p.action is None}
            stages = [s for s in range(-1, n_stages + 3) if s not in offered]
            target = {"stage": stages[case % len(stages)]}
        else:
            offered_refs = {p.action for p in points if p.action is not None}
            refs = [row["ref"] for row in self.rows["actions"] if row["ref"] not in offered_refs]
            refs += ["A-0", "nope"]
            target = {"action": refs[case % len(refs)]}
        call = partial(
            self.engine.rework,
            ref,
            by=by,
            finish_subcases=finish_subcases,
            finish_adhoc=finish_adhoc,
            **target,
        )
        self._command(call, expect=False)

    # -- rules: sub-cases ----------------------------------------------------------------------

    @precondition(lambda self: self.cases)
    @rule(case=INDEX, by=USER, titled=st.booleans())
    def create_subcase(self, case: int, by: str, titled: bool) -> None:
        """SC1-SC3, SC5, SC9, SC10: a permitted sub-case of an open case is ``<parent>-<n+1>``
        with the parent's customer and a copy of its data; never of a finished case."""
        ref = self._case(case, S.DRAFT, *OPEN_WORK, S.WAITING)
        parent = stored(self.engine, ref).case
        permitted = "fraud_check" in self._model(parent.process).settings.subcases
        expect: bool | None = None
        if not permitted or parent.status in (S.CLOSED, S.CANCELLED):
            expect = False
        elif parent.status in OPEN_WORK:
            expect = True
        title = "by hand" if titled else None
        sub = self._command(
            lambda: self.engine.create_subcase(
                ref, "fraud_check", by=by, title=title, calendar="office"
            ),
            expect,
        )
        if sub is None:
            return
        assert sub.ref == f"{ref}-{parent.subcase_count + 1}", (sub.ref, parent.subcase_count)
        assert (sub.parent, sub.customer, sub.status) == (ref, parent.customer, S.TO_DO)
        assert sub.data == parent.data, "SC6: the sub-case starts with the parent's data"

    def _open_subcases(self) -> list[str]:
        return [
            str(row["ref"])
            for row in self.rows["cases"]
            if row["parent"] is not None and S(row["status"]).is_open
        ]

    @precondition(lambda self: self._open_subcases())
    @rule(sub=INDEX, by=USER, data=flip_data())
    def work_subcase(self, sub: int, by: str, data: dict[str, Any]) -> None:
        """Complete the first open action of an open sub-case (its data goes up, SC6)."""
        ref = self._pick(sorted(self._open_subcases(), key=ref_order), sub)
        actions = [a for a in stored(self.engine, ref).actions if a.status in OPEN_WORK]
        if actions:
            first = min(actions, key=lambda a: a.seq)
            self._command(lambda: self.engine.complete_action(first.ref, by=by, data=data))

    @precondition(lambda self: self._open_subcases())
    @rule(sub=INDEX, by=USER, how=st.sampled_from(["resolve", "cancel"]))
    def finish_subcase(self, sub: int, by: str, how: str) -> None:
        """SC1: a sub-case finishing completes the open flow step that started it."""
        ref = self._pick(sorted(self._open_subcases(), key=ref_order), sub)
        if how == "cancel":
            done = self._command(lambda: self.engine.cancel(ref, by=by))
        else:
            if self._statuses()[ref] is not S.IN_PROGRESS:
                self._command(lambda: self.engine.set_status(ref, S.IN_PROGRESS, by=by))
            done = self._command(lambda: self.engine.resolve(ref, by=by))
        if done is None:
            return
        record = stored(self.engine, ref).case
        assert record.parent is not None
        step = next(
            (row for row in self.rows["actions"] if row["ref"] == record.created_from), None
        )
        if step is not None and step["case_ref"] == record.parent:
            assert S(step["status"]) not in OPEN_ACTION, (
                f"SC1: {ref} finished but its step {step['ref']} is {step['status']}"
            )

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def every_case_is_consistent(self) -> None:
        self.points = {}
        for ref in self.cases:
            view = stored(self.engine, ref)
            ready = self._check_flow(view)
            self._check_subcases(view)
            self._check_rework_points(view, ready)

    def _runner(self, process: str, version: int) -> FlowRunner:
        """A runner of our own, not the engine's shared one (``runner_for``): its ``loads``
        would take the workflow the engine released for reuse (``dumps(release=True)``), so
        the engine would never run that path under this test."""
        key = (process, version)
        runner = self.runners.get(key)
        if runner is None:
            runner = self.runners[key] = FlowRunner(self.engine.definition(process, version))
        return runner

    def _flow(self, case: CaseRecord, state: str) -> Flow:
        """The stored workflow as the invariants see it (cached by its text)."""
        cached = self.flow_cache.get(state)
        if cached is None:
            runner = self._runner(case.process, case.version)
            workflow = runner.loads(state)
            steps = [Ready(s.task_id, s.action_id, s.stage) for s in runner.ready_steps(workflow)]
            completed = frozenset(
                str(task.id)
                for flow in (workflow, *workflow.subprocesses.values())
                for task in flow.get_tasks(state=TaskState.COMPLETED)
            )
            cached = Flow(runner.is_finished(workflow), steps, completed)
            self.flow_cache[state] = cached
        return cached

    def _check_flow(self, view: Stored) -> Flow | None:
        """Every open flow action is one READY task (same id, type, stage); while To Do / In
        Progress, every READY task has exactly one open action."""
        case = view.case
        open_flow = [a for a in view.actions if not a.ad_hoc and a.status in OPEN_ACTION]
        if view.workflow is None:
            assert not open_flow, f"{case.ref}: open flow actions without a workflow"
            return None
        flow = self._flow(case, view.workflow)
        ready = flow.ready
        by_task = {step.task_id: step for step in ready}
        for action in open_flow:
            assert action.task_id is not None, f"{case.ref}: flow action {action.ref} no task"
            step = by_task.get(action.task_id)
            assert step is not None, (
                f"{case.ref} ({case.status.value}): open action {action.ref} "
                f"({action.action_type}, stage {action.stage}) is no READY task; READY: "
                f"{[(s.action_id, s.stage) for s in ready]}"
            )
            assert (step.action_id, step.stage) == (action.action_type, action.stage), (
                action,
                step,
            )
        tasks = [a.task_id for a in open_flow]
        assert len(tasks) == len(set(tasks)), f"{case.ref}: two open actions share a task"
        if case.status in OPEN_WORK:
            missing = [(s.action_id, s.stage) for s in ready if s.task_id not in set(tasks)]
            listed = [(a.ref, a.action_type, a.status.value) for a in view.actions]
            assert not missing, (
                f"{case.ref} is {case.status.value}: READY steps without an open action: "
                f"{missing}; actions: {listed}"
            )
        return flow

    def _check_subcases(self, view: Stored) -> None:
        """SC10 consecutive references, SC3 customer; SC1 an open step has its open sub-case."""
        ref = view.case.ref
        subs = sorted(view.subcases, key=lambda s: ref_order(s.ref))
        assert [s.ref for s in subs] == [f"{ref}-{n}" for n in range(1, len(subs) + 1)], subs
        assert view.case.subcase_count == len(subs), (ref, view.case.subcase_count, len(subs))
        for sub in subs:
            assert (sub.parent, sub.customer) == (ref, view.case.customer), sub
        model = self._model(view.case.process, view.case.version)
        for action in view.actions:
            definition = model.action(action.action_type)
            if action.ad_hoc or definition is None or definition.subcase is None:
                continue
            started = [s for s in subs if s.created_from == action.ref]
            if action.status in OPEN_ACTION:
                assert len(started) == 1 and started[0].status.is_open, (
                    f"SC1: open step {action.ref} of {ref} and its sub-cases {started}"
                )

    def _check_rework_points(self, view: Stored, flow: Flow | None) -> None:
        """RW4-RW6: no current or later stage, no ad hoc action; action points are the case's
        completed flow actions of their own (earlier) stage."""
        case = view.case
        points = self.engine.rework_points(case.ref)
        self.points[case.ref] = points
        n_stages = len(self._model(case.process, case.version).stages)
        open_stages = [a.stage for a in view.actions if not a.ad_hoc and a.status in OPEN_ACTION]
        if open_stages:
            current = max(open_stages)
        elif flow is None:
            current = 1
        elif flow.finished:
            current = n_stages + 1
        else:
            current = max((step.stage for step in flow.ready), default=1)
        actions = {a.ref: a for a in view.actions}
        stage_points = [p.stage for p in points if p.action is None]
        assert len(stage_points) == len(set(stage_points)), points
        for point in points:
            assert 1 <= point.stage < current, (
                f"RW5/RW6: {case.ref} is at stage {current}, offered {point}"
            )
            if point.action is None:
                continue
            action = actions.get(point.action)
            assert action is not None, f"{case.ref}: offered another case's action {point}"
            assert not action.ad_hoc, f"RW4: ad hoc {action.ref} offered"
            assert action.status is S.RESOLVED and action.task_id is not None, action
            assert action.stage == point.stage, (action, point)
            assert flow is not None and action.task_id in flow.completed, (
                f"RW6: {case.ref} offers {action.ref} ({action.action_type}, stage "
                f"{action.stage}) but a later rework undid its step: the stored workflow has "
                "no completed task for it, so the flow cannot restart there"
            )


@pytest.fixture
def machine_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """One in-memory engine for the whole state-machine run, every process deployed."""
    with Engine("sqlite:///:memory:", clock=ManualClock(T0)) as engine:
        deploy_all(engine, tmp_path)
        monkeypatch.setattr(ReworkMachine, "shared_engine", engine)
        yield engine


def test_RW8_SC1_A2_workflow_and_actions_agree_under_random_commands(
    machine_engine: Engine,
) -> None:
    """No shrinking: one run takes a few seconds, but shrinking a failure of this machine
    takes Hypothesis minutes; a failure prints its whole (unshrunk) sequence of steps and is
    replayed first next time. Add ``Phase.shrink`` when debugging one."""
    run_state_machine_as_test(
        ReworkMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            phases=(Phase.explicit, Phase.reuse, Phase.generate),
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# -- deterministic sequences ---------------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine("sqlite:///:memory:", clock=ManualClock(T0)) as eng:
        deploy_all(eng, tmp_path)
        yield eng


def _open(engine: Engine, ref: str) -> list[tuple[str, int, S]]:
    return sorted(
        (a.action_type, a.stage, a.status)
        for a in engine.actions(ref)
        if a.status in OPEN_WORK and not a.ad_hoc
    )


def test_SC1_subcase_step_is_not_completed_by_hand_while_its_subcase_runs(engine: Engine) -> None:
    """SC1 (issue 4: "the flow step that starts a sub-case waits for it"): completing the
    step's action by hand while its sub-case is unfinished is refused, nothing changes; the
    step completes when the sub-case finishes."""
    case = engine.create_case(
        "claim", by="ann", data={"amount": 8000, "prior_claims": 0}, submit=True
    )
    engine.complete_action(engine.actions(case.ref)[0].ref, by="bob")
    [step] = [a for a in engine.actions(case.ref) if a.action_type == "fraud_check"]
    assert step.status is S.IN_PROGRESS
    before = dump_tables(engine)
    with pytest.raises(EngineError):
        engine.complete_action(step.ref, by="bob")
    assert dump_tables(engine) == before
    engine.cancel(f"{case.ref}-1", by="sam")
    assert engine.action(step.ref).status is S.RESOLVED
    assert _open(engine, case.ref) == [("assess", 3, S.TO_DO)]


def test_RW3_rework_to_a_skipped_stage_re_evaluates_its_condition(engine: Engine) -> None:
    """RW3, RW5: a stage skipped by its condition is still offered (it is before the current
    stage); reworking to it with data now meeting the condition runs it."""
    case = engine.create_case("mini", by="ann", data={"amount": 50}, submit=True)
    for _ in range(2):
        [todo] = [a for a in engine.actions(case.ref) if a.status in OPEN_WORK]
        engine.complete_action(todo.ref, by="bob")
    assert _open(engine, case.ref) == [("c1", 3, S.TO_DO), ("c2", 3, S.TO_DO)]
    [left] = [a for a in engine.actions(case.ref) if a.action_type == "c1"]
    engine.complete_action(left.ref, by="bob", data={"amount": 500})
    assert [p.stage for p in engine.rework_points(case.ref) if p.action is None] == [1, 2]
    reworked = engine.rework(case.ref, by="cy", stage=2)
    assert reworked.status is S.IN_PROGRESS
    assert _open(engine, case.ref) == [("b1", 2, S.TO_DO)]
    assert not [p for p in engine.rework_points(case.ref) if p.stage >= 2]


def test_RW8_rework_inside_a_parallel_stage_restarts_both_branches(engine: Engine) -> None:
    """A rework from one action of a parallel stage restarts the whole stage: both branches
    come back as To Do copies and the join still waits for both."""
    case = engine.create_case("mini", by="ann", data={"amount": 500}, submit=True)
    engine.start_work(case.ref, by="ann")
    while _open(engine, case.ref) != [("d1", 4, S.TO_DO)]:
        todo = min(
            (a for a in engine.actions(case.ref) if a.status in OPEN_WORK), key=lambda a: a.ref
        )
        engine.complete_action(todo.ref, by="bob")
    c1 = next(p for p in engine.rework_points(case.ref) if p.action_type == "c1")
    engine.rework(case.ref, by="cy", action=c1.action)
    assert _open(engine, case.ref) == [("c1", 3, S.TO_DO), ("c2", 3, S.TO_DO)]
    [left] = [a for a in engine.actions(case.ref) if a.action_type == "c1" and a.status is S.TO_DO]
    engine.complete_action(left.ref, by="bob")
    assert _open(engine, case.ref) == [("c2", 3, S.TO_DO)]
    [right] = [a for a in engine.actions(case.ref) if a.status in OPEN_WORK]
    engine.complete_action(right.ref, by="bob")
    assert _open(engine, case.ref) == [("d1", 4, S.TO_DO)]


def test_RW4_rework_refusals_change_nothing(engine: Engine) -> None:
    """Bad input: the current stage, a later stage, an unknown stage, an ad hoc action, an
    open action, another case's action, both or neither of stage and action: each an
    EngineError, no stored row changed."""
    case = engine.create_case("mini", by="ann", data={"amount": 500}, submit=True)
    other = engine.create_case("mini", by="ann", data={"amount": 500}, submit=True)
    for ref in (case.ref, case.ref, other.ref):
        [todo] = [a for a in engine.actions(ref) if a.status in OPEN_WORK]
        engine.complete_action(todo.ref, by="bob")
    [adhoc] = engine.launch_action(case.ref, "extra", by="cy")
    engine.complete_action(adhoc.ref, by="cy")
    [b1] = [a for a in engine.actions(case.ref) if a.status in OPEN_WORK]
    assert b1.action_type == "b1"
    foreign = next(a for a in engine.actions(other.ref) if a.status is S.RESOLVED)
    before = dump_tables(engine)
    bad: list[dict[str, Any]] = [
        {"stage": 2},
        {"stage": 3},
        {"stage": 0},
        {"stage": 9},
        {"action": adhoc.ref},
        {"action": b1.ref},
        {"action": foreign.ref},
        {"action": "A-999"},
        {},
        {"stage": 1, "action": foreign.ref},
    ]
    for kwargs in bad:
        with pytest.raises(EngineError):
            engine.rework(case.ref, by="cy", finish_adhoc=True, finish_subcases=True, **kwargs)
        assert dump_tables(engine) == before, kwargs


def test_RW6_action_point_undone_by_a_later_rework_is_not_offered(engine: Engine) -> None:
    """RW1, RW6: after a rework to stage 1, data that now skips stage 2 takes the flow past it;
    stage 2's action completed before that rework was undone with it (the workflow no longer
    holds its step), so it is no rework point. The engine offers it and ``rework`` then fails
    with a ValueError from the flow runner instead of an EngineError."""
    case = engine.create_case("mini", by="ann", data={"amount": 500}, submit=True)

    def complete_next(data: dict[str, Any] | None = None) -> None:
        todo = min(
            (a for a in engine.actions(case.ref) if a.status in OPEN_WORK),
            key=lambda a: ref_order(a.ref),
        )
        engine.complete_action(todo.ref, by="bob", data=data)

    for _ in range(5):  # a1, a2, b1, c1, c2
        complete_next()
    assert _open(engine, case.ref) == [("d1", 4, S.TO_DO)]
    engine.rework(case.ref, by="cy", stage=1)
    complete_next({"amount": 50})  # a1: Check (amount > 100) will be skipped
    complete_next()  # a2
    assert _open(engine, case.ref) == [("c1", 3, S.TO_DO), ("c2", 3, S.TO_DO)]
    offered = [(p.stage, p.action_type) for p in engine.rework_points(case.ref)]
    assert (2, None) in offered  # the stage itself may be chosen (RW3 re-evaluates it)
    assert (2, "b1") not in offered, f"stage 2's b1 was undone by the rework: {offered}"
