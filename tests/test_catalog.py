"""Versions: keyed by id and version; same key with other content refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import Engine, ManualClock
from engine.builder.catalog import Catalog
from engine.builder.loader import load_definition, load_source
from engine.errors import DefinitionError, NotFound

CLAIM = Path(__file__).parent / "data" / "loader" / "claim_api.yaml"


def _variant(title: str, version: int = 1) -> bytes:
    text = CLAIM.read_text().replace("Register claim", title)
    return text.replace("version: 1", f"version: {version}").encode()


def test_redeploying_identical_content_is_a_no_op() -> None:
    catalog = Catalog()
    first = catalog.add(load_definition(CLAIM))
    again = catalog.add(load_definition(CLAIM))
    assert again is first
    assert len(catalog) == 1


def test_same_id_and_version_with_different_content_is_refused() -> None:
    catalog = Catalog()
    catalog.add(load_definition(CLAIM))
    changed = load_source(_variant("Register the claim"), "claim_v1b.yaml").definition
    with pytest.raises(DefinitionError) as err:
        catalog.add(changed)
    message = str(err.value)
    assert "'claim' version 1" in message and "new version" in message
    assert catalog.get("claim").model.stages[0].actions[0].title == "Register claim"


def test_a_new_version_deploys_beside_the_old_one() -> None:
    catalog = Catalog()
    catalog.add(load_definition(CLAIM))
    catalog.add(load_source(_variant("Register", version=2), "claim_v2.yaml").definition)
    assert catalog.versions("claim") == [1, 2]
    assert catalog.get("claim").version == 2
    assert catalog.get("claim", 1).model.stages[0].actions[0].title == "Register claim"
    assert ("claim", 1) in catalog and ("claim", 2) in catalog


def test_unknown_process_or_version_is_not_found() -> None:
    catalog = Catalog()
    with pytest.raises(NotFound, match="'claim' is not deployed"):
        catalog.get("claim")
    catalog.add(load_definition(CLAIM))
    with pytest.raises(NotFound, match="version 7"):
        catalog.get("claim", 7)


def test_SC5_a_process_deploys_before_the_subcase_processes_it_names(tmp_path: Path) -> None:
    """Deployment accepts any order (API.md deploys claim.yaml alone); a sub-case of a process
    not deployed yet is refused when it is created, and works once it is deployed."""
    processes = Path(__file__).resolve().parents[1] / "processes"
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    with Engine(f"sqlite:///{tmp_path / 'order.sqlite'}", clock=clock) as engine:
        claim = engine.deploy(processes / "claim.yaml")
        assert claim.model.settings.subcases == ("fraud_check",)
        case = engine.create_case("claim", by="ann", data={"amount": 3000}, submit=True)
        with pytest.raises(NotFound, match="fraud_check"):
            engine.create_subcase(case.ref, "fraud_check", by="ann", calendar="office")
        assert not engine.case(case.ref).subcases
        engine.deploy(processes / "fraud_check.yaml")
        sub = engine.create_subcase(case.ref, "fraud_check", by="ann", calendar="office")
        assert sub.parent == case.ref and sub.process == "fraud_check"
