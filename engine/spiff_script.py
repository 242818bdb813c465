"""SpiffWorkflow's script engine, made safe.

SpiffWorkflow evaluates every expression of a workflow (gateway and sequence-flow conditions,
loop and multi-instance conditions and cardinalities, timer expressions, message payloads and
correlation keys, conditional events, DMN entries) through ``workflow.script_engine``: either
``script_engine.evaluate(task, ...)`` or ``script_engine.environment.evaluate(...)``. Its default
environment hands the text to Python's ``eval``, and script tasks (and Spiff pre/post scripts)
to ``exec``.

:class:`SafeScriptEngine` replaces both paths: expressions go through the whitelisting evaluator
of :mod:`engine.expressions`; scripts and service calls are refused.

A workflow restored by SpiffWorkflow's serializer gets the default engine back, so call
:func:`install_safe_engine` on every restored workflow (sub-workflows use their top workflow's
engine).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine

from engine.errors import EngineError
from engine.expressions import MAX_LENGTH, ExpressionError, evaluate, parse_condition

__all__ = [
    "SafeEnvironment",
    "SafeScriptEngine",
    "ScriptNotAllowed",
    "install_safe_engine",
    "safe_script_engine",
]


class ScriptNotAllowed(EngineError):
    """A script task, Spiff pre/post script or service task reached the script engine."""


class SafeEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """A script environment that evaluates conditions and runs nothing."""

    def __init__(self) -> None:
        super().__init__(environment_globals={})

    def evaluate(
        self,
        expression: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Evaluate a condition over the task data, then over ``external_context``.

        Task data wins over the external context (data objects), as in SpiffWorkflow's own
        environment.
        """
        if not isinstance(context, Mapping):
            raise ExpressionError(
                f"cannot evaluate {expression!r}: the data is a {type(context).__name__}, "
                "not a mapping"
            )
        data: Mapping[str, Any] = {**external_context, **context} if external_context else context
        return evaluate(expression, data)

    def execute(
        self,
        script: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> bool:
        """Scripts are never run."""
        raise ScriptNotAllowed("scripts are not allowed in caseloom processes")

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        """Service calls are never made."""
        raise ScriptNotAllowed("service calls are not allowed in caseloom processes")


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow's script engine on :class:`SafeEnvironment`."""

    def __init__(self) -> None:
        super().__init__(environment=SafeEnvironment())

    def validate(self, expression: str) -> None:
        """Check an expression: ``SyntaxError`` if Python cannot parse it (as the base engine,
        which DMN relies on), :class:`ExpressionError` if it is not an allowed condition."""
        if len(expression) <= MAX_LENGTH and "\0" not in expression:
            ast.parse(expression.strip(), mode="eval")
        parse_condition(expression)

    def evaluate(
        self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Evaluate over the task's data; a refused or failing condition raises SpiffWorkflow's
        ``WorkflowTaskException`` naming the expression and the reason."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as err:
            raise WorkflowTaskException(
                f"Error evaluating expression {expression!r}: {err}", task=task, exception=err
            ) from err

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Service tasks are refused (the base class would fail with a ``NameError`` here)."""
        raise ScriptNotAllowed(
            f"service task {task.task_spec.bpmn_id!r}: service calls are not allowed"
        )


_SHARED = SafeScriptEngine()


def safe_script_engine() -> SafeScriptEngine:
    """The shared safe engine (it keeps no state, so one serves every workflow)."""
    return _SHARED


def install_safe_engine(workflow: Any) -> Any:
    """Give a (restored) ``BpmnWorkflow`` the safe engine; returns the workflow."""
    workflow.script_engine = _SHARED
    return workflow
