"""C1: a case started by an inbound email to a configured mailbox route."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import CaseStatus, Engine, InvalidArgument, ManualClock, NotFound

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


@pytest.fixture()
def eng() -> Engine:
    engine = Engine("sqlite:///:memory:", clock=ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    for name in ("fraud_check.yaml", "claim.yaml", "complaint.bpmn"):
        engine.deploy(PROCESSES / name)
    return engine


def test_C1_email_to_a_mailbox_route_starts_a_submitted_case_of_its_process(eng: Engine) -> None:
    case = eng.receive_email(
        "Claims@Acme.example", sender="jane.doe@x.com", subject="Hail damage", body="Photos."
    )
    assert (case.process, case.status, case.created_how) == ("claim", CaseStatus.TO_DO, "email")
    assert case.title == "Hail damage" and case.created_by == "jane.doe@x.com"
    assert case.contacts[0]["first_name"] == "Jane"
    assert case.due is not None and "test_mode" not in case.data
    [event] = eng.timeline(case.ref, kinds=["email_received"])
    assert event.details["body"] == "Photos." and event.details["test_mode"] is False


def test_C1_SC4_test_mode_route_marks_the_case(eng: Engine) -> None:
    case = eng.receive_email("claims-test@acme.example", sender="qa@acme.example")
    assert case.data == {"test_mode": True}


def test_C1_unknown_mailbox_is_not_found_and_creates_nothing(eng: Engine) -> None:
    with pytest.raises(NotFound, match="no enabled mailbox route"):
        eng.receive_email("nobody@acme.example", sender="x@y.com")
    assert eng.create_case("claim", by="ann").ref == "C-1"


def test_V15_reply_highlights_and_can_be_marked_read_or_new_again(eng: Engine) -> None:
    case = eng.create_case("claim", by="ann", submit=True)
    eng.start_work(case.ref, by="bob")
    assert eng.reply(case.ref, body="More photos", sender="jane.doe@x.com").highlighted
    assert not eng.mark_read(case.ref, by="bob").highlighted
    assert eng.mark_unread(case.ref, by="bob").highlighted
    assert not eng.open_case(case.ref, by="bob").highlighted
    kinds = [e.kind for e in eng.timeline(case.ref)]
    assert kinds[-2:] == ["marked_read", "marked_unread"]


@pytest.mark.parametrize(
    ("sender", "names"),
    [
        ("Dana Smith <dana.smith@example.com>", ("Dana", "Smith")),
        ('"Smith, Dana" <dana.smith@example.com>', ("Dana", "Smith")),
        ("=?utf-8?q?Dana_Sm=C3=AFth?= <dana.smith@example.com>", ("Dana", "Smïth")),
    ],
)
def test_C1_V11_sender_with_a_display_name_keeps_its_address(
    eng: Engine, sender: str, names: tuple[str, str]
) -> None:
    case = eng.receive_email("claims@acme.example", sender=sender, subject="Hail")
    [contact] = case.contacts
    assert contact["email"] == "dana.smith@example.com"
    assert (contact["first_name"], contact["last_name"]) == names
    assert case.created_by == "dana.smith@example.com"
    [event] = eng.timeline(case.ref, kinds=["email_received"])
    assert event.by == "dana.smith@example.com" and event.details["sender"] == sender


@pytest.mark.parametrize("sender", ["Dana Smith", "dana@", "a@x.com, b@x.com", "x@y.com\nBcc: z"])
def test_C1_sender_that_is_not_one_address_is_refused_and_creates_nothing(
    eng: Engine, sender: str
) -> None:
    with pytest.raises(InvalidArgument, match=r"receive_email to 'claims@acme.example' refused"):
        eng.receive_email("claims@acme.example", sender=sender)
    assert eng.create_case("claim", by="ann").ref == "C-1"


def test_V11_add_contact_refuses_a_bad_address_naming_the_case(eng: Engine) -> None:
    case = eng.create_case("claim", by="ann")
    with pytest.raises(InvalidArgument, match=r"case C-1 is Draft: add_contact refused: 'dana@'"):
        eng.add_contact(case.ref, "dana@", by="ann")
    added = eng.add_contact(case.ref, '"Smith, Dana" <dana@x.com>', by="ann").contacts
    assert [(c["email"], c["first_name"], c["last_name"]) for c in added] == [
        ("dana@x.com", "Dana", "Smith")
    ]
    with pytest.raises(InvalidArgument, match="create_case of 'claim' refused: contacts"):
        eng.create_case("claim", by="ann", contacts=["jane@x.com", "<broken"])
    assert eng.create_case("claim", by="ann").ref == "C-2"  # the refused one took no ref
