"""Contacts and their relationship tags (V10, V11), and time tracking (V12): pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.policy import default as _EMAIL_POLICY
from typing import Any

from engine.errors import InvalidArgument

PRIMARY = "primary contact"
REQUESTER = "requester"
SUBJECT = "subject"
CC = "cc"
#: V11: what a contact added by hand gets unless told otherwise.
DEFAULT_TAGS: tuple[str, ...] = (PRIMARY, REQUESTER, SUBJECT)
#: Tags one contact at a time holds: giving them to a contact takes them from the others.
SINGLE_HOLDER_TAGS = frozenset({PRIMARY, REQUESTER})
#: V10: the ``required_contacts`` setting's words and the tags they require.
REQUIRED_TAGS = {"primary": PRIMARY, "primary contact": PRIMARY, "requester": REQUESTER}

#: Characters no address or name may hold (header injection, invisible text).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Mailbox:
    """One parsed email address: ``display_name`` decoded (RFC 2047), ``address`` the
    addr-spec (``dana.smith@example.com``)."""

    display_name: str
    address: str


def looks_like_address(who: str) -> bool:
    """Whether ``who`` is meant as an email address (it has ``@`` or ``<``), not a name."""
    return "@" in who or "<" in who


def parse_address(text: str) -> Mailbox:
    """One email address with an optional display name, parsed by the standard library's
    RFC 5322 header parser (``Dana Smith <dana@x.com>``, ``"Smith, Dana" <dana@x.com>``,
    RFC 2047 encoded words, a bare ``dana@x.com``).

    Raises :class:`InvalidArgument` for anything that is not exactly one valid address:
    a missing local part or domain, several addresses, control characters, parser defects.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("an email address is needed")
    shown = text if len(text) <= 200 else text[:200] + "…"
    if _CONTROL.search(text):
        raise InvalidArgument(f"{shown!r} is not an email address: it holds control characters")
    try:
        header = _EMAIL_POLICY.header_factory("From", text.strip())
        addresses = header.addresses
        defects = header.defects
    except (HeaderParseError, IndexError) as err:  # IndexError: CPython's parser on 'x@'
        raise InvalidArgument(f"{shown!r} is not an email address") from err
    if len(addresses) != 1:
        raise InvalidArgument(
            f"{shown!r} is not one email address: it holds {len(addresses)} addresses"
        )
    [address] = addresses
    if defects or not address.username or not address.domain:
        raise InvalidArgument(f"{shown!r} is not an email address")
    return Mailbox(display_name=str(address.display_name).strip(), address=address.addr_spec)


def split_display_name(display_name: str) -> tuple[str, str]:
    """First and last name from a display name: ``Dana Smith`` -> ("Dana", "Smith"),
    ``Smith, Dana`` -> ("Dana", "Smith")."""
    name = " ".join(display_name.split())
    if "," in name:
        last, _, first = name.partition(",")
        return (first.strip(), last.strip())
    first, _, last = name.partition(" ")
    return (first, last.strip())


def decode_name(email: str) -> tuple[str, str]:
    """V11: first and last name from an address: ``jane.doe@x.com`` -> ("Jane", "Doe")."""
    local = email.split("@", 1)[0]
    parts = [p for p in re.split(r"[._\-+]+", local) if p and not p.isdigit()]
    if not parts:
        return ("", "")
    first = parts[0].capitalize()
    last = " ".join(p.capitalize() for p in parts[1:])
    return (first, last)


def contact_from_mailbox(mailbox: Mailbox, tags: Iterable[str] | None) -> dict[str, Any]:
    """A contact for a parsed address: names from its display name, else decoded from the
    address (V11)."""
    named = mailbox.display_name and mailbox.display_name != mailbox.address
    if named:
        first, last = split_display_name(mailbox.display_name)
    else:
        first, last = decode_name(mailbox.address)
    chosen = list(DEFAULT_TAGS if tags is None else dict.fromkeys(tags))
    return {"email": mailbox.address, "first_name": first, "last_name": last, "tags": chosen}


