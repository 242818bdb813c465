"""Runtime benchmark: the engine's hot path against bare SpiffWorkflow, and the inbox query.

Both measurements run on a SQLite *file* in a temporary directory and print numbers measured
in this one run (nothing is asserted about time; compare the ratios, not the absolute times,
between machines):

1. **Case lifecycle.** ``--cases`` cases of an inline 3-stage process (5 sequential actions)
   through :class:`engine.Engine` on a :class:`engine.ManualClock`: ``create_case(...,
   submit=True)``, ``start_work``, ``complete_action`` of each action as it appears (found
   with ``Engine.actions``), ``resolve``. The baseline runs the same compiled BPMN in bare
   SpiffWorkflow: parsed by SpiffWorkflow's own ``BpmnParser``, a ``BpmnWorkflow``, the READY
   user tasks run one at a time with engine steps after each, and a JSON round trip
   (``serialize_json`` + ``deserialize_json`` of the default ``BpmnWorkflowSerializer``) per
   step: what an application persisting SpiffWorkflow state itself pays. Engine and baseline
   cases alternate, so load from other processes hits both alike. Prints the time of one
   action completion for both, their ratio, and the time of a whole case.
2. **Inbox.** ``--inbox-cases`` cases (with their actions) bulk-inserted with SQLAlchemy Core
   on the engine's store, spread over ``inbox-cases / 30`` users and over every status; prints
   the median and p95 of ``Engine.inbox(user)`` for a user with about 10 cases in the inbox.

Usage::

    .venv/bin/python bench/runtime.py [--cases 1000] [--inbox-cases 100000] [--inbox-runs 300]
    .venv/bin/python bench/runtime.py --only lifecycle --cases 200 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from engine import CaseStatus, Engine, ManualClock
from engine.model import ProcessDefinition
from engine.runtime.sql_store import SqlStore
from engine.runtime.tables import actions as actions_table
from engine.runtime.tables import cases as cases_table
from engine.spiff_script import install_safe_engine, safe_script_engine

PROCESS_ID = "bench_claim"
PROCESS_YAML = f"""\
id: {PROCESS_ID}
name: Benchmark claim
version: 1
due: 3 working days
calendar: office
add_wait_time_to_due_date: true
feedback_window: 2d
stages:
  - name: Intake
    actions:
      - {{id: register, title: Register claim, due: 4h}}
  - name: Assessment
    condition: amount > 1000
    actions:
      - {{id: assess, title: Assess damage, due: 1 working day}}
      - {{id: check_cover, title: Check cover}}
  - name: Payment
    actions:
      - {{id: pay, title: Pay claim}}
      - {{id: notify, title: Notify customer}}
"""

#: The data of every benchmark case (the stage 2 condition holds: all 5 actions run).
CASE_DATA: dict[str, Any] = {
    "amount": 5000,
    "customer": {"name": "Jane Doe", "tier": "gold"},
    "policy": "MOTOR-123456",
}

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

#: How the stored cases of the inbox benchmark spread over statuses.
STATUS_WEIGHTS: tuple[tuple[CaseStatus, float], ...] = (
    (CaseStatus.CLOSED, 0.40),
    (CaseStatus.RESOLVED, 0.10),
    (CaseStatus.IN_PROGRESS, 0.18),
    (CaseStatus.TO_DO, 0.15),
    (CaseStatus.WAITING, 0.10),
    (CaseStatus.DRAFT, 0.04),
    (CaseStatus.CANCELLED, 0.03),
)
FINISHED = (CaseStatus.CLOSED, CaseStatus.RESOLVED, CaseStatus.CANCELLED)
CASES_PER_USER = 30  # with the weights above: ~10 To Do / In Progress cases per user


# -- helpers ---------------------------------------------------------------------------------


def write_process(directory: Path) -> Path:
    """The benchmark process as a YAML file in ``directory``."""
    path = directory / f"{PROCESS_ID}.yaml"
    path.write_text(PROCESS_YAML, encoding="utf-8")
    return path


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` from 0 to 1)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.3f} ms"


class Profiles:
    """Optional cProfile profilers, one per measured thing, switched on around each call."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._profiles: dict[str, cProfile.Profile] = {}

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        profile = self._profiles.setdefault(name, cProfile.Profile())
        profile.enable()
        try:
            yield
        finally:
            profile.disable()

    def report(self, limit: int = 35) -> None:
        for name, profile in self._profiles.items():
            for order in ("cumulative", "tottime"):
                print(f"\n--- cProfile of {name}, by {order} ---")
                pstats.Stats(profile).sort_stats(order).print_stats(limit)


