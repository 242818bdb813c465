"""The pinned public surface of the ``engine`` package."""

from __future__ import annotations

import engine

EXPECTED = {
    "Action",
    "Case",
    "CaseStatus",
    "Clock",
    "ConcurrencyConflict",
    "DefinitionError",
    "Engine",
    "EngineError",
    "FlowError",
    "HoldKind",
    "InvalidArgument",
    "InvalidTransition",
    "ManualClock",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "ProcessDefinition",
    "ProcessModel",
    "ReworkPoint",
    "SystemClock",
    "TimelineEvent",
    "TimerFired",
}


def test_public_surface_is_pinned() -> None:
    assert set(engine.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(engine, name) is not None


def test_every_refusal_error_is_an_engine_error() -> None:
    for name in (
        "ConcurrencyConflict",
        "DefinitionError",
        "FlowError",
        "InvalidArgument",
        "InvalidTransition",
        "NotFound",
        "PermissionDenied",
    ):
        assert issubclass(getattr(engine, name), engine.EngineError)


def test_status_and_hold_kind_values_are_the_spec_names() -> None:
    assert engine.CaseStatus.TO_DO.value == "To Do"
    assert [s.value for s in engine.CaseStatus] == [
        "Draft",
        "To Do",
        "In Progress",
        "Waiting",
        "Resolved",
        "Closed",
        "Cancelled",
    ]
    assert {k.name for k in engine.HoldKind} == {"MORE_INFO", "UNTIL", "PAUSED"}
