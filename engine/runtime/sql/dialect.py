"""The backends, and per store the statements that differ by database and the prepared
statements of the hot path (cases, actions, workflow state, counters, appending events)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from engine.runtime.sql.prepared import Prepared
from engine.runtime.sql.rows import (
    ACTION_COLUMNS,
    ACTION_SELECT,
    ACTION_VALUES,
    CASE_COLUMNS,
    CASE_SELECT,
    CASE_VALUES,
    EVENT_VALUES,
    select_cases,
)
from engine.runtime.status import CaseStatus
from engine.runtime.tables import actions, cases, counters, definitions, events, workflows

#: The backends the store supports, with their INSERT constructs (for ON CONFLICT upserts).
INSERTS: dict[str, Callable[[sa.Table], Any]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}

_OPEN_WORK = (CaseStatus.TO_DO.value, CaseStatus.IN_PROGRESS.value)

#: Distinct sets of changed columns prepared per store and table before falling back to the
#: statement writing every column.
_UPDATE_SHAPES = 256

# -- the statements of every command, prepared per store ---------------------------------
_SEL_CASE = select_cases(cases.c.ref == sa.bindparam("ref"))
_INS_CASE = sa.insert(cases)
_UPD_CASE = sa.update(cases).where(
    cases.c.ref == sa.bindparam("w_ref"), cases.c.row_version == sa.bindparam("w_version")
)
_SEL_ACTION = sa.select(*ACTION_SELECT).where(actions.c.ref == sa.bindparam("ref"))
_INS_ACTION = sa.insert(actions)
_UPD_ACTION = sa.update(actions).where(
    actions.c.ref == sa.bindparam("w_ref"), actions.c.row_version == sa.bindparam("w_version")
)
_SEL_WORKFLOW = sa.select(workflows.c.state).where(workflows.c.case_ref == sa.bindparam("case_ref"))

_INS_EVENT = sa.insert(events).returning(events.c.id)


class SqlDialect:
    """The statements that differ by database, and the prepared statements of the hot path.

    * Upserts: ``INSERT ... ON CONFLICT`` in each dialect's construct.
    * Text order: refs and names sort by code point everywhere (what SQLite does and Python's
      ``sorted`` does); PostgreSQL sorts by the database's collation unless told ``COLLATE "C"``.
    """

    def __init__(self, dialect: Dialect) -> None:
        name = dialect.name
        insert = INSERTS[name]
        upsert_counter = insert(counters).values(name=sa.bindparam("counter"), value=1)
        self.next_number: sa.Executable = upsert_counter.on_conflict_do_update(
            index_elements=[counters.c.name], set_={"value": counters.c.value + 1}
        ).returning(counters.c.value)
        upsert_workflow = insert(workflows).values(
            case_ref=sa.bindparam("w_case_ref"), state=sa.bindparam("w_state")
        )
        self.put_workflow: sa.Executable = upsert_workflow.on_conflict_do_update(
            index_elements=[workflows.c.case_ref],
            set_={"state": upsert_workflow.excluded.state},
        )

        def text(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
            return column.collate("C") if name == "postgresql" else column

        self.definition_keys: sa.Executable = sa.select(
            definitions.c.process, definitions.c.version
        ).order_by(text(definitions.c.process), definitions.c.version)
        self.subcases: sa.Executable = select_cases(
            cases.c.parent == sa.bindparam("parent")
        ).order_by(
            # creation order: time, then the sub-case number of "<parent>-<n>" (SC10)
            cases.c.created_at,
            sa.func.length(cases.c.ref),
            text(cases.c.ref),
        )
        # IN of bound literals (not an "expanding" list): the prepared form needs fixed SQL
        open_work = cases.c.status.in_([sa.literal(status) for status in _OPEN_WORK])
        self.inbox: sa.Executable = select_cases(
            cases.c.assignee == sa.bindparam("user"), open_work
        ).order_by(text(cases.c.ref))
        # two index searches (assigned / unassigned but owned), disjoint by assignee
        waiting = sa.union_all(
            select_cases(
                cases.c.assignee == sa.bindparam("user"),
                cases.c.status == CaseStatus.WAITING.value,
            ),
            select_cases(
                cases.c.owner == sa.bindparam("user"),
                cases.c.status == CaseStatus.WAITING.value,
                cases.c.assignee.is_(None),
            ),
        ).subquery("waiting")
        self.responsibilities: sa.Executable = sa.select(*waiting.c).order_by(text(waiting.c.ref))
        self.actions_of: sa.Executable = (
            sa.select(*ACTION_SELECT)
            .where(actions.c.case_ref == sa.bindparam("case_ref"))
            .order_by(actions.c.seq, text(actions.c.ref))
        )

        def prepare(
            statement: sa.Executable,
            columns: Sequence[sa.ColumnElement[Any]] = (),
            keys: Sequence[str] | None = None,
        ) -> Prepared:
            return Prepared(statement, dialect, columns, keys)

        self._sa_dialect = dialect
        self.p_next_number = prepare(self.next_number, [counters.c.value])
        self.p_get_case = prepare(_SEL_CASE, CASE_SELECT)
        self.p_insert_case = prepare(_INS_CASE, keys=CASE_COLUMNS)
        self.p_subcases = prepare(self.subcases, CASE_SELECT)
        self.p_inbox = prepare(self.inbox, CASE_SELECT)
        self.p_responsibilities = prepare(self.responsibilities, CASE_SELECT)
        self.p_get_action = prepare(_SEL_ACTION, ACTION_SELECT)
        self.p_insert_action = prepare(_INS_ACTION, keys=ACTION_COLUMNS)
        self.p_actions_of = prepare(self.actions_of, ACTION_SELECT)
        self.p_get_workflow = prepare(_SEL_WORKFLOW, [workflows.c.state])
        self.p_put_workflow = prepare(self.put_workflow)
        self.p_append_event = prepare(_INS_EVENT, [events.c.id], keys=EVENT_VALUES)
        self._updates: dict[tuple[str, tuple[str, ...]], Prepared] = {}
        self._full_updates = {
            "cases": prepare(_UPD_CASE, keys=(*CASE_VALUES, "w_ref", "w_version")),
            "actions": prepare(_UPD_ACTION, keys=(*ACTION_VALUES, "w_ref", "w_version")),
        }

    def update(self, table: str, columns: tuple[str, ...]) -> Prepared:
        """The prepared ``UPDATE <table> SET <columns> WHERE ref = :w_ref AND row_version =
        :w_version`` (``table`` is ``cases`` or ``actions``); every column once too many
        shapes were prepared."""
        key = (table, columns)
        prepared = self._updates.get(key)
        if prepared is None:
            if len(self._updates) >= _UPDATE_SHAPES:
                return self._full_updates[table]
            statement = _UPD_CASE if table == "cases" else _UPD_ACTION
            keys = (*columns, "w_ref", "w_version")
            prepared = self._updates[key] = Prepared(statement, self._sa_dialect, keys=keys)
        return prepared
