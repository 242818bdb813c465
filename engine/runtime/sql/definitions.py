"""The transaction's definitions and counters."""

from __future__ import annotations

import sqlalchemy as sa

from engine.runtime.records import DefinitionRecord
from engine.runtime.sql.base import SqlTransactionBase
from engine.runtime.sql.rows import DEFINITION_COLUMNS, DEFINITION_SELECT, definition_from
from engine.runtime.tables import definitions

_SEL_DEFINITION = sa.select(*DEFINITION_SELECT).where(
    definitions.c.process == sa.bindparam("process"),
    definitions.c.version == sa.bindparam("version"),
)
_SEL_VERSIONS = (
    sa.select(definitions.c.version)
    .where(definitions.c.process == sa.bindparam("process"))
    .order_by(definitions.c.version)
)
_INS_DEFINITION = sa.insert(definitions)


class SqlDefinitions(SqlTransactionBase):
    """Deployed definition versions and named counters."""

    __slots__ = ()

    # -- definitions ---------------------------------------------------------------
    def add_definition(self, record: DefinitionRecord) -> None:
        self._run(_INS_DEFINITION, {name: getattr(record, name) for name in DEFINITION_COLUMNS})

    def get_definition(self, process: str, version: int) -> DefinitionRecord | None:
        row = self._run(_SEL_DEFINITION, {"process": process, "version": version}).first()
        return None if row is None else definition_from(*row)

    def definition_versions(self, process: str) -> list[int]:
        return list(self._run(_SEL_VERSIONS, {"process": process}).scalars())

    def definition_keys(self) -> list[tuple[str, int]]:
        return [
            (row.process, row.version) for row in self._conn.execute(self._dialect.definition_keys)
        ]

    # -- counters ------------------------------------------------------------------
    def next_number(self, counter: str) -> int:
        return int(self._returned(self._dialect.p_next_number, {"counter": counter}))
