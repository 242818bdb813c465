"""caseloom: a case-management process engine on SpiffWorkflow.

The public surface is what this module exports (pinned by tests/test_exported_members.py);
everything else is private to the package.
"""

from engine.clock import Clock, ManualClock, SystemClock
from engine.errors import (
    ConcurrencyConflict,
    DefinitionError,
    EngineError,
    FlowError,
    InvalidArgument,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    Problem,
)
from engine.facade import Engine
from engine.model import ProcessDefinition, ProcessModel
from engine.runtime.snapshots import Action, Case, ReworkPoint, TimelineEvent, TimerFired
from engine.runtime.status import CaseStatus, HoldKind

__all__ = [
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
]