# -- 1. case lifecycle -------------------------------------------------------------------------


@dataclass
class Timings:
    """Per-step and per-case times of one side of the lifecycle benchmark."""

    steps: list[float] = field(default_factory=list)
    cases: list[float] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)


def engine_case(engine: Engine, clock: ManualClock, timings: Timings, profiles: Profiles) -> None:
    """One case through the Engine; times each ``complete_action`` and the whole case."""
    began = time.perf_counter()
    case = engine.create_case(PROCESS_ID, by="ann", data=CASE_DATA, submit=True)
    engine.start_work(case.ref, by="bob")
    completed: list[str] = []
    while True:
        todo = [a for a in engine.actions(case.ref) if a.status is CaseStatus.TO_DO]
        if not todo:
            break
        clock.advance(timedelta(minutes=5))
        with profiles.measure("Engine.complete_action"):
            started = time.perf_counter()
            engine.complete_action(todo[0].ref, by="bob")
            timings.steps.append(time.perf_counter() - started)
        completed.append(todo[0].action_type)
    final = engine.resolve(case.ref, by="bob")
    timings.cases.append(time.perf_counter() - began)
    if final.status is not CaseStatus.RESOLVED:
        raise RuntimeError(f"case {case.ref} ended {final.status}, not Resolved")
    timings.completed = completed


class SpiffBaseline:
    """The definition's BPMN run by bare SpiffWorkflow, state round-tripped through JSON."""

    def __init__(self, definition: ProcessDefinition) -> None:
        parser = BpmnParser()
        parser.add_bpmn_str(definition.bpmn)
        self.spec = parser.get_spec(definition.id)
        self.subprocess_specs = parser.get_subprocess_specs(definition.id)
        self.serializer = BpmnWorkflowSerializer()

    def round_trip(self, wf: BpmnWorkflow) -> BpmnWorkflow:
        restored: BpmnWorkflow = self.serializer.deserialize_json(
            self.serializer.serialize_json(wf)
        )
        install_safe_engine(restored)  # the restored workflow would otherwise use eval
        return restored

    def case(self, timings: Timings, profiles: Profiles) -> None:
        """One case: start, then each READY user task run + engine steps + JSON round trip."""
        began = time.perf_counter()
        wf = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=safe_script_engine())
        for task in wf.get_tasks(state=TaskState.READY):
            task.data = dict(CASE_DATA)
        wf.do_engine_steps()
        wf = self.round_trip(wf)
        completed: list[str] = []
        while True:
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                break
            with profiles.measure("bare SpiffWorkflow step"):
                started = time.perf_counter()
                ready[0].run()
                wf.do_engine_steps()
                wf = self.round_trip(wf)
                timings.steps.append(time.perf_counter() - started)
            completed.append(ready[0].task_spec.name)
        timings.cases.append(time.perf_counter() - began)
        if not wf.is_completed():
            raise RuntimeError("the bare SpiffWorkflow case did not reach its end")
        timings.completed = completed


def lifecycle_benchmark(directory: Path, cases: int, profiles: Profiles) -> None:
    """Engine and bare SpiffWorkflow cases, alternating; prints per-step and per-case times."""
    clock = ManualClock(START)
    mine, bare = Timings(), Timings()
    with Engine(f"sqlite:///{directory / 'lifecycle.sqlite'}", clock=clock) as engine:
        definition = engine.deploy(write_process(directory))
        baseline = SpiffBaseline(definition)
        off = Profiles(False)
        engine_case(engine, clock, Timings(), off)  # warm-up: caches, compiled statements
        baseline.case(Timings(), off)
        for _ in range(cases):
            engine_case(engine, clock, mine, profiles)
            baseline.case(bare, profiles)
    steps = [definition.task_actions.get(name, name) for name in bare.completed]
    if steps != mine.completed:
        raise RuntimeError(f"the engine completed {mine.completed}, SpiffWorkflow {steps}")

    engine_step, bare_step = statistics.fmean(mine.steps), statistics.fmean(bare.steps)
    print(f"case lifecycle: {cases} cases of {len(steps)} actions, SQLite file, alternating")
    print(
        f"  Engine.complete_action           mean {_ms(engine_step)}"
        f"  median {_ms(statistics.median(mine.steps))}"
    )
    print(
        f"  SpiffWorkflow step + JSON trip   mean {_ms(bare_step)}"
        f"  median {_ms(statistics.median(bare.steps))}"
    )
    median_ratio = statistics.median(mine.steps) / statistics.median(bare.steps)
    print(
        f"  ratio Engine / SpiffWorkflow     {engine_step / bare_step:5.2f}x of the means,"
        f" {median_ratio:.2f}x of the medians (target <= 1.5x)"
    )
    print(
        f"  whole case: Engine {_ms(statistics.fmean(mine.cases))}"
        f" (create+submit, start_work, 6 x actions, 5 x complete_action, resolve);"
        f" SpiffWorkflow {_ms(statistics.fmean(bare.cases))}"
    )


