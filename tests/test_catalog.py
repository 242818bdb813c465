"""Versions: keyed by id and version; same key with other content refused."""

from __future__ import annotations

from pathlib import Path

import pytest

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
