"""caseloom: a case-management process engine on SpiffWorkflow."""

from engine.errors import (
    ConcurrencyConflict,
    DefinitionError,
    EngineError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    Problem,
)
from engine.model import ProcessDefinition, ProcessModel

__all__ = [
    "ConcurrencyConflict",
    "DefinitionError",
    "EngineError",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "ProcessDefinition",
    "ProcessModel",
]