def new_contact(who: str, tags: Iterable[str] | None) -> dict[str, Any]:
    """A contact from an email address or a plain name.

    An address (anything with ``@`` or ``<``) must be exactly one valid address
    (:func:`parse_address`, else :class:`InvalidArgument`); the names come from its display
    name when it has one, else they are decoded from the address (V11).
    """
    who = who.strip()
    if looks_like_address(who):
        return contact_from_mailbox(parse_address(who), tags)
    if _CONTROL.search(who):
        raise InvalidArgument(f"{who!r} is not a name: it holds control characters")
    chosen = list(DEFAULT_TAGS if tags is None else dict.fromkeys(tags))
    first, _, last = " ".join(who.split()).partition(" ")
    return {"email": None, "first_name": first, "last_name": last.strip(), "tags": chosen}


def contact_key(contact: dict[str, Any]) -> str:
    """How a contact is named in commands: its email, else its full name."""
    if contact.get("email"):
        return str(contact["email"])
    return f"{contact.get('first_name', '')} {contact.get('last_name', '')}".strip()


def give_tags(contacts: list[dict[str, Any]], target: dict[str, Any], tags: Iterable[str]) -> None:
    """Give ``tags`` to ``target``, moving single-holder tags away from the other contacts."""
    for tag in tags:
        if tag in SINGLE_HOLDER_TAGS:
            for other in contacts:
                if other is not target and tag in other.get("tags", []):
                    other["tags"] = [t for t in other["tags"] if t != tag]
        if tag not in target["tags"]:
            target["tags"].append(tag)


def missing_required(contacts: list[dict[str, Any]], required: Iterable[str]) -> list[str]:
    """V10: the required tags no contact holds."""
    held = {t for c in contacts for t in c.get("tags", [])}
    return [REQUIRED_TAGS.get(r, r) for r in required if REQUIRED_TAGS.get(r, r) not in held]


@dataclass(frozen=True)
class TimeTracking:
    """V12: working sessions on an activity: total and per resource."""

    total: timedelta
    by_resource: dict[str, timedelta] = field(default_factory=dict)
    sessions: tuple[tuple[str, datetime, datetime | None], ...] = ()


_ACTION_ENDS = {"action_completed", "action_refused", "action_failed", "action_closed"}


def track_time(
    events: Iterable[tuple[str, datetime, dict[str, Any]]], now: datetime
) -> TimeTracking:
    """Sessions from timeline events ``(kind, at, details)`` of one activity, oldest first.

    A case is worked while In Progress (its ``assignee`` is recorded on each status change); an
    action from ``action_started`` until it is completed, refused, failed or closed. A session
    still open counts up to ``now``.
    """
    sessions: list[tuple[str, datetime, datetime | None]] = []
    open_by: str | None = None
    open_at: datetime | None = None

    def close(at: datetime) -> None:
        nonlocal open_by, open_at
        if open_by is not None and open_at is not None:
            sessions.append((open_by, open_at, at))
        open_by, open_at = None, None

    for kind, at, details in events:
        if kind == "action_started":
            close(at)
            open_by, open_at = details.get("assignee"), at
        elif kind in _ACTION_ENDS:
            close(at)
        elif "to" in details:
            if details.get("from") == "In Progress":
                close(at)
            if details.get("to") == "In Progress" and details.get("assignee"):
                open_by, open_at = details["assignee"], at
    if open_by is not None and open_at is not None:
        sessions.append((open_by, open_at, None))
    by_resource: dict[str, timedelta] = {}
    for who, start, end in sessions:
        by_resource[who] = by_resource.get(who, timedelta()) + ((end or now) - start)
    return TimeTracking(sum(by_resource.values(), timedelta()), by_resource, tuple(sessions))
