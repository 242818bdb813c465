"""The pure status machine (S7 and the table), independent of storage and flow."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.errors import InvalidArgument, InvalidTransition
from engine.model import CaseSettings
from engine.runtime import lifecycle
from engine.runtime.lifecycle import TRANSITIONS, Command
from engine.runtime.records import CaseRecord
from engine.runtime.status import CaseStatus, HoldKind

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOC = Path(__file__).resolve().parents[1] / "docs" / "lifecycle.md"


def _case(status: CaseStatus = CaseStatus.DRAFT, **kw: object) -> CaseRecord:
    return CaseRecord(
        ref="C-1", process="p", version=1, status=status, created_at=NOW, created_by="ann", **kw
    )  # type: ignore[arg-type]


def test_S7_docs_lifecycle_md_is_generated_from_the_table() -> None:
    assert DOC.read_text() == lifecycle.transition_table_markdown(), (
        "docs/lifecycle.md is stale: run `caseloom lifecycle > docs/lifecycle.md`"
    )


@pytest.mark.parametrize("command", list(Command))
@pytest.mark.parametrize("status", list(CaseStatus))
def test_S7_every_command_outside_the_table_is_refused_naming_case_status_and_command(
    command: Command, status: CaseStatus
) -> None:
    case = _case(status)
    if status in TRANSITIONS[command]:
        lifecycle.check(case, command)
        return
    before = copy.deepcopy(case)
    with pytest.raises(InvalidTransition) as err:
        lifecycle.check(case, command)
    message = str(err.value)
    assert "C-1" in message and status.value in message and command.value in message
    assert case == before


def test_C2_C3_submit_moves_draft_to_to_do_and_starts_sla_and_flow() -> None:
    case = _case()
    out = lifecycle.submit(case, by="ann", now=NOW)
    assert case.status is CaseStatus.TO_DO
    assert out.sla == "start" and out.start_flow
    assert (case.status_set_by, case.status_reason, case.status_set_at) == ("ann", "submitted", NOW)


def test_S1_start_work_assigns_and_clears_highlight() -> None:
    case = _case(CaseStatus.TO_DO, highlighted=True)
    lifecycle.start_work(case, by="bob", now=NOW)
    assert case.status is CaseStatus.IN_PROGRESS
    assert case.assignee == "bob" and not case.highlighted


def test_S2_transfer_of_in_progress_case_goes_back_to_to_do() -> None:
    case = _case(CaseStatus.IN_PROGRESS, assignee="bob")
    lifecycle.assign(case, "carl", by="bob", now=NOW)
    assert case.status is CaseStatus.TO_DO and case.assignee == "carl"


def test_S6_status_change_records_who_why_when_and_last_update() -> None:
    case = _case(CaseStatus.IN_PROGRESS, assignee="bob")
    later = NOW + timedelta(minutes=5)
    lifecycle.unassign(case, by="bob", now=later, to_queue=True)
    assert (case.status_set_by, case.status_reason, case.status_set_at) == (
        "bob",
        "returned to queue",
        later,
    )
    assert (case.updated_by, case.updated_at) == ("bob", later)


def test_H3_more_info_reason_must_come_from_the_list_and_nothing_changes() -> None:
    settings = CaseSettings(more_info_reasons=("Customer documents",))
    case = _case(CaseStatus.IN_PROGRESS)
    before = copy.deepcopy(case)
    with pytest.raises(InvalidArgument, match="not in the configured list"):
        lifecycle.hold(
            case, HoldKind.MORE_INFO, by="bob", now=NOW, settings=settings, reason="Lunch"
        )
    with pytest.raises(InvalidArgument, match="needs a reason"):
        lifecycle.hold(case, HoldKind.MORE_INFO, by="bob", now=NOW, settings=settings)
    assert case == before


def test_H4_more_info_pauses_sla_only_with_add_wait_time() -> None:
    on = CaseSettings(add_wait_time_to_due_date=True, more_info_reasons=("x",))
    off = CaseSettings(more_info_reasons=("x",))
    assert (
        lifecycle.hold(
            _case(CaseStatus.TO_DO), HoldKind.MORE_INFO, by="b", now=NOW, settings=on, reason="x"
        ).sla
        == "pause"
    )
    assert (
        lifecycle.hold(
            _case(CaseStatus.TO_DO), HoldKind.MORE_INFO, by="b", now=NOW, settings=off, reason="x"
        ).sla
        is None
    )


def test_H6_until_needs_a_future_date_and_sets_a_timer() -> None:
    case = _case(CaseStatus.TO_DO)
    with pytest.raises(InvalidArgument, match="not later than now"):
        lifecycle.hold(case, HoldKind.UNTIL, by="b", now=NOW, settings=CaseSettings(), until=NOW)
    out = lifecycle.hold(
        case,
        HoldKind.UNTIL,
        by="b",
        now=NOW,
        settings=CaseSettings(),
        until=NOW + timedelta(days=1),
    )
    assert out.set_timer == ("hold_until", NOW + timedelta(days=1))
    assert case.status is CaseStatus.WAITING


def test_H7_paused_has_no_automatic_exit() -> None:
    case = _case(CaseStatus.TO_DO)
    out = lifecycle.hold(case, HoldKind.PAUSED, by="b", now=NOW, settings=CaseSettings())
    assert out.set_timer is None and out.sla is None
    assert lifecycle.wake_up(case, now=NOW + timedelta(days=400)) is None
    assert case.status is CaseStatus.WAITING


def test_R3_second_resolution_keeps_the_first() -> None:
    case = _case(CaseStatus.IN_PROGRESS)
    lifecycle.resolve(
        case,
        by="ann",
        now=NOW,
        settings=CaseSettings(),
        feedback_until=NOW + timedelta(days=2),
        unfinished_subcases=[],
    )
    lifecycle.reopen(case, by="ann", now=NOW)
    lifecycle.start_work(case, by="bob", now=NOW)
    later = NOW + timedelta(hours=1)
    lifecycle.resolve(
        case,
        by="bob",
        now=later,
        settings=CaseSettings(),
        feedback_until=None,
        unfinished_subcases=[],
    )
    assert (case.first_resolved_by, case.first_resolved_at) == ("ann", NOW)
    assert (case.resolved_by, case.resolved_at) == ("bob", later)
    assert case.status is CaseStatus.CLOSED


def test_R1_unfinished_subcases_block_resolution() -> None:
    case = _case(CaseStatus.IN_PROGRESS)
    with pytest.raises(InvalidTransition, match="C-1-1"):
        lifecycle.resolve(
            case,
            by="ann",
            now=NOW,
            settings=CaseSettings(),
            feedback_until=None,
            unfinished_subcases=["C-1-1"],
        )
    assert case.status is CaseStatus.IN_PROGRESS and case.first_resolved_at is None
