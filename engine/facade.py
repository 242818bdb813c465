"""``engine.Engine``: the façade applications embed to run cases.

Each public command is one store transaction: load the case, check and change it through the
pure lifecycle (``engine.runtime.lifecycle``), carry out the side effects it names (SLA, timers,
actions, the SpiffWorkflow flow), append the timeline event, write. Any refusal raises an
``EngineError`` before the transaction commits, so nothing is changed.
"""

from __future__ import annotations

from engine.runtime.action_commands import ActionCommands
from engine.runtime.case_commands import CaseCommands
from engine.runtime.case_queries import CaseQueries
from engine.runtime.contact_commands import ContactCommands
from engine.runtime.item_commands import ItemCommands
from engine.runtime.kernel import DEFAULT_URL
from engine.runtime.rework_commands import ReworkCommands
from engine.runtime.subcase_commands import SubcaseCommands

__all__ = ["DEFAULT_URL", "Engine"]


class Engine(
    CaseCommands,
    CaseQueries,
    ActionCommands,
    SubcaseCommands,
    ReworkCommands,
    ItemCommands,
    ContactCommands,
):
    """Runs cases of deployed process definitions, durably, on an injected clock."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