# -- 2. inbox ------------------------------------------------------------------------------------


def case_rows(
    definition: ProcessDefinition, total: int, seed: int = 7
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """``total`` case rows, each with its action rows: random statuses (``STATUS_WEIGHTS``),
    assignees among ``total / CASES_PER_USER`` users (8 % unassigned), actions done so far."""
    rng = random.Random(seed)
    statuses = [status for status, _ in STATUS_WEIGHTS]
    weights = [weight for _, weight in STATUS_WEIGHTS]
    users = [f"user{n:05d}" for n in range(max(1, total // CASES_PER_USER))]
    queues = ["claims", "assessors", "payments"]
    flow = [
        (number, action.id)
        for number, stage in enumerate(definition.model.stages, start=1)
        for action in stage.actions
    ]
    action_number = 0
    for n in range(1, total + 1):
        status = rng.choices(statuses, weights)[0]
        created = START - timedelta(hours=rng.randrange(1, 24 * 365))
        assignee = None if rng.random() < 0.08 else rng.choice(users)
        ref = f"C-{n}"
        case = {
            "ref": ref,
            "process": definition.id,
            "version": definition.version,
            "status": status,
            "created_at": created,
            "created_by": rng.choice(users),
            "created_how": "manual",
            "title": f"Claim {n}",
            "customer": "Acme Insurance",
            "contract": "Motor",
            "service": "Claims",
            "hold_kind": None,
            "hold_reason": None,
            "hold_until": None,
            "hold_started_at": None,
            "assignee": assignee,
            "last_assignee": assignee,
            "owner": rng.choice(users),
            "queue": rng.choice(queues),
            "calendar": "office",
            "sla_started_at": None if status is CaseStatus.DRAFT else created,
            "due": None if status is CaseStatus.DRAFT else created + timedelta(days=3),
            "due_overridden": False,
            "sla_paused_at": None,
            "sla_remaining": None,
            "parent": None,
            "subcase_count": 0,
            "data": {"amount": rng.randrange(100, 20_000), "policy": f"MOTOR-{n:06d}"},
            "highlighted": rng.random() < 0.1,
            "original_request_at": created,
            "created_from": None,
            "first_resolved_by": None,
            "first_resolved_at": None,
            "resolved_by": None,
            "resolved_at": None,
            "status_set_by": assignee,
            "status_reason": "bench",
            "status_set_at": created,
            "updated_by": assignee,
            "updated_at": created,
            "keep_with_me": False,
            "keep_actions_with_me": False,
            "contacts": [],
            "flow_finished": status in FINISHED,
            "row_version": 1,
        }
        done = len(flow) if status in FINISHED else rng.randrange(0, len(flow))
        shown = 0 if status is CaseStatus.DRAFT else min(len(flow), done + 1)
        actions = []
        for seq, (stage, action_type) in enumerate(flow[:shown], start=1):
            action_number += 1
            finished = seq <= done
            actions.append(
                {
                    "ref": f"A-{action_number}",
                    "case_ref": ref,
                    "action_type": action_type,
                    "title": action_type,
                    "stage": stage,
                    "status": CaseStatus.RESOLVED if finished else CaseStatus.TO_DO,
                    "created_at": created,
                    "seq": seq,
                    "instructions": None,
                    "assignee": assignee,
                    "queue": None,
                    "due": created + timedelta(hours=4),
                    "started_at": created if finished else None,
                    "completed_at": created if finished else None,
                    "completed_by": assignee if finished else None,
                    "ad_hoc": False,
                    "robot": False,
                    "task_id": None,
                    "error": None,
                    "last_assignee": assignee,
                    "closed_reason": None,
                    "row_version": 1,
                }
            )
        yield case, actions


def bulk_insert(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """``executemany`` of ``rows`` on the driver, values converted by the columns' own
    SQLAlchemy type processors (memoised per value where hashable: dates repeat a lot)."""
    dialect = connection.dialect
    compiled = table.insert().compile(dialect=dialect)
    names = compiled.positiontup
    if names is None:
        raise RuntimeError(f"{dialect.name} does not use positional parameters")
    columns: list[list[Any]] = []
    for name in names:
        values = [row[name] for row in rows]
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            memo: dict[Any, Any] = {}
            converted = []
            for value in values:
                if isinstance(value, dict | list):
                    converted.append(processor(value))
                    continue
                if value not in memo:
                    memo[value] = processor(value)
                converted.append(memo[value])
            values = converted
        columns.append(values)
    values = list(zip(*columns, strict=True))
    connection.exec_driver_sql(compiled.string, values)


def populate(store: SqlStore, definition: ProcessDefinition, total: int) -> None:
    """Bulk-insert ``total`` cases and their actions (see :func:`case_rows`)."""
    cases: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for case, its_actions in case_rows(definition, total):
        cases.append(case)
        actions.extend(its_actions)
    with store.engine.begin() as connection:
        bulk_insert(connection, cases_table, cases)
        bulk_insert(connection, actions_table, actions)


def inbox_counts(store: SqlStore) -> Counter[str]:
    """How many To Do / In Progress cases each assignee has."""
    query = (
        sa.select(cases_table.c.assignee, sa.func.count())
        .where(
            cases_table.c.status.in_([CaseStatus.TO_DO.value, CaseStatus.IN_PROGRESS.value]),
            cases_table.c.assignee.is_not(None),
        )
        .group_by(cases_table.c.assignee)
    )
    with store.engine.connect() as connection:
        return Counter({user: count for user, count in connection.execute(query)})


def inbox_benchmark(directory: Path, total: int, runs: int, profiles: Profiles) -> None:
    """Median and p95 of ``Engine.inbox`` for a user with ~10 cases among ``total``."""
    url = f"sqlite:///{directory / 'inbox.sqlite'}"
    with Engine(url, clock=ManualClock(START)) as engine:
        definition = engine.deploy(write_process(directory))
        if not isinstance(engine.store, SqlStore):
            raise RuntimeError("the inbox benchmark needs the SQL store")
        began = time.perf_counter()
        populate(engine.store, definition, total)
        setup = time.perf_counter() - began
        counts = inbox_counts(engine.store)
    user, count = min(counts.items(), key=lambda item: (abs(item[1] - 10), item[0]))
    with Engine(url, clock=ManualClock(START)) as engine:  # fresh: nothing cached yet
        first = time.perf_counter()
        engine.inbox(user)
        first_call = time.perf_counter() - first
        times: list[float] = []
        for _ in range(runs):
            with profiles.measure("Engine.inbox"):
                started = time.perf_counter()
                found = engine.inbox(user)
                times.append(time.perf_counter() - started)
    if len(found) != count:
        raise RuntimeError(f"the inbox of {user} holds {len(found)} cases, not {count}")
    print(
        f"inbox: {total:,} cases stored (bulk insert {setup:.1f} s), "
        f"{user} has {count} To Do / In Progress"
    )
    print(
        f"  Engine.inbox  median {_ms(statistics.median(times))}"
        f"  p95 {_ms(percentile(times, 0.95))}  (target < 10 ms; {runs} calls;"
        f" first call {_ms(first_call)} loads the definition)"
    )


# -- main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Engine hot path vs bare SpiffWorkflow, and Engine.inbox on a big store."
    )
    parser.add_argument("--cases", type=int, default=1000, help="lifecycle cases (1000)")
    parser.add_argument(
        "--inbox-cases", type=int, default=100_000, help="cases stored for the inbox (100000)"
    )
    parser.add_argument("--inbox-runs", type=int, default=300, help="inbox calls timed (300)")
    parser.add_argument("--only", choices=("lifecycle", "inbox"), help="run one benchmark")
    parser.add_argument(
        "--profile", action="store_true", help="print cProfile summaries of the timed calls"
    )
    args = parser.parse_args(argv)
    profiles = Profiles(args.profile)
    benchmarks: list[Callable[[Path], None]] = []
    if args.only in (None, "lifecycle"):
        benchmarks.append(lambda path: lifecycle_benchmark(path, args.cases, profiles))
    if args.only in (None, "inbox"):
        benchmarks.append(
            lambda path: inbox_benchmark(path, args.inbox_cases, args.inbox_runs, profiles)
        )
    with tempfile.TemporaryDirectory(prefix="caseloom-bench-") as name:
        for benchmark in benchmarks:
            benchmark(Path(name))
    profiles.report()


if __name__ == "__main__":
    main()
