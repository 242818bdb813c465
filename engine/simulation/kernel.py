"""The discrete-event kernel: runs one replication of a :class:`Scenario` on a virtual clock.

Stepping SpiffWorkflow per task cannot reach the throughput analysts need, so the scenario's
processes are compiled into a small token machine over the *same* BPMN graph the runtime runs
(:mod:`engine.simulation.graph`), with the case layer on top, mirroring the runtime's rules:

- a case arrives created and submitted (To Do); its ``due`` is the arrival plus the case due
  rule on the case calendar, with the runtime's own calendar code (``engine.calendars``);
- tokens walk the graph: exclusive gateways branch by the scenario's probabilities when it
  gives them, otherwise by their conditions on the case data (the runtime's safe evaluator,
  default flow when none holds); parallel gateways split and join; a step that starts a
  sub-case (``ActionDef.subcase``) waits for it (SC1);
- an enabled action queues FIFO for the pools that do it; a free resource takes it at its next
  working instant and works ``duration`` of working time of its calendar (time off the
  calendar is recorded apart). Robots may refuse at the start (S3) or fail at the end (S4):
  the action goes back to the queue for a person;
- when an action completes, in the replay order of the runtime: sub-case spawns (SC1-SC5),
  then either a rework (RW1-RW8: every open action of the case closes and the flow restarts at
  the chosen stage entry, conditions re-evaluated, RW3, or at the chosen action) or a hold
  taken while the action was worked (H1-H9: the completion creates no follow-on action until
  the hold ends, H2; ``more_info`` pauses the SLA when the process adds wait time to the due
  date, H4; ``until`` and ``paused`` let it run, H6, H7);
- when the flow is finished and every sub-case is finished the case is resolved (R1, SC1).

The scenario is compiled first (:mod:`engine.simulation.program`); this module holds the
runtime state (:class:`Work`, :class:`CaseState`) and the event loop (:class:`Kernel`).
Time is float seconds since the epoch (UTC). Nothing here reads the system clock.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.calendars import WorkingCalendar, due_date
from engine.errors import Problem
from engine.expressions import truthy
from engine.runtime.sla import due_after, left_until
from engine.simulation.program import (
    ActionType,
    Pool,
    ProcessProgram,
    Program,
    Resource,
    SimulationError,
)
from engine.simulation.results import HOLD_INDEX, ReplicationLog
from engine.simulation.scenario_model import (
    HoldSpec,
    ReworkSpec,
    Scenario,
)

__all__ = ["CaseState", "Kernel", "SimulationError", "Work", "run_replication"]

_ARRIVAL = 0
_COMPLETE = 1
_HOLD_END = 2
_REFUSE = 3
_DAY = 4

DAY = 86_400.0

_DONE = 0
_FAILED = 1
_REFUSED = 2
_STOPPED = 3

Trace = list[tuple[float, str, dict[str, object]]]


class Work:
    """One action instance waiting for, or being worked by, a resource."""

    __slots__ = ("case", "act", "node", "enable", "taken", "cancelled", "res", "start", "dur")

    def __init__(self, case: CaseState, act: ActionType, node: int, enable: float) -> None:
        self.case = case
        self.act = act
        self.node = node
        self.enable = enable
        self.taken = False
        self.cancelled = False
        self.res: Resource | None = None
        self.start = 0.0
        self.dur = 0.0


class CaseState:
    """A case (or sub-case) while it runs: its tokens, open work, hold and SLA."""

    __slots__ = (
        "index",
        "proc",
        "data",
        "parent",
        "arrival",
        "tokens",
        "joins",
        "open",
        "hold",
        "hold_start",
        "hold_seq",
        "stash",
        "subcases",
        "resume",
        "resume_epoch",
        "epoch",
        "due",
        "calendar",
        "sla_left",
        "done",
        "flow_done_at",
        "completed",
        "trace",
    )

    def __init__(
        self, index: int, proc: ProcessProgram, parent: CaseState | None, arrival: float
    ) -> None:
        self.index = index
        self.proc = proc
        self.data: dict[str, Any] = {}
        self.parent = parent
        self.arrival = arrival
        self.tokens = 0
        self.joins: dict[int, int] | None = None
        self.open: list[Work] = []
        self.hold = -1
        self.hold_start = 0.0
        self.hold_seq = 0
        self.stash: list[int] = []
        self.subcases = 0
        self.resume = -1
        self.resume_epoch = 0
        self.epoch = 0
        self.due = math.nan
        self.calendar: WorkingCalendar | None = proc.calendar
        self.sla_left: timedelta | None = None
        self.done = False
        self.flow_done_at = math.nan
        self.completed: set[str] | None = None
        self.trace: Trace | None = None


def _epoch(at: datetime) -> float:
    return at.timestamp()


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Kernel:
    """One replication. Build, then :meth:`run` once.

    ``on_progress(n)`` is told of progress: with a number of cases, one per top-level case
    that finishes; with a horizon, one per simulated day.
    """

    def __init__(
        self,
        scenario: Scenario,
        replication: int,
        seed: int,
        *,
        trace: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.rng = random.Random(seed)
        self.trace = trace
        self.on_case_end = on_progress if scenario.cases is not None else None
        self.on_day = on_progress if scenario.cases is None else None
        self.start = _epoch(scenario.start)
        self.log = ReplicationLog(
            replication=replication, seed=seed, start=self.start, end=self.start
        )
        program = Program(scenario, self.rng, self.log)
        self.procs = program.procs
        self.acts = program.acts
        self.pools = program.pools
        self.all_res = program.resources
        self.arrival_proc = program.arrival_proc
        self.interarrival = program.interarrival
        self.arrival_cal = program.arrival_cal
        self.arrival_always = program.arrival_always
        self.arrival_wall = program.arrival_wall
        self.heap: list[tuple[float, int, int, Any]] = []
        acts = self.log.acts
        self._columns = (
            acts.case.append,
            acts.activity.append,
            acts.enable.append,
            acts.start.append,
            acts.end.append,
            acts.resource.append,
            acts.processing.append,
            acts.outcome.append,
        )
        self.seq = 0
        self.cases: list[CaseState] = []
        self.wip = 0
        self.arrived = 0
        self.limit_cases = scenario.cases
        self.limit_time = (
            self.start + scenario.horizon if scenario.horizon is not None else math.inf
        )

    # -- event loop -------------------------------------------------------------------------

    def _push(self, at: float, kind: int, obj: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, kind, obj))

    def run(self) -> ReplicationLog:
        """Process every event (until the horizon, if any) and return the log."""
        first = self.start if self.arrival_always else self.arrival_cal.next_working(self.start)
        if first <= self.limit_time and (self.limit_cases is None or self.limit_cases > 0):
            self._push(first, _ARRIVAL, None)
        if self.on_day is not None:
            self._push(self.start + DAY, _DAY, None)
        heap = self.heap
        pop = heapq.heappop
        limit = self.limit_time
        now = self.start
        while heap:
            at, _, kind, obj = heap[0]
            if at > limit:
                break
            pop(heap)
            now = at
            if kind == _COMPLETE:
                self._complete(obj, now)
            elif kind == _ARRIVAL:
                self._arrive(now)
            elif kind == _HOLD_END:
                self._hold_end(obj[0], obj[1], now)
            elif kind == _REFUSE:
                self._refused(obj, now)
            else:
                self._day(now)
        end = limit if limit != math.inf else now
        self._finish(end)
        return self.log

    def _day(self, now: float) -> None:
        """Progress: one more simulated day."""
        assert self.on_day is not None
        self.on_day(1)
        self._push(now + DAY, _DAY, None)

    def _finish(self, end: float) -> None:
        log = self.log
        log.end = end
        res_log = log.resources
        available = {id(p): p.cal.working_between(self.start, end) for p in self.pools}
        for case in self.cases:  # work still in hand at the horizon counts until then
            for work in case.open:
                res = work.res
                if res is not None and work.taken and not work.cancelled and work.start < end:
                    res.busy += min(work.dur, res.pool.cal.working_between(work.start, end))
        for res in self.all_res:
            res_log.busy[res.index] = res.busy
            res_log.available[res.index] = available[id(res.pool)]
        cases = log.cases
        for case in self.cases:
            cases.due[case.index] = case.due if case.sla_left is None else math.nan
            if case.hold >= 0:
                cases.hold[case.index * 3 + case.hold] += end - case.hold_start
            if case.trace is not None:
                case.trace.sort(key=_at)
                log.traces[case.index] = case.trace

    # -- cases ------------------------------------------------------------------------------

    def _arrive(self, now: float) -> None:
        self.arrived += 1
        self._new_case(self.arrival_proc, None, now)
        if self.limit_cases is None or self.arrived < self.limit_cases:
            gap = self.interarrival()
            if self.arrival_always:
                nxt = now + gap
            elif self.arrival_wall:
                nxt = self.arrival_cal.next_working(now + gap)  # Prosimos: gap in wall time
            else:
                nxt = self.arrival_cal.next_working(self.arrival_cal.add_working(now, gap))
            if nxt <= self.limit_time:
                self._push(nxt, _ARRIVAL, None)

    def _new_case(
        self, proc: ProcessProgram, parent: CaseState | None, now: float, resume: int = -1
    ) -> CaseState:
        case = CaseState(len(self.cases), proc, parent, now)
        case.resume = resume
        case.resume_epoch = parent.epoch if parent is not None else 0
        self.cases.append(case)
        if parent is None:
            data = case.data
            for _, gen in proc.generators:
                gen(data)
        else:
            # SC6: a sub-case shares its parent's data (updates show in both); its own
            # generators only fill the names the parent does not have.
            data = case.data = parent.data
            for name, gen in proc.generators:
                if name not in data:
                    gen(data)
            parent.subcases += 1
        if self.trace:
            case.trace = [
                (
                    now,
                    "create",
                    {
                        "process": proc.id,
                        "data": dict(data),
                        "parent": parent.index if parent else None,
                        "step": resume >= 0,
                    },
                )
            ]
        if case.calendar is None and parent is not None and resume >= 0:
            case.calendar = parent.calendar  # a flow step's sub-case: the parent's calendar
        if proc.due_rule is not None:
            case.due = _epoch(due_date(_dt(now), proc.due_rule, case.calendar))
        cases = self.log.cases
        cases.process.append(proc.index)
        cases.parent.append(parent.index if parent else -1)
        cases.arrival.append(now)
        cases.end.append(math.nan)
        cases.due.append(math.nan)
        cases.hold.extend((0.0, 0.0, 0.0))
        cases.sla_paused.append(0.0)
        cases.reworks.append(0)
        cases.subcase_wait.append(0.0)
        if parent is None:
            self.wip += 1
            self.log.wip_time.append(now)
            self.log.wip_value.append(self.wip)
        self._advance(case, (proc.start,), now)
        self._check_done(case, now)
        return case

    def _advance(self, case: CaseState, nodes: tuple[int, ...] | list[int], now: float) -> None:
        proc = case.proc
        kinds = proc.kind
        outs = proc.outs
        stack = list(nodes)
        while stack:
            n = stack.pop()
            kind = kinds[n]
            if kind == 2:  # TASK
                act = proc.task_act[n]
                case.tokens += 1
                if act is not None:
                    work = Work(case, act, n, now)
                    case.open.append(work)
                    self._enqueue(work, act.pools, now)
                else:
                    sub = proc.task_subcase[n]
                    assert sub is not None
                    self._new_case(self.procs[sub], case, now, resume=n)
                continue
            targets = outs[n]
            if kind == 3 and len(targets) > 1:  # XOR split
                stack.append(self._choose(case, n, now))
                continue
            if kind == 4 and proc.join_need[n] > 1:  # AND join
                joins = case.joins
                if joins is None:
                    joins = case.joins = {}
                count = joins.get(n, 0) + 1
                if count < proc.join_need[n]:
                    joins[n] = count
                    continue
                joins[n] = 0
            stack.extend(reversed(targets))

    def _choose(self, case: CaseState, n: int, now: float) -> int:
        proc = case.proc
        probs = proc.xor_probs[n]
        if probs is not None:
            cum, targets = probs
            x = self.rng.random() * cum[-1]
            for edge, target in zip(cum, targets, strict=True):
                if x < edge:
                    return target
            return targets[-1]
        conds = proc.xor_conds[n]
        assert conds is not None
        pairs, default = conds
        for text, target in pairs:
            try:
                hit = truthy(text, case.data)
            except ValueError as err:
                raise SimulationError(
                    Problem(
                        f"case {case.index} of process {proc.id!r}: condition {text!r} of "
                        f"gateway {proc.names[n]!r} cannot be evaluated: {err}",
                        element_id=proc.names[n],
                    )
                ) from err
            if hit:
                return target
        if default < 0:
            raise SimulationError(
                Problem(
                    f"case {case.index} of process {proc.id!r}: no condition of gateway "
                    f"{proc.names[n]!r} holds and it has no default flow",
                    element_id=proc.names[n],
                )
            )
        return default

    # -- resources --------------------------------------------------------------------------

    def _enqueue(self, work: Work, pools: list[Pool], now: float) -> None:
        if len(pools) == 1:
            pool = pools[0]
            if pool.idle:
                self._assign(pool.idle.pop(), work, pool.cal.next_working(now))
            else:
                pool.queue.append(work)
            return
        best: Pool | None = None
        best_at = math.inf
        for pool in pools:
            if pool.idle:
                at = pool.cal.next_working(now)
                if at < best_at:
                    best, best_at = pool, at
        if best is not None:
            self._assign(best.idle.pop(), work, best_at)
            return
        for pool in pools:
            pool.queue.append(work)

    def _assign(self, res: Resource, work: Work, at: float) -> None:
        work.taken = True
        work.res = res
        work.start = at
        act = work.act
        if act.refusal and res.pool.robot and self.rng.random() < act.refusal:
            self._push(at, _REFUSE, work)
            return
        dur = act.pool_samples[res.pool]() if res.pool in act.pool_samples else act.sample()
        work.dur = dur
        end = res.pool.cal.add_working(at, dur) if dur > 0.0 else at
        self.seq += 1
        heapq.heappush(self.heap, (end, self.seq, _COMPLETE, work))

    def _release(self, res: Resource, now: float) -> None:
        pool = res.pool
        queue = pool.queue
        while queue:
            work = queue.popleft()
            if not work.taken and not work.cancelled:
                self._assign(res, work, pool.cal.next_working(now))
                return
        pool.idle.append(res)

    def _log(self, work: Work, end: float, processing: float, outcome: int) -> None:
        case, activity, enable, start, end_, resource, processing_, outcome_ = self._columns
        case(work.case.index)
        activity(work.act.index)
        enable(work.enable)
        start(work.start)
        end_(end)
        res = work.res
        resource(res.index if res is not None else -1)
        processing_(processing)
        outcome_(outcome)

    def _refused(self, work: Work, now: float) -> None:
        if work.cancelled:
            return
        res = work.res
        assert res is not None
        self._log(work, now, 0.0, _REFUSED)
        case = work.case
        if case.trace is not None:
            case.trace.append((now, "refuse", {"action": work.act.key, "by": self._name(res)}))
        self._release(res, now)
        retry = Work(case, work.act, work.node, now)
        case.open[case.open.index(work)] = retry
        self._enqueue(retry, work.act.human_pools, now)

    def _name(self, res: Resource) -> str:
        return self.log.resources.name[res.index]

    def _complete(self, work: Work, now: float) -> None:
        if work.cancelled:
            return
        res = work.res
        assert res is not None
        res.busy += work.dur
        case = work.case
        act = work.act
        rng = self.rng
        if act.failure and res.pool.robot and rng.random() < act.failure:
            self._log(work, now, work.dur, _FAILED)
            if case.trace is not None:
                case.trace.append((work.start, "start", {"action": act.key, "by": self._name(res)}))
                case.trace.append((now, "fail", {"action": act.key}))
            self._release(res, now)
            retry = Work(case, act, work.node, now)
            case.open[case.open.index(work)] = retry
            self._enqueue(retry, act.human_pools, now)
            return
        self._log(work, now, work.dur, _DONE)
        case.open.remove(work)
        self._release(res, now)
        trace = case.trace
        if trace is not None:
            trace.append((work.start, "start", {"action": act.key, "by": self._name(res)}))
        for p, process in act.spawns:
            if rng.random() < p:
                child = self._new_case(self.procs[process], case, now)
                if trace is not None:
                    trace.append((now, "subcase", {"process": process, "case": child.index}))
        rework = None
        if case.hold < 0 and act.reworks:
            for p, spec, node, target in act.reworks:
                if rng.random() < p and (
                    target is None or (case.completed is not None and target.key in case.completed)
                ):
                    rework = (spec, node, target)
                    break
        if rework is None and case.hold < 0 and act.holds:
            for p, hold_spec, sample in act.holds:
                if rng.random() < p:
                    self._start_hold(case, hold_spec, sample(), now)
                    break
        if act.reworks or act.stage:
            completed = case.completed
            if completed is None:
                completed = case.completed = set()
            completed.add(act.key)
        if trace is not None:
            trace.append((now, "complete", {"action": act.key, "by": self._name(res)}))
        if case.hold >= 0:
            case.stash.append(work.node)
            return
        case.tokens -= 1
        self._advance(case, case.proc.outs[work.node], now)
        if rework is not None:
            self._rework(case, rework[0], rework[1], rework[2], now)
        self._check_done(case, now)

    # -- holds, rework, end -----------------------------------------------------------------

    def _start_hold(self, case: CaseState, spec: HoldSpec, duration: float, now: float) -> None:
        kind = HOLD_INDEX[spec.kind]
        case.hold = kind
        case.hold_start = now
        case.hold_seq += 1
        until = now + duration
        if case.trace is not None:
            case.trace.append((now, "hold", {"kind": spec.kind, "until": until}))
        if kind == 0 and case.proc.add_wait and not math.isnan(case.due):
            case.sla_left = left_until(_dt(case.due), case.calendar, _dt(now))  # H4
        self._push(until, _HOLD_END, (case, case.hold_seq))

    def _hold_end(self, case: CaseState, seq: int, now: float) -> None:
        if case.hold < 0 or seq != case.hold_seq:
            return
        kind = case.hold
        self.log.cases.hold[case.index * 3 + kind] += now - case.hold_start
        case.hold = -1
        if case.trace is not None:
            case.trace.append((now, "hold_end", {"kind": _HOLD_NAMES[kind]}))
        left = case.sla_left
        if left is not None:
            new_due = _epoch(due_after(left, case.calendar, _dt(now)))  # the runtime's resume
            self.log.cases.sla_paused[case.index] += new_due - case.due
            case.due = new_due
            case.sla_left = None
        stash, case.stash = case.stash, []
        outs = case.proc.outs
        for node in stash:
            case.tokens -= 1
            self._advance(case, outs[node], now)
        self._check_done(case, now)

    def _rework(
        self, case: CaseState, spec: ReworkSpec, node: int, target: ActionType | None, now: float
    ) -> None:
        self.log.cases.reworks[case.index] += 1
        case.epoch += 1
        if case.trace is not None:
            case.trace.append((now, "rework", {"stage": spec.stage, "action": spec.action}))
        closed, case.open = case.open, []
        for work in closed:  # RW8: every open action closes (queued ones are skipped later)
            work.cancelled = True
        for work in closed:
            res = work.res
            if res is not None and work.taken:
                if work.start < now:
                    worked = res.pool.cal.working_between(work.start, now)
                    self._log(work, now, worked, _STOPPED)
                    res.busy += worked
                self._release(res, now)
        case.tokens = 0
        case.joins = None
        case.stash = []
        completed = case.completed
        if completed is not None:
            if target is None or target.parallel_stage:
                stage = spec.stage if spec.stage is not None else (target.stage if target else 0)
                drop = {k for k in completed if self._stage_of(case, k) >= stage}
            else:
                drop = {
                    k
                    for k in completed
                    if (self._stage_of(case, k), self._order_of(case, k))
                    >= (target.stage, target.order)
                }
            completed.difference_update(drop)
        self._advance(case, (node,), now)

    def _stage_of(self, case: CaseState, key: str) -> int:
        return self.acts[f"{case.proc.id}.{key}"].stage

    def _order_of(self, case: CaseState, key: str) -> int:
        return self.acts[f"{case.proc.id}.{key}"].order

    def _check_done(self, case: CaseState, now: float) -> None:
        if case.tokens or case.done or case.hold >= 0 or case.stash:
            return
        if case.subcases:  # SC1: the flow has ended, the sub-cases have not
            if math.isnan(case.flow_done_at):
                case.flow_done_at = now
            return
        case.done = True
        cases = self.log.cases
        cases.end[case.index] = now
        if not math.isnan(case.flow_done_at):
            cases.subcase_wait[case.index] += now - case.flow_done_at
        if case.trace is not None:
            case.trace.append((now, "resolve", {}))
        parent = case.parent
        if parent is None:
            self.wip -= 1
            self.log.wip_time.append(now)
            self.log.wip_value.append(self.wip)
            if self.on_case_end is not None:
                self.on_case_end(1)
            return
        parent.subcases -= 1
        if case.resume >= 0 and case.resume_epoch == parent.epoch and not parent.done:
            cases.subcase_wait[parent.index] += now - case.arrival  # the flow step waited
            if parent.hold >= 0:
                parent.stash.append(case.resume)  # H2: moves on when the hold ends
            else:
                parent.tokens -= 1
                self._advance(parent, parent.proc.outs[case.resume], now)
        self._check_done(parent, now)


def _at(step: tuple[float, str, dict[str, object]]) -> float:
    return step[0]


_HOLD_NAMES = {v: k for k, v in HOLD_INDEX.items()}


def run_replication(
    scenario: Scenario,
    replication: int,
    seed: int,
    *,
    trace: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ReplicationLog:
    """Run one replication of ``scenario`` with ``seed`` and return its log (see
    :class:`Kernel` for ``on_progress``)."""
    return Kernel(scenario, replication, seed, trace=trace, on_progress=on_progress).run()
