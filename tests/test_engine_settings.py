"""Engine façade: case settings from the definition (SPEC V3 title edit, V5 due override,
V9 keep actions with me)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import (
    CLAIM_API,
    START,
    assert_refused,
    at,
    claim_in_progress,
    deploy_yaml,
    open_action,
)

from engine import CaseStatus, Engine, HoldKind, InvalidTransition, ManualClock, PermissionDenied


def _claim_variant(engine: Engine, tmp_path: Path, process: str, *swaps: tuple[str, str]) -> str:
    """Deploy API.md's claim under another id with some settings swapped."""
    text = CLAIM_API.read_text(encoding="utf-8").replace("id: claim", f"id: {process}")
    for old, new in swaps:
        assert old in text
        text = text.replace(old, new)
    deploy_yaml(engine, tmp_path, text, f"{process}.yaml")
    return process


# -- V3 -----------------------------------------------------------------------------------------


def test_V3_title_is_editable_when_allowed(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    clock.advance(timedelta(minutes=12))
    before = len(engine.timeline(case.ref))
    edited = engine.set_title(case.ref, "Hail damage, Golf", by="carol")
    assert edited.title == "Hail damage, Golf"
    assert (edited.updated_by, edited.updated_at) == ("carol", at(2, 9, 12))
    assert edited.status is CaseStatus.IN_PROGRESS
    assert (edited.status_set_by, edited.status_set_at) == ("bob", START)
    assert engine.case(case.ref) == edited
    events = engine.timeline(case.ref)
    assert len(events) == before + 1
    assert (events[-1].by, events[-1].at) == ("carol", at(2, 9, 12))


def test_V3_title_is_editable_on_a_draft(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann")
    assert engine.set_title(case.ref, "Draft title", by="ann").title == "Draft title"


def test_V3_title_edit_is_refused_when_not_allowed(engine: Engine, tmp_path: Path) -> None:
    process = _claim_variant(
        engine, tmp_path, "claim_fixed", ("allow_title_edit: true", "allow_title_edit: false")
    )
    case = engine.create_case(process, by="ann", title="Original", submit=True)
    assert_refused(
        engine,
        case.ref,
        PermissionDenied,
        "set_title",
        lambda: engine.set_title(case.ref, "Changed", by="ann"),
    )
    assert engine.case(case.ref).title == "Original"


def test_V3_title_edit_is_refused_on_a_cancelled_case(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.cancel(case.ref, by="bob")
    assert_refused(
        engine,
        case.ref,
        InvalidTransition,
        "set_title",
        lambda: engine.set_title(case.ref, "Too late", by="bob"),
    )


# -- V5 -----------------------------------------------------------------------------------------


def test_V5_due_override_is_refused_when_not_allowed(engine: Engine) -> None:
    case = claim_in_progress(engine)
    assert_refused(
        engine,
        case.ref,
        PermissionDenied,
        "override_due",
        lambda: engine.override_due(case.ref, at(6, 12), by="bob"),
    )


def _overridable(engine: Engine, tmp_path: Path) -> str:
    return _claim_variant(
        engine,
        tmp_path,
        "claim_override",
        ("allow_due_date_override: false", "allow_due_date_override: true"),
    )


def test_V5_due_override_sets_the_due_date_when_allowed(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    process = _overridable(engine, tmp_path)
    case = engine.create_case(process, by="ann", submit=True)
    engine.start_work(case.ref, by="bob")
    clock.advance(timedelta(minutes=1))
    paris = timezone(timedelta(hours=1))
    result = engine.override_due(case.ref, datetime(2026, 3, 6, 13, 0, tzinfo=paris), by="bob")
    assert result.due == at(6, 12)
    assert result.due.utcoffset() == timedelta(0)
    assert result.due_state == "on time"
    assert result.due_text == "Due: 2026-03-06 12:00 UTC (on time)"
    assert (result.updated_by, result.updated_at) == ("bob", at(2, 9, 1))
    assert engine.case(case.ref).due == at(6, 12)


def test_V5_overridden_due_today_and_overdue(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    process = _overridable(engine, tmp_path)
    case = engine.create_case(process, by="ann", submit=True)
    assert engine.override_due(case.ref, at(2, 16), by="ann").due_state == "due today"
    clock.set(at(2, 16, 1))
    assert engine.case(case.ref).due_state == "overdue"


def test_V5_override_while_paused_keeps_the_sla_paused(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    process = _overridable(engine, tmp_path)
    case = engine.create_case(process, by="ann", submit=True)
    engine.start_work(case.ref, by="bob")
    clock.set(at(2, 10))
    engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    paused = engine.override_due(case.ref, at(3, 12), by="bob")
    assert (paused.due, paused.due_state) == (None, "paused")
    # Monday 10:00-17:00 and Tuesday 09:00-12:00 of working time.
    assert paused.due_text == "Due: paused 10h 0m before due date"
    resumed = engine.reply(case.ref, body="here", sender="cust@example.com")
    assert resumed.due == at(3, 12)


# -- V9 -----------------------------------------------------------------------------------------


@pytest.fixture
def kept(engine: Engine, tmp_path: Path) -> str:
    text = CLAIM_API.read_text(encoding="utf-8").replace("id: claim", "id: claim_kept")
    text = text.replace("calendar: office", "calendar: office\nkeep_actions_with_me: true")
    deploy_yaml(engine, tmp_path, text, "kept.yaml")
    return "claim_kept"


def test_V9_keep_actions_with_me_assigns_new_flow_actions_to_the_case_assignee(
    engine: Engine, kept: str
) -> None:
    case = engine.create_case(kept, by="ann", data={"amount": 5000}, submit=True)
    assert open_action(engine, case.ref, "register").assignee is None  # nobody to keep it
    engine.start_work(case.ref, by="bob")
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    assert open_action(engine, case.ref, "assess").assignee == "bob"
    engine.assign(case.ref, "carol", by="bob")
    engine.complete_action(open_action(engine, case.ref, "assess").ref, by="bob")
    assert open_action(engine, case.ref, "pay").assignee == "carol"


def test_V9_keep_actions_with_me_assigns_launched_actions(engine: Engine, kept: str) -> None:
    case = engine.create_case(kept, by="ann", submit=True)
    engine.start_work(case.ref, by="bob")
    (launched,) = engine.launch_action(case.ref, "second_opinion", by="zoe")
    assert launched.assignee == "bob"


def test_V9_without_keep_actions_with_me_new_actions_stay_in_the_queue(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    assert open_action(engine, case.ref, "assess").assignee is None
    (launched,) = engine.launch_action(case.ref, "second_opinion", by="bob")
    assert launched.assignee is None


def test_V9_creation_settings_are_shown(engine: Engine, clock: ManualClock) -> None:
    clock.advance(timedelta(minutes=2))
    case = engine.create_case("claim", by="ann", how="api")
    shown = engine.case(case.ref)
    assert (shown.created_at, shown.created_by, shown.created_how) == (at(2, 9, 2), "ann", "api")
    assert shown.original_request_at == at(2, 9, 2)
