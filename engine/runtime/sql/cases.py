"""The transaction's cases (with the inbox, responsibilities and sub-cases), actions and
workflow state: the rows every command reads and writes, all through prepared statements."""

from __future__ import annotations

from engine.errors import ConcurrencyConflict
from engine.runtime.records import ActionRecord, CaseRecord
from engine.runtime.sql.base import SqlTransactionBase
from engine.runtime.sql.rows import (
    ACTION_COLUMNS,
    ACTION_VALUES,
    CASE_COLUMNS,
    CASE_VALUES,
    action_from,
    case_from,
)


class SqlCases(SqlTransactionBase):
    """Cases, actions and the SpiffWorkflow state of each case."""

    __slots__ = ()

    # -- cases ---------------------------------------------------------------------
    def insert_case(self, case: CaseRecord) -> None:
        params = {name: getattr(case, name) for name in CASE_COLUMNS}
        params["row_version"] = 1
        self._count(self._dialect.p_insert_case, params)
        case.row_version = 1
        self._read[("cases", case.ref)] = tuple(params[name] for name in CASE_VALUES)

    def get_case(self, ref: str) -> CaseRecord | None:
        row = self._first(self._dialect.p_get_case, {"ref": ref})
        if row is None:
            return None
        self._read[("cases", ref)] = row[1:]
        return case_from(*row)

    def update_case(self, case: CaseRecord) -> None:
        values = tuple(
            case.row_version + 1 if name == "row_version" else getattr(case, name)
            for name in CASE_VALUES
        )
        if not self._update("cases", case.ref, values, CASE_VALUES, case.row_version):
            raise ConcurrencyConflict(
                f"case {case.ref} was changed by someone else (or does not exist); "
                "reload it and try again"
            )
        case.row_version += 1

    def subcases_of(self, ref: str) -> list[CaseRecord]:
        return [case_from(*row) for row in self._rows(self._dialect.p_subcases, {"parent": ref})]

    def inbox(self, user: str) -> list[CaseRecord]:
        return [case_from(*row) for row in self._rows(self._dialect.p_inbox, {"user": user})]

    def responsibilities(self, user: str) -> list[CaseRecord]:
        return [
            case_from(*row) for row in self._rows(self._dialect.p_responsibilities, {"user": user})
        ]

    # -- actions -------------------------------------------------------------------
    def insert_action(self, action: ActionRecord) -> None:
        params = {name: getattr(action, name) for name in ACTION_COLUMNS}
        params["row_version"] = 1
        self._count(self._dialect.p_insert_action, params)
        action.row_version = 1
        self._read[("actions", action.ref)] = tuple(params[name] for name in ACTION_VALUES)

    def update_action(self, action: ActionRecord) -> None:
        values = tuple(
            action.row_version + 1 if name == "row_version" else getattr(action, name)
            for name in ACTION_VALUES
        )
        if not self._update("actions", action.ref, values, ACTION_VALUES, action.row_version):
            raise ConcurrencyConflict(
                f"action {action.ref} of case {action.case_ref} was changed by someone else "
                "(or does not exist); reload it and try again"
            )
        action.row_version += 1

    def get_action(self, ref: str) -> ActionRecord | None:
        row = self._first(self._dialect.p_get_action, {"ref": ref})
        if row is None:
            return None
        self._read[("actions", ref)] = row[1:]
        return action_from(*row)

    def actions_of(self, case_ref: str) -> list[ActionRecord]:
        rows = self._rows(self._dialect.p_actions_of, {"case_ref": case_ref})
        read = self._read
        for row in rows:
            read[("actions", row[0])] = row[1:]
        return [action_from(*row) for row in rows]

    # -- workflow state --------------------------------------------------------------
    def get_workflow(self, case_ref: str) -> str | None:
        row = self._first(self._dialect.p_get_workflow, {"case_ref": case_ref})
        return None if row is None or row[0] is None else str(row[0])

    def put_workflow(self, case_ref: str, state: str) -> None:
        self._count(self._dialect.p_put_workflow, {"w_case_ref": case_ref, "w_state": state})
