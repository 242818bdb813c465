"""A deployed definition as the simulator sees it; what-if overrides of case settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.builder.loader import load_definition
from engine.durations import parse_due
from engine.errors import DefinitionError
from engine.simulation.compile import sim_process, with_settings
from engine.simulation.graph import NodeKind

ROOT = Path(__file__).resolve().parents[1]


def test_sim_process_keeps_the_definitions_mappings_and_titles() -> None:
    definition = load_definition(ROOT / "processes" / "claim.yaml", known_processes=["fraud_check"])
    process = sim_process(definition)
    assert process.id == "claim" and process.model == definition.model
    assert process.task_actions == definition.task_actions
    assert process.stage_entries == definition.stage_entries
    assert process.labels["register"] == "Register claim"
    assert process.graph.start in process.graph.nodes


def test_H4_settings_override_replaces_only_the_named_settings() -> None:
    definition = load_definition(ROOT / "processes" / "claim.yaml", known_processes=["fraud_check"])
    assert definition.model.settings.add_wait_time_to_due_date is True
    process = sim_process(
        definition, {"add_wait_time_to_due_date": False, "due": parse_due("1 working day")}
    )
    assert process.model is not None
    settings = process.model.settings
    assert settings.add_wait_time_to_due_date is False
    assert settings.due == parse_due("1 working day")
    assert settings.calendar == definition.model.settings.calendar
    assert definition.model.settings.add_wait_time_to_due_date is True  # definition unchanged


def test_unknown_setting_is_refused_with_the_known_ones() -> None:
    definition = load_definition(ROOT / "processes" / "complaint.bpmn")
    with pytest.raises(DefinitionError, match="no case setting 'add_wait'"):
        with_settings(definition.model, {"add_wait": True})


def test_the_simulator_reads_only_the_gateways_stages_need_and_every_stage_entry() -> None:
    definition = load_definition(ROOT / "processes" / "claim.yaml", known_processes=["fraud_check"])
    process = sim_process(definition)
    nodes = process.graph.nodes
    gateways = sorted(i for i, n in nodes.items() if n.kind in (NodeKind.XOR, NodeKind.AND))
    assert gateways == ["Stage_2_entry", "Stage_2_exit", "Stage_3_entry", "Stage_3_exit"]
    assert all(entry in nodes for entry in process.stage_entries.values())
    assert process.stage_entries[1] == "Action_register"  # no condition: its first task
    assert not any(i.endswith("_group") for i in nodes)  # stage groups are drawing only
