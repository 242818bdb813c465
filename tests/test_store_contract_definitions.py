"""The store contract: definitions and counters (``engine/runtime/sql/definitions.py``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from store_backends import assert_utc, definition, run

from engine.runtime.sql_store import SqlStore


# -- definitions -----------------------------------------------------------------------------
def test_definitions_round_trip_versions_and_keys(store: SqlStore) -> None:
    with store.transaction() as tx:
        for process, version in (("claims", 2), ("billing", 1), ("claims", 1), ("claims", 10)):
            tx.add_definition(definition(process, version))
    with store.transaction() as tx:
        loaded = tx.get_definition("claims", 1)
        assert loaded == definition("claims", 1)
        assert loaded is not None and loaded.bpmn == b"<definitions>\x00\xff\xfe</definitions>"
        assert isinstance(loaded.source, bytes) and isinstance(loaded.bpmn, bytes)
        assert_utc(loaded)
        assert tx.get_definition("claims", 3) is None
        assert tx.get_definition("nope", 1) is None
        assert tx.definition_versions("claims") == [1, 2, 10]
        assert tx.definition_versions("nope") == []
        assert tx.definition_keys() == [
            ("billing", 1),
            ("claims", 1),
            ("claims", 2),
            ("claims", 10),
        ]


def test_same_definition_version_cannot_be_added_twice(store: SqlStore) -> None:
    run(store, lambda tx: tx.add_definition(definition()))
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.add_definition(definition())


# -- counters ------------------------------------------------------------------------------
def test_counters_count_from_one_independently_and_roll_back(store: SqlStore) -> None:
    with store.transaction() as tx:
        assert [tx.next_number("case") for _ in range(3)] == [1, 2, 3]
        assert tx.next_number("action") == 1
    with pytest.raises(KeyError), store.transaction() as tx:
        assert tx.next_number("case") == 4
        raise KeyError("abort")
    with store.transaction() as tx:
        assert tx.next_number("case") == 4
        assert tx.next_number("action") == 2
