"""The pinned public surface of the ``engine`` package."""

from __future__ import annotations

import engine

EXPECTED = {
    "ConcurrencyConflict",
    "DefinitionError",
    "EngineError",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "ProcessDefinition",
    "ProcessModel",
}


def test_public_surface_is_pinned() -> None:
    assert set(engine.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(engine, name) is not None


def test_every_refusal_error_is_an_engine_error() -> None:
    for name in ("ConcurrencyConflict", "DefinitionError", "InvalidTransition", "NotFound",
                 "PermissionDenied"):
        assert issubclass(getattr(engine, name), engine.EngineError)
