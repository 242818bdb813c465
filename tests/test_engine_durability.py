"""Durability of ``engine.Engine`` on a SQLite file: crashes, restarts, stored state.

API.md "Semantics": definitions, cases, actions and timers persist; a new ``Engine`` on the
same URL resumes where the last one stopped, without redeploying. Each command is one store
transaction, so a crash in the middle of one (simulated by a store method raising
``RuntimeError`` after doing its write) leaves exactly the previous state, as a fresh engine
on the file sees it; the command then succeeds when retried. Timers fire exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from store_dump import Dump, dump_tables
from test_engine_schedules import DAILY, TEN, scheduled_definition

from engine import CaseStatus, DefinitionError, Engine, HoldKind, ManualClock
from engine.runtime.flow import HEADER_KEY, runner_for
from engine.runtime.sql_store import SqlTransaction

CLAIM_YAML = Path(__file__).parent / "data" / "loader" / "claim_api.yaml"
#: Monday 2026-03-02 09:00 UTC.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CRASH = "injected crash"


def fresh_dump(url: str, clock: ManualClock) -> Dump:
    """The tables as a new Engine on ``url`` sees them."""
    with Engine(url, clock=clock) as engine:
        return dump_tables(engine)


def crash_after(monkeypatch: pytest.MonkeyPatch, method: str, *, on_call: int = 1) -> list[int]:
    """Make ``SqlTransaction.<method>`` do its work, then raise RuntimeError on its
    ``on_call``-th call (a crash after the write, inside the command's transaction).
    Returns the call counter (one item)."""
    original: Callable[..., Any] = getattr(SqlTransaction, method)
    calls = [0]

    def crashing(self: SqlTransaction, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        calls[0] += 1
        if calls[0] == on_call:
            raise RuntimeError(f"{CRASH} in {method}")
        return result

    monkeypatch.setattr(SqlTransaction, method, crashing)
    return calls


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'caseloom.sqlite'}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@dataclass(frozen=True)
class Refs:
    """The cases of :func:`prepare`: one per command under test."""

    draft: str  # Draft, to submit
    working: str  # In Progress, register done, assess open
    assess: str  # the open action of ``working``
    waiting: str  # Waiting until T0 + 1h (its timer is due after prepare)
    resolvable: str  # In Progress, register open


def prepare(engine: Engine, clock: ManualClock) -> Refs:
    engine.deploy(CLAIM_YAML)
    draft = engine.create_case("claim", by="ann", data={"amount": 5000})
    working = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
    engine.start_work(working.ref, by="bob")
    engine.complete_action(engine.actions(working.ref)[0].ref, by="bob")
    [assess] = [a for a in engine.actions(working.ref) if a.status is CaseStatus.TO_DO]
    waiting = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
    engine.start_work(waiting.ref, by="bob")
    engine.hold(waiting.ref, HoldKind.UNTIL, by="bob", until=clock.now() + timedelta(hours=1))
    resolvable = engine.create_case("claim", by="ann", data={"amount": 50}, submit=True)
    engine.start_work(resolvable.ref, by="bob")
    clock.advance(timedelta(hours=2))
    return Refs(draft.ref, working.ref, assess.ref, waiting.ref, resolvable.ref)


def _complete(engine: Engine, refs: Refs) -> None:
    engine.complete_action(refs.assess, by="bob", data={"checked": True})
    case = engine.case(refs.working)
    assert case.data["checked"] is True
    types = {a.action_type: a.status for a in engine.actions(refs.working)}
    assert types == {
        "register": CaseStatus.RESOLVED,
        "assess": CaseStatus.RESOLVED,
        "pay": CaseStatus.TO_DO,
    }


def _submit(engine: Engine, refs: Refs) -> None:
    case = engine.submit(refs.draft, by="ann")
    assert case.status is CaseStatus.TO_DO and case.due is not None
    assert [a.action_type for a in engine.actions(refs.draft)] == ["register"]


def _hold(engine: Engine, refs: Refs) -> None:
    until = engine.clock.now() + timedelta(days=1)
    case = engine.hold(refs.working, "until", by="bob", until=until)
    assert case.status is CaseStatus.WAITING and case.hold_until == until
    with engine.store.transaction() as tx:
        assert [t.fire_at for t in tx.pending_timers(refs.working)] == [until]


def _resolve(engine: Engine, refs: Refs) -> None:
    case = engine.resolve(refs.resolvable, by="bob")
    assert case.status is CaseStatus.RESOLVED
    assert [a.status for a in engine.actions(refs.resolvable)] == [CaseStatus.CLOSED]
    with engine.store.transaction() as tx:
        assert [t.kind for t in tx.pending_timers(refs.resolvable)] == ["feedback_window"]


def _tick(engine: Engine, refs: Refs) -> None:
    fired = engine.tick()
    assert [(f.kind, f.case_ref, f.status) for f in fired] == [
        ("hold_until", refs.waiting, CaseStatus.TO_DO)
    ]
    case = engine.case(refs.waiting)
    assert case.assignee == "bob" and case.highlighted  # H6
    assert engine.tick() == []


COMMANDS: dict[str, Callable[[Engine, Refs], None]] = {
    "complete_action": _complete,
    "submit": _submit,
    "hold": _hold,
    "resolve": _resolve,
    "tick": _tick,
}


@pytest.mark.parametrize(
    ("command", "method"),
    [
        ("complete_action", "update_action"),
        ("complete_action", "insert_action"),
        ("complete_action", "put_workflow"),
        ("complete_action", "update_case"),
        ("submit", "append_event"),
        ("submit", "insert_action"),
        ("submit", "put_workflow"),
        ("submit", "update_case"),
        ("hold", "add_timer"),
        ("hold", "update_case"),
        ("resolve", "add_timer"),
        ("resolve", "update_action"),
        ("resolve", "update_case"),
        ("tick", "mark_fired"),
        ("tick", "append_event"),
        ("tick", "update_case"),
    ],
)
def test_crash_mid_command_leaves_the_previous_state_and_the_retry_succeeds(
    url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, command: str, method: str
) -> None:
    run = COMMANDS[command]
    with Engine(url, clock=clock) as engine:
        refs = prepare(engine, clock)
        before = dump_tables(engine)
        with monkeypatch.context() as patch:
            calls = crash_after(patch, method)
            with pytest.raises(RuntimeError, match=CRASH):
                run(engine, refs)
            assert calls == [1]
        assert dump_tables(engine) == before
    assert fresh_dump(url, clock) == before
    with Engine(url, clock=clock) as restarted:  # no deploy: definitions come from the store
        run(restarted, refs)
        assert dump_tables(restarted) != before


def test_timer_crashed_in_its_effect_stays_unfired_and_fires_once_on_the_next_tick(
    url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """H6: two due wake-ups; the second crashes: the first stays fired (each timer has its
    own transaction), the second is left pending and the next tick fires it, once."""
    with Engine(url, clock=clock) as engine:
        engine.deploy(CLAIM_YAML)
        refs = []
        for minutes in (10, 20):
            case = engine.create_case("claim", by="ann", submit=True)
            engine.start_work(case.ref, by="bob")
            until = clock.now() + timedelta(minutes=minutes)
            engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=until)
            refs.append(case.ref)
        clock.advance(timedelta(hours=1))
        with monkeypatch.context() as patch:
            crash_after(patch, "update_case", on_call=2)
            with pytest.raises(RuntimeError, match=CRASH):
                engine.tick()
    first, second = refs
    with Engine(url, clock=clock) as restarted:
        assert restarted.case(first).status is CaseStatus.TO_DO
        assert restarted.case(second).status is CaseStatus.WAITING
        fired = restarted.tick()
        assert [(f.kind, f.case_ref) for f in fired] == [("hold_until", second)]
        assert restarted.case(second).status is CaseStatus.TO_DO
        assert restarted.tick() == []
        timers = dump_tables(restarted)["timers"]
        woke = [len(restarted.timeline(ref, kinds="woke_up")) for ref in refs]
    assert [(t["case_ref"], t["fired_at"]) for t in timers] == [
        (first, clock.now()),
        (second, clock.now()),
    ]
    assert woke == [1, 1]


def test_restarted_engine_resumes_a_half_done_case_without_redeploying(
    url: str, clock: ManualClock
) -> None:
    """API.md: a new Engine on the same URL resumes where the last one stopped. The case has
    register done, is on hold until tomorrow and had assess completed while Waiting (H2: no
    follow-on yet); after the restart the wake-up creates pay and the case can finish."""
    with Engine(url, clock=clock) as engine:
        digest = engine.deploy(CLAIM_YAML).digest
        case = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
        engine.start_work(case.ref, by="bob")
        engine.complete_action(engine.actions(case.ref)[0].ref, by="bob")
        tomorrow = clock.now() + timedelta(days=1)
        engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=tomorrow)
        [assess] = [a for a in engine.actions(case.ref) if a.status is CaseStatus.TO_DO]
        engine.complete_action(assess.ref, by="bob", data={"assessed": 4200})
        before_restart = engine.case(case.ref)
        assert sorted(a.action_type for a in engine.actions(case.ref)) == ["assess", "register"]

    clock.set(tomorrow)
    with Engine(url, clock=clock) as restarted:
        assert restarted.definition("claim").digest == digest
        assert restarted.case(case.ref) == before_restart
        [fired] = restarted.tick()
        assert (fired.case_ref, fired.status) == (case.ref, CaseStatus.TO_DO)
        [pay] = [a for a in restarted.actions(case.ref) if a.status is CaseStatus.TO_DO]
        assert pay.action_type == "pay"
        restarted.complete_action(pay.ref, by="robot")
        restarted.start_work(case.ref, by="bob")
        done = restarted.resolve(case.ref, by="bob")
        assert done.status is CaseStatus.RESOLVED
        assert done.data == {"amount": 5000, "assessed": 4200}
        assert restarted.timeline(case.ref, kinds="flow_finished") != []
        with restarted.store.transaction() as tx:
            state = tx.get_workflow(case.ref)
        assert state is not None
        runner = runner_for(restarted.definition("claim"))
        assert runner.is_finished(runner.loads(state))


def test_stored_workflow_state_has_no_embedded_spec(url: str, clock: ManualClock) -> None:
    with Engine(url, clock=clock) as engine:
        definition = engine.deploy(CLAIM_YAML)
        case = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
        with engine.store.transaction() as tx:
            state = tx.get_workflow(case.ref)
    assert state is not None
    stored = json.loads(state)
    assert "spec" not in stored and "subprocess_specs" not in stored
    assert '"task_specs"' not in state
    assert stored[HEADER_KEY] == {"process": "claim", "version": 1}
    workflow = runner_for(definition).loads(state)
    with_spec = BpmnWorkflowSerializer().serialize_json(workflow)
    assert '"task_specs"' in with_spec  # what an embedded spec would add
    assert len(state) < len(with_spec) / 2


def _definition_rows(engine: Engine) -> list[tuple[str, int]]:
    return [(row["process"], row["version"]) for row in dump_tables(engine)["definitions"]]


def test_definitions_are_stored_once_per_version(
    url: str, clock: ManualClock, tmp_path: Path
) -> None:
    text = CLAIM_YAML.read_text(encoding="utf-8")
    assert "\nversion: 1\n" in text
    version_2 = tmp_path / "claim_v2.yaml"
    version_2.write_text(text.replace("\nversion: 1\n", "\nversion: 2\n"), encoding="utf-8")
    changed = tmp_path / "claim_changed.yaml"
    changed.write_text(text.replace("due: 3 working days", "due: 4 working days"), "utf-8")

    with Engine(url, clock=clock) as engine:
        engine.deploy(CLAIM_YAML)
        engine.deploy(CLAIM_YAML)
        for _ in range(3):
            engine.create_case("claim", by="ann", submit=True)
        assert _definition_rows(engine) == [("claim", 1)]
    with Engine(url, clock=clock) as restarted:
        restarted.deploy(CLAIM_YAML)
        assert _definition_rows(restarted) == [("claim", 1)]
        with pytest.raises(DefinitionError, match="already deployed"):
            restarted.deploy(changed)
        assert _definition_rows(restarted) == [("claim", 1)]
        restarted.deploy(version_2)
        assert _definition_rows(restarted) == [("claim", 1), ("claim", 2)]
        newer = restarted.create_case("claim", by="ann", submit=True)
        assert newer.version == 2
        older = restarted.create_case("claim", by="ann", version=1, submit=True)
        assert older.version == 1


@pytest.mark.parametrize("method", ["advance_schedule", "insert_case", "update_case"])
def test_C1_schedule_occurrence_crashed_mid_way_fires_once_on_the_next_tick(
    url: str, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """Two occurrences due; the second one's transaction crashes: the first case stays
    (each occurrence has its own transaction), the schedule still points at the second
    occurrence, and the next tick (of a restarted engine) makes its case, once."""
    with Engine(url, clock=clock) as engine:
        engine.deploy(scheduled_definition(tmp_path, DAILY))
        clock.set(TEN + timedelta(days=1))
        with monkeypatch.context() as patch:
            crash_after(patch, method, on_call=2)
            with pytest.raises(RuntimeError, match=CRASH):
                engine.tick()
    with Engine(url, clock=clock) as restarted:
        after_crash = dump_tables(restarted)
        assert [c["ref"] for c in after_crash["cases"]] == ["C-1"]
        assert [s["next_at"] for s in after_crash["schedules"]] == [TEN + timedelta(days=1)]
        fired = restarted.tick()
        assert [(f.case_ref, f.fire_at) for f in fired] == [("C-2", TEN + timedelta(days=1))]
        assert restarted.case("C-2").original_request_at == TEN + timedelta(days=1)
        assert restarted.tick() == []
        assert len(dump_tables(restarted)["cases"]) == 2
