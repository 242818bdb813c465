"""Contacts and tags (V10, V11) and time tracking (V12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import CaseStatus, Engine, InvalidTransition, ManualClock, NotFound
from engine.runtime.contacts import decode_name

CLAIM = Path(__file__).parent / "data" / "loader" / "claim_api.yaml"

STRICT = """\
id: strict
name: Strict intake
version: 1
required_contacts: [primary, requester]
stages:
  - name: Only
    actions:
      - {id: only, title: Only step}
"""


@pytest.fixture()
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))


@pytest.fixture()
def eng(clock: ManualClock, tmp_path: Path) -> Engine:
    engine = Engine("sqlite:///:memory:", clock=clock)
    engine.deploy(CLAIM)
    (tmp_path / "strict.yaml").write_text(STRICT)
    engine.deploy(tmp_path / "strict.yaml")
    return engine


@pytest.mark.parametrize(
    ("email", "names"),
    [
        ("jane.doe@x.com", ("Jane", "Doe")),
        ("jean-paul_sartre@x.fr", ("Jean", "Paul Sartre")),
        ("support@x.com", ("Support", "")),
    ],
)
def test_V11_names_are_decoded_from_the_email_address(email: str, names: tuple[str, str]) -> None:
    assert decode_name(email) == names


def test_V11_contact_added_by_hand_gets_primary_requester_subject_taken_from_others(
    eng: Engine,
) -> None:
    ref = eng.create_case("claim", by="ann").ref
    first = eng.add_contact(ref, "jane.doe@x.com", by="ann").contacts
    assert first == (
        {
            "email": "jane.doe@x.com",
            "first_name": "Jane",
            "last_name": "Doe",
            "tags": ["primary contact", "requester", "subject"],
        },
    )
    both = eng.add_contact(ref, "max.roe@x.com", by="ann").contacts
    assert [c["tags"] for c in both] == [["subject"], ["primary contact", "requester", "subject"]]
    moved = eng.tag_contact(ref, "jane.doe@x.com", "requester", by="ann").contacts
    assert [c["tags"] for c in moved] == [["subject", "requester"], ["primary contact", "subject"]]
    cc = eng.add_contact(ref, "boss@x.com", by="ann", tags=["cc"]).contacts
    assert cc[-1]["tags"] == ["cc"] and cc[0]["tags"] == ["subject", "requester"]
    with pytest.raises(NotFound, match="not a contact"):
        eng.tag_contact(ref, "nobody@x.com", "cc", by="ann")


def test_V10_submission_refused_without_mandatory_contacts(eng: Engine) -> None:
    ref = eng.create_case("strict", by="ann").ref
    with pytest.raises(InvalidTransition, match="primary contact and a requester"):
        eng.submit(ref, by="ann")
    assert eng.case(ref).status is CaseStatus.DRAFT
    eng.add_contact(ref, "jane.doe@x.com", by="ann")
    assert eng.submit(ref, by="ann").status is CaseStatus.TO_DO
    at_once = eng.create_case("strict", by="ann", contacts=["max.roe@x.com"], submit=True)
    assert at_once.status is CaseStatus.TO_DO


def test_V12_time_tracking_per_resource_for_case_and_action(
    eng: Engine, clock: ManualClock
) -> None:
    ref = eng.create_case("claim", by="ann", data={"amount": 10}, submit=True).ref
    eng.start_work(ref, by="bob")
    clock.advance(timedelta(minutes=30))
    eng.return_to_queue(ref, by="bob")  # bob's session ends
    clock.advance(timedelta(hours=2))  # nobody works
    eng.start_work(ref, by="carl")
    action = eng.actions(ref)[0].ref
    eng.start_action(action, by="carl")
    clock.advance(timedelta(minutes=45))
    eng.complete_action(action, by="carl")
    clock.advance(timedelta(minutes=15))
    case_time = eng.time_tracking(ref)
    assert case_time.by_resource == {"bob": timedelta(minutes=30), "carl": timedelta(hours=1)}
    assert case_time.total == timedelta(minutes=90)
    assert eng.time_tracking(action).by_resource == {"carl": timedelta(minutes=45)}
