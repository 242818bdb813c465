"""Contacts from email addresses (V11): the standard library parses them; names come from the
display name when there is one, else from the address; what is not an address is refused."""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import formataddr

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import InvalidArgument
from engine.runtime.contacts import Mailbox, new_contact, parse_address


@pytest.mark.parametrize(
    ("sender", "email", "names"),
    [
        ("Dana Smith <dana.smith@example.com>", "dana.smith@example.com", ("Dana", "Smith")),
        ('"Smith, Dana" <dana.smith@example.com>', "dana.smith@example.com", ("Dana", "Smith")),
        (
            "=?utf-8?q?Ren=C3=A9e_Dupont?= <renee@example.com>",
            "renee@example.com",
            ("Renée", "Dupont"),
        ),
        (
            "=?iso-8859-1?q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
            "PIRARD@vm1.ulg.ac.be",
            ("André", "Pirard"),
        ),
        ("Mary Ann van  der Berg <m@x.com>", "m@x.com", ("Mary", "Ann van der Berg")),
        ("<jane.doe@x.com>", "jane.doe@x.com", ("Jane", "Doe")),
        ("jane.doe@x.com", "jane.doe@x.com", ("Jane", "Doe")),
        ('"jane.doe@x.com" <jane.doe@x.com>', "jane.doe@x.com", ("Jane", "Doe")),
        ("Prince <p@x.com>", "p@x.com", ("Prince", "")),
    ],
)
def test_V11_contact_from_an_address_takes_names_from_the_display_name_else_the_address(
    sender: str, email: str, names: tuple[str, str]
) -> None:
    contact = new_contact(sender, None)
    assert contact["email"] == email
    assert (contact["first_name"], contact["last_name"]) == names


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("dana@", "not an email address"),
        ("@example.com", "not an email address"),
        ("a@b@c", "not an email address"),
        ("Dana <>", "not an email address"),
        ("x@y.com, z@w.com", "holds 2 addresses"),
        ("Smith, Dana <d@x.com>", "holds 2 addresses"),
        ("bob@x.com\r\nBcc: eve@y.com", "control characters"),
        ("Dana <dana@x.com", "not an email address"),
    ],
)
def test_V11_what_is_not_one_address_is_refused(text: str, why: str) -> None:
    with pytest.raises(InvalidArgument, match=why):
        new_contact(text, None)


def test_V11_plain_name_stays_a_name_contact() -> None:
    contact = new_contact("  Jane   Doe ", ["cc"])
    assert contact == {"email": None, "first_name": "Jane", "last_name": "Doe", "tags": ["cc"]}
    with pytest.raises(InvalidArgument, match="control characters"):
        new_contact("Jane\nDoe", None)


_ATOM = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@given(
    first=st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=10),
    last=st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=10),
    local=_ATOM,
    domain=_ATOM,
)
def test_V11_display_name_round_trips_through_the_header_form(
    first: str, last: str, local: str, domain: str
) -> None:
    """A mailbox as mail clients write it (RFC 2047 encoded words for a non-ASCII name,
    ``formataddr``) and as Python writes it unencoded both parse back to themselves."""
    name, address = f"{first} {last}", f"{local}@{domain}.org"
    for written in (formataddr((name, address)), str(Address(name, addr_spec=address))):
        assert parse_address(written) == Mailbox(name, address)
