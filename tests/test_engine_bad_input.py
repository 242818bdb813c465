"""Engine façade: bad input is refused with an EngineError and changes nothing (API.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import CLAIM_API, START, at, claim_in_progress, deploy_yaml, open_action, state_of

from engine import (
    CaseStatus,
    Engine,
    EngineError,
    HoldKind,
    InvalidArgument,
    ManualClock,
    NotFound,
)

NAIVE = datetime(2026, 3, 3, 12, 0)

CaseCall = Callable[[Engine, str], object]

# -- unknown references ---------------------------------------------------------------------------

_CASE_COMMANDS: list[tuple[str, CaseCall]] = [
    ("case", lambda e, r: e.case(r)),
    ("actions", lambda e, r: e.actions(r)),
    ("timeline", lambda e, r: e.timeline(r)),
    ("submit", lambda e, r: e.submit(r, by="ann")),
    ("start_work", lambda e, r: e.start_work(r, by="ann")),
    ("set_status", lambda e, r: e.set_status(r, CaseStatus.TO_DO, by="ann")),
    ("assign", lambda e, r: e.assign(r, "bob", by="ann")),
    ("unassign", lambda e, r: e.unassign(r, by="ann")),
    ("return_to_queue", lambda e, r: e.return_to_queue(r, by="ann")),
    ("hold", lambda e, r: e.hold(r, HoldKind.PAUSED, by="ann")),
    ("reply", lambda e, r: e.reply(r, body="hi")),
    ("resolve", lambda e, r: e.resolve(r, by="ann")),
    ("reopen", lambda e, r: e.reopen(r, by="ann")),
    ("cancel", lambda e, r: e.cancel(r, by="ann")),
    ("open_case", lambda e, r: e.open_case(r, by="ann")),
    ("set_title", lambda e, r: e.set_title(r, "New", by="ann")),
    ("override_due", lambda e, r: e.override_due(r, at(5, 12), by="ann")),
    ("launch_action", lambda e, r: e.launch_action(r, "second_opinion", by="ann")),
    ("start_action", lambda e, r: e.start_action(r, by="ann")),
    ("complete_action", lambda e, r: e.complete_action(r, by="ann")),
    ("fail_action", lambda e, r: e.fail_action(r, error="boom")),
    ("refuse_action", lambda e, r: e.refuse_action(r, by="ann")),
]


@pytest.mark.parametrize(("name", "call"), _CASE_COMMANDS, ids=[c[0] for c in _CASE_COMMANDS])
def test_unknown_reference_raises_not_found(
    shared_engine: Engine, name: str, call: CaseCall
) -> None:
    existing = claim_in_progress(shared_engine)
    before = state_of(shared_engine, existing.ref)
    with pytest.raises(NotFound) as info:
        call(shared_engine, "C-404404")
    assert "C-404404" in str(info.value)
    assert state_of(shared_engine, existing.ref) == before


def test_unknown_process_raises_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound, match="nope"):
        engine.create_case("nope", by="ann")


def test_unknown_action_type_raises_not_found(shared_engine: Engine) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    before = state_of(engine, case.ref)
    with pytest.raises(NotFound) as info:
        engine.launch_action(case.ref, "telepathy", by="bob")
    assert "telepathy" in str(info.value) and case.ref in str(info.value)
    assert state_of(engine, case.ref) == before


# -- unknown status / hold kind -------------------------------------------------------------------


@pytest.mark.parametrize("status", ["Done", "todo", "", "in progress"])
def test_unknown_status_string_is_refused(shared_engine: Engine, status: str) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument) as info:
        engine.set_status(case.ref, status, by="bob")
    assert repr(status) in str(info.value)
    assert "To Do" in str(info.value)  # lists what is accepted
    assert state_of(engine, case.ref) == before


@pytest.mark.parametrize("kind", ["sleep", "MoreInfo", ""])
def test_unknown_hold_kind_is_refused(shared_engine: Engine, kind: str) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument) as info:
        engine.hold(case.ref, kind, by="bob")
    assert repr(kind) in str(info.value)
    assert "more_info" in str(info.value)
    assert state_of(engine, case.ref) == before


# -- datetimes ------------------------------------------------------------------------------------


def test_naive_until_is_refused(shared_engine: Engine) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument, match="naive|timezone"):
        engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=NAIVE)
    assert state_of(engine, case.ref) == before


@pytest.mark.parametrize("until", [START, START - timedelta(seconds=1), at(1, 12)])
def test_until_not_in_the_future_is_refused(shared_engine: Engine, until: datetime) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument) as info:
        engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=until)
    assert case.ref in str(info.value)
    assert state_of(engine, case.ref) == before


def test_naive_due_of_launch_action_is_refused(shared_engine: Engine) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument, match="naive|timezone"):
        engine.launch_action(case.ref, "second_opinion", by="bob", due=NAIVE)
    assert state_of(engine, case.ref) == before


def test_naive_due_of_override_due_is_refused(engine: Engine, tmp_path: Path) -> None:
    text = CLAIM_API.read_text(encoding="utf-8")
    text = text.replace("allow_due_date_override: false", "allow_due_date_override: true")
    deploy_yaml(engine, tmp_path, text.replace("id: claim", "id: claim_override"))
    case = engine.create_case("claim_override", by="ann", submit=True)
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument, match="naive|timezone"):
        engine.override_due(case.ref, NAIVE, by="ann")
    assert state_of(engine, case.ref) == before


def test_naive_manual_clock_start_is_refused() -> None:
    with pytest.raises(EngineError, match="naive|timezone"):
        ManualClock(NAIVE)


def test_naive_manual_clock_set_is_refused() -> None:
    clock = ManualClock(START)
    with pytest.raises(EngineError, match="naive|timezone"):
        clock.set(NAIVE)
    assert clock.now() == START


# -- actors ---------------------------------------------------------------------------------------

_BY_COMMANDS: list[tuple[str, CaseCall]] = [
    ("start_work", lambda e, r: e.start_work(r, by="")),
    ("set_status", lambda e, r: e.set_status(r, CaseStatus.IN_PROGRESS, by="")),
    ("assign", lambda e, r: e.assign(r, "bob", by="")),
    ("assign_to", lambda e, r: e.assign(r, "", by="ann")),
    ("unassign", lambda e, r: e.unassign(r, by="  ")),
    ("hold", lambda e, r: e.hold(r, HoldKind.PAUSED, by="")),
    ("cancel", lambda e, r: e.cancel(r, by="")),
    ("set_title", lambda e, r: e.set_title(r, "New title", by="")),
    ("launch_action", lambda e, r: e.launch_action(r, "second_opinion", by="")),
    ("start_action", lambda e, r: e.start_action(e.actions(r)[0].ref, by="")),
    ("complete_action", lambda e, r: e.complete_action(e.actions(r)[0].ref, by="")),
    ("refuse_action", lambda e, r: e.refuse_action(e.actions(r)[0].ref, by="")),
    ("open_case", lambda e, r: e.open_case(r, by="")),
]


@pytest.mark.parametrize(("name", "call"), _BY_COMMANDS, ids=[c[0] for c in _BY_COMMANDS])
def test_empty_actor_is_refused(shared_engine: Engine, name: str, call: CaseCall) -> None:
    case = shared_engine.create_case("claim", by="ann", submit=True)
    before = state_of(shared_engine, case.ref)
    with pytest.raises(InvalidArgument):
        call(shared_engine, case.ref)
    assert state_of(shared_engine, case.ref) == before


def test_empty_actor_on_create_case_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidArgument, match="by"):
        engine.create_case("claim", by="")


# -- data -----------------------------------------------------------------------------------------

BAD_DATA: list[dict[str, Any]] = [
    {"x": object()},
    {"x": float("nan")},
    {"x": float("inf")},
    {"x": {1, 2}},
]


@pytest.fixture(scope="module")
def first_ref() -> str:
    """The ref a fresh engine gives its first case."""
    with Engine("sqlite:///:memory:", clock=ManualClock(START)) as fresh:
        fresh.deploy(CLAIM_API)
        return fresh.create_case("claim", by="ann").ref


@pytest.mark.parametrize("data", BAD_DATA, ids=["object", "nan", "inf", "set"])
def test_data_not_json_is_refused_on_create(
    engine: Engine, first_ref: str, data: dict[str, Any]
) -> None:
    with pytest.raises(InvalidArgument, match="JSON"):
        engine.create_case("claim", by="ann", data=data, submit=True)
    assert engine.create_case("claim", by="ann").ref == first_ref
    assert engine.inbox("ann") == [] and engine.responsibilities("ann") == []


@pytest.mark.parametrize("data", BAD_DATA, ids=["object", "nan", "inf", "set"])
def test_data_not_json_is_refused_on_complete_action(
    shared_engine: Engine, data: dict[str, Any]
) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument, match="JSON"):
        engine.complete_action(register.ref, by="bob", data=data)
    assert state_of(engine, case.ref) == before


def test_data_that_is_not_a_mapping_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidArgument, match="mapping"):
        engine.create_case("claim", by="ann", data=[("a", 1)])  # type: ignore[arg-type]


# -- other values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, -1, 101])
def test_launch_count_out_of_range_is_refused(shared_engine: Engine, count: int) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument, match="count"):
        engine.launch_action(case.ref, "second_opinion", by="bob", count=count)
    assert state_of(engine, case.ref) == before


def test_launch_due_in_the_past_is_refused(shared_engine: Engine) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument, match="past"):
        engine.launch_action(case.ref, "second_opinion", by="bob", due=at(1, 9))
    assert state_of(engine, case.ref) == before


def test_empty_title_is_refused(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann")
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument, match="title"):
        engine.set_title(case.ref, "  ", by="ann")
    assert state_of(engine, case.ref) == before


def test_fail_action_without_error_text_is_refused(shared_engine: Engine) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument):
        engine.fail_action(register.ref, error="")
    assert state_of(engine, case.ref) == before
