"""Statuses and hold kinds (SPEC S, H)."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


def _parse(enum: type[E], value: object, what: str) -> E:
    """A member of ``enum`` from itself, its value or its name; ValueError otherwise."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        for member in enum:
            if value in (member.value, member.name):
                return member
    names = ", ".join(repr(m.value) for m in enum)
    raise ValueError(f"unknown {what} {value!r}; expected one of {names}")


class CaseStatus(StrEnum):
    """Status of a case, ticket or action (SPEC S)."""

    DRAFT = "Draft"
    TO_DO = "To Do"
    IN_PROGRESS = "In Progress"
    WAITING = "Waiting"
    RESOLVED = "Resolved"
    CLOSED = "Closed"
    CANCELLED = "Cancelled"

    @classmethod
    def parse(cls, value: CaseStatus | str) -> CaseStatus:
        """Accept a member, its value (``"To Do"``) or its name (``"TO_DO"``)."""
        return _parse(cls, value, "status")

    @property
    def is_open(self) -> bool:
        """Not yet finished (a sub-case counts as finished when Resolved/Closed/Cancelled)."""
        return self not in (CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED)


#: A3: listing order of statuses.
STATUS_ORDER: dict[CaseStatus, int] = {
    CaseStatus.DRAFT: 0,
    CaseStatus.TO_DO: 1,
    CaseStatus.IN_PROGRESS: 2,
    CaseStatus.WAITING: 3,
    CaseStatus.RESOLVED: 4,
    CaseStatus.CLOSED: 5,
    CaseStatus.CANCELLED: 6,
}


class HoldKind(StrEnum):
    """Why a case waits (H1)."""

    MORE_INFO = "more_info"
    UNTIL = "until"
    PAUSED = "paused"

    @classmethod
    def parse(cls, value: HoldKind | str) -> HoldKind:
        """Accept a member, its value (``"more_info"``) or its name (``"MORE_INFO"``)."""
        return _parse(cls, value, "hold kind")
