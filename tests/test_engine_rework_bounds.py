"""Many reworks in a row keep the stored workflow bounded (issue 4, "Rework").

A rework resets the SpiffWorkflow state to the chosen point (``FlowRunner.reset_to_element``):
the task tree below that point is dropped, never kept as history, so the stored workflow JSON
must not grow with the number of reworks. The action table does grow (every rework closes the
open actions and creates fresh copies, RW8), linearly, while the open actions stay few.

The case runs a process of four stages: two sequential actions, a conditional stage, a
parallel stage of two branches, and a last stage. The reworks follow a cycle of eight points
(:data:`PLAN`), alternating between the start of a stage and a completed action; the
re-created actions are completed between some of them (whenever the planned point is not
offered yet). The data keeps the conditional stage on, so that every planned point comes back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine import CaseStatus, Engine, ManualClock
from engine.runtime.sql_store import SqlStore
from engine.runtime.tables import actions

S = CaseStatus
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REWORKS = 200
OPEN = (S.TO_DO, S.IN_PROGRESS, S.WAITING)

PROCESS_YAML = """\
id: bounded
name: Bounded rework
version: 1
due: 5 working days
calendar: office
stages:
  - name: Intake
    actions:
      - {id: a1, title: First step}
      - {id: a2, title: Second step}
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


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "bounded.yaml"
    path.write_text(PROCESS_YAML, encoding="utf-8")
    with Engine("sqlite:///:memory:", clock=ManualClock(T0)) as eng:
        eng.deploy(path)
        yield eng


def workflow_size(engine: Engine, ref: str) -> int:
    """Length of the case's stored workflow JSON."""
    with engine.store.transaction() as tx:
        state = tx.get_workflow(ref)
    assert state is not None
    return len(state)


def _query(engine: Engine, sql: sa.Select[Any]) -> list[sa.Row[Any]]:
    """Rows of a direct query on the store (reading whole action records, as the façade
    does, gets slow with hundreds of actions)."""
    store = engine.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as connection:
        return list(connection.execute(sql))


def open_actions(engine: Engine, ref: str) -> list[tuple[str, str, int]]:
    """(ref, type, stage) of the case's open actions, oldest first."""
    sql = (
        sa.select(actions.c.ref, actions.c.action_type, actions.c.stage)
        .where(actions.c.case_ref == ref, actions.c.status.in_(OPEN))
        .order_by(actions.c.seq)
    )
    return [(row.ref, row.action_type, row.stage) for row in _query(engine, sql)]


def action_count(engine: Engine, ref: str) -> int:
    sql = sa.select(sa.func.count()).select_from(actions).where(actions.c.case_ref == ref)
    return int(_query(engine, sql)[0][0])


def complete_next(engine: Engine, ref: str, amount: int) -> None:
    """Complete the oldest open action, setting ``amount`` (Check runs when > 100)."""
    assert amount > 100
    first = open_actions(engine, ref)[0][0]
    engine.complete_action(first, by="bob", data={"amount": amount})


#: The reworks, in a cycle: (stage, action type or None for the start of the stage). Stage and
#: action points alternate; they cover every stage before the last, the parallel stage (a
#: rework from one branch restarts both) and the conditional one.
PLAN: tuple[tuple[int, str | None], ...] = (
    (3, None),
    (2, "b1"),
    (1, None),
    (3, "c1"),
    (2, None),
    (1, "a2"),
    (3, None),
    (1, "a1"),
)


def offered(engine: Engine, ref: str, stage: int, action_type: str | None) -> str | None:
    """The action ref (or "" for a stage) of the planned point when it is offered, else None."""
    for point in engine.rework_points(ref):
        if point.stage == stage and point.action_type == action_type:
            return point.action or ""
    return None


def test_RW8_200_reworks_keep_the_stored_workflow_bounded(engine: Engine) -> None:
    case = engine.create_case("bounded", by="ann", data={"amount": 500}, submit=True)
    ref = case.ref
    engine.start_work(ref, by="ann")
    for _ in range(5):  # a1, a2, b1, c1, c2
        complete_next(engine, ref, 500)
    assert [t for _, t, _ in open_actions(engine, ref)] == ["d1"]
    size_at_end_of_flow = workflow_size(engine, ref)

    sizes: list[int] = []
    completions = 0
    total = action_count(engine, ref)
    for n in range(REWORKS):
        stage, action_type = PLAN[n % len(PLAN)]
        done_before = completions
        while max(s for _, _, s in open_actions(engine, ref)) <= stage:
            complete_next(engine, ref, 5000 if completions % 3 == 0 else 500)
            completions += 1
        # past the stage, its start and its completed actions are offered (RW1, RW5)
        target = offered(engine, ref, stage, action_type)
        assert target is not None, (n, stage, action_type, engine.rework_points(ref))
        if target:
            reworked = engine.rework(ref, by="cy", action=target)
        else:
            reworked = engine.rework(ref, by="cy", stage=stage)
        assert reworked.status is S.IN_PROGRESS
        sizes.append(workflow_size(engine, ref))
        now_open = open_actions(engine, ref)
        assert 1 <= len(now_open) <= 2, f"rework {n + 1} to {stage, action_type}: {now_open}"
        assert {s for _, _, s in now_open} == {stage}, (stage, action_type, now_open)
        # linear growth of the action table: each rework and each completion adds at most
        # the two parallel branches
        count = action_count(engine, ref)
        assert total < count <= total + 2 * (1 + completions - done_before), (n, total, count)
        total = count

    print(
        f"\nstored workflow JSON after rework 1: {sizes[0]} chars, after rework {REWORKS}: "
        f"{sizes[-1]} chars (min {min(sizes)}, max {max(sizes)}); "
        f"{completions} completions, {total} actions in the table"
    )
    assert sizes[-1] <= 2 * sizes[0], (sizes[0], sizes[-1])
    # The same point of the plan, first time and every later time: no growth at all.
    for first in range(len(PLAN)):
        same = sizes[first :: len(PLAN)]
        assert max(same) <= 2 * same[0], (PLAN[first], same[0], max(same))

    # The flow still runs to its end, its state as big as it was before the reworks.
    while [t for _, t, _ in open_actions(engine, ref)] != ["d1"]:
        complete_next(engine, ref, 500)
    again = workflow_size(engine, ref)
    print(f"at the last stage: {size_at_end_of_flow} chars before the reworks, {again} after")
    assert again <= 2 * size_at_end_of_flow, (size_at_end_of_flow, again)
    complete_next(engine, ref, 500)
    assert open_actions(engine, ref) == []
    assert engine.resolve(ref, by="cy").status in (S.RESOLVED, S.CLOSED)
