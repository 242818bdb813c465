"""Smart cards (V16): data fields declared by the definition, shown on the case snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import deploy_yaml, open_action

from engine import Engine
from engine.builder.bpmn_model import read_model
from engine.builder.bpmn_xml import parse_xml
from engine.builder.compiler import compile_model
from engine.builder.yaml_definition import model_from_yaml
from engine.errors import DefinitionError
from engine.model import DataField

CARDS = """\
id: policy
name: Policy change
version: 1
data_fields:
  - {name: policy_number, type: text, label: Policy number, required: true}
  - {name: amount, type: number}
  - name: urgent
    type: boolean
    label: Urgent?
  - {name: incident_date, type: date}
stages:
  - name: Intake
    actions:
      - {id: register}
      - {id: check}
"""

DECLARED = (
    DataField("policy_number", "text", "Policy number", True),
    DataField("amount", "number"),
    DataField("urgent", "boolean", "Urgent?"),
    DataField("incident_date", "date"),
)


def errors(text: str) -> tuple[tuple[int | None, str, str, str], ...]:
    with pytest.raises(DefinitionError) as caught:
        model_from_yaml(text, "cards.yaml")
    return tuple((p.line, p.path, p.code, p.message) for p in caught.value.problems)


def test_V16_yaml_data_fields_load_to_the_model_in_declared_order() -> None:
    model = model_from_yaml(CARDS, "cards.yaml")
    assert model.data_fields == DECLARED


def test_V16_a_definition_without_data_fields_has_none() -> None:
    text = CARDS.split("data_fields:")[0] + CARDS.split("{name: incident_date, type: date}\n")[1]
    assert model_from_yaml(text, "plain.yaml").data_fields == ()


def test_V16_bpmn_round_trip_keeps_the_data_fields() -> None:
    model = model_from_yaml(CARDS, "cards.yaml")
    xml = compile_model(model)
    assert (
        b'<caseloom:dataField name="policy_number" type="text" label="Policy number" '
        b'required="true"/>' in xml
    )
    assert b'<caseloom:dataField name="amount" type="number" required="false"/>' in xml
    reading = read_model(parse_xml(xml, "cards.bpmn"), "cards.bpmn")
    assert reading.model.data_fields == DECLARED
    assert reading.model == model


def test_V16_bad_type_in_yaml_is_a_definition_error_at_its_line() -> None:
    found = errors(CARDS.replace("{name: amount, type: number}", "{name: amount, type: money}"))
    assert len(found) == 1
    line, path, _, message = found[0]
    assert line == 6
    assert path == "data_fields[1].type"
    assert "money" in message


def test_V16_duplicate_data_field_name_in_yaml_points_at_the_second() -> None:
    text = CARDS.replace("{name: incident_date, type: date}", "{name: amount, type: date}")
    assert errors(text) == (
        (
            10,
            "data_fields[3].name",
            "E016",
            "duplicate data field name 'amount' (first at data_fields[1].name)",
        ),
    )


def test_V16_bpmn_reader_reports_bad_data_fields_with_element_and_line() -> None:
    xml = compile_model(model_from_yaml(CARDS, "cards.yaml")).decode()
    lines = xml.splitlines()
    number = next(i for i, text in enumerate(lines, start=1) if 'name="amount"' in text)
    broken = xml.replace(
        'name="amount" type="number" required="false"',
        'name="amount" type="money" required="maybe"',
    )
    broken = broken.replace('name="urgent"', 'name="Bad name"')
    with pytest.raises(DefinitionError) as caught:
        read_model(parse_xml(broken.encode(), "cards.bpmn"), "cards.bpmn")
    found = sorted((p.line or 0, p.element_id, p.message) for p in caught.value.problems)
    assert [(line, element) for line, element, _ in found] == [
        (number, "policy"),
        (number, "policy"),
        (number + 1, "policy"),
    ]
    messages = " | ".join(message for _, _, message in found)
    assert "invalid type 'money' of data field 'amount'" in messages
    assert "invalid required 'maybe'" in messages
    assert "invalid data field name 'Bad name'" in messages


def test_V16_bpmn_reader_refuses_a_repeated_data_field_name() -> None:
    xml = compile_model(model_from_yaml(CARDS, "cards.yaml")).decode()
    broken = xml.replace('name="urgent"', 'name="amount"')
    with pytest.raises(DefinitionError, match="caseloom:dataField 'amount' appears twice"):
        read_model(parse_xml(broken.encode(), "cards.bpmn"), "cards.bpmn")


def test_V16_case_snapshot_shows_cards_with_values_from_data(
    engine: Engine, tmp_path: Path
) -> None:
    deploy_yaml(engine, tmp_path, CARDS)
    case = engine.create_case(
        "policy", by="ann", data={"policy_number": "P-17", "other": 1}, submit=True
    )
    assert case.smart_cards == (
        {
            "name": "policy_number",
            "label": "Policy number",
            "type": "text",
            "required": True,
            "value": "P-17",
        },
        {"name": "amount", "label": "amount", "type": "number", "required": False, "value": None},
        {"name": "urgent", "label": "Urgent?", "type": "boolean", "required": False, "value": None},
        {
            "name": "incident_date",
            "label": "incident_date",
            "type": "date",
            "required": False,
            "value": None,
        },
    )
    assert engine.case(case.ref).smart_cards == case.smart_cards


def test_V16_cards_follow_the_data_after_complete_action(engine: Engine, tmp_path: Path) -> None:
    deploy_yaml(engine, tmp_path, CARDS)
    ref = engine.create_case("policy", by="ann", data={"amount": 10}, submit=True).ref
    register = open_action(engine, ref, "register")
    engine.complete_action(
        register.ref, by="bob", data={"amount": 250.5, "urgent": True, "policy_number": "P-9"}
    )
    values = {card["name"]: card["value"] for card in engine.case(ref).smart_cards}
    assert values == {
        "policy_number": "P-9",
        "amount": 250.5,
        "urgent": True,
        "incident_date": None,
    }


def test_V16_values_are_not_validated_at_runtime(engine: Engine, tmp_path: Path) -> None:
    deploy_yaml(engine, tmp_path, CARDS)
    case = engine.create_case("policy", by="ann", data={"amount": "lots"}, submit=True)
    cards = {card["name"]: card for card in case.smart_cards}
    assert cards["amount"]["value"] == "lots"
    assert cards["policy_number"]["value"] is None  # required, yet the case is To Do
    assert case.status.value == "To Do"


def test_V16_a_process_without_data_fields_shows_no_cards(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", data={"amount": 5})
    assert case.smart_cards == ()
