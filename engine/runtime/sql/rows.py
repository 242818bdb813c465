"""Rows as records: every record field is a column, listed in field order.

Selects list a table's columns in the order of its record's fields, so a row becomes a record
positionally (``case_from(*row)``); :func:`_check_columns` refuses, at import, a table and a
record that disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import sqlalchemy as sa

from engine.runtime.records import (
    ActionRecord,
    CaseRecord,
    DefectRecord,
    DefinitionRecord,
    EventRecord,
    FileRecord,
    LinkRecord,
    ScheduleRecord,
    TimerRecord,
)
from engine.runtime.tables import (
    actions,
    cases,
    defects,
    definitions,
    events,
    files,
    links,
    schedules,
    timers,
)


def _check_columns() -> None:
    """Every record field is a column and every column a field (rows become records by
    position: the selects below list the columns in field order)."""
    pairs: tuple[tuple[sa.Table, type[Any]], ...] = (
        (cases, CaseRecord),
        (actions, ActionRecord),
        (timers, TimerRecord),
        (events, EventRecord),
        (definitions, DefinitionRecord),
        (defects, DefectRecord),
        (files, FileRecord),
        (links, LinkRecord),
        (schedules, ScheduleRecord),
    )
    for table, record in pairs:
        columns = sorted(column.name for column in table.columns)
        names = sorted(item.name for item in fields(record))
        if columns != names:
            raise RuntimeError(f"table {table.name} {columns} != {record.__name__} {names}")


_check_columns()

CASE_SELECT = [cases.c[item.name] for item in fields(CaseRecord)]
ACTION_SELECT = [actions.c[item.name] for item in fields(ActionRecord)]
TIMER_SELECT = [timers.c[item.name] for item in fields(TimerRecord)]
EVENT_SELECT = [events.c[item.name] for item in fields(EventRecord)]
DEFINITION_SELECT = [definitions.c[item.name] for item in fields(DefinitionRecord)]
DEFECT_SELECT = [defects.c[item.name] for item in fields(DefectRecord)]
FILE_SELECT = [files.c[item.name] for item in fields(FileRecord)]
LINK_SELECT = [links.c[item.name] for item in fields(LinkRecord)]
SCHEDULE_SELECT = [schedules.c[item.name] for item in fields(ScheduleRecord)]
CASE_COLUMNS = tuple(column.name for column in CASE_SELECT)
CASE_VALUES = tuple(name for name in CASE_COLUMNS if name != "ref")
ACTION_COLUMNS = tuple(column.name for column in ACTION_SELECT)
ACTION_VALUES = tuple(name for name in ACTION_COLUMNS if name != "ref")
DEFINITION_COLUMNS = tuple(column.name for column in DEFINITION_SELECT)
EVENT_VALUES = tuple(column.name for column in EVENT_SELECT if column.name != "id")
if CASE_COLUMNS[0] != "ref" or ACTION_COLUMNS[0] != "ref":
    raise RuntimeError("CaseRecord and ActionRecord must start with ref (rows[1:] are values)")


def select_cases(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(*CASE_SELECT).where(*where)


# rows are tuples in field order (see _check_columns): build the records positionally
case_from: Callable[..., CaseRecord] = CaseRecord
action_from: Callable[..., ActionRecord] = ActionRecord
timer_from: Callable[..., TimerRecord] = TimerRecord
event_from: Callable[..., EventRecord] = EventRecord
definition_from: Callable[..., DefinitionRecord] = DefinitionRecord
defect_from: Callable[..., DefectRecord] = DefectRecord
file_from: Callable[..., FileRecord] = FileRecord
link_from: Callable[..., LinkRecord] = LinkRecord
schedule_from: Callable[..., ScheduleRecord] = ScheduleRecord


def new_row(record: DefectRecord | FileRecord | LinkRecord) -> dict[str, Any]:
    """The INSERT parameters of a shared item not stored yet: every field but ``id``."""
    if record.id is not None:
        raise ValueError(f"{type(record).__name__} {record.id} is already stored")
    return {item.name: getattr(record, item.name) for item in fields(record) if item.name != "id"}
