"""Sub-case choices (SC4, SC5) and the sub-case list (SC7, SC8)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from engine.model import ProcessModel
from engine.runtime.snapshots import Action
from engine.runtime.status import CaseStatus


@dataclass(frozen=True)
class SubcaseOption:
    """A process that may be started as a sub-case (SC4): its context, the mailbox route it is
    reached through (None when chosen by context), whether that route is in test mode, and
    whether it is preselected (the only option left)."""

    process: str
    version: int
    name: str
    customer: str | None
    contract: str | None
    service: str | None
    mailbox: str | None = None
    test_mode: bool = False
    preselected: bool = False


@dataclass(frozen=True)
class SubcaseSummary:
    """One line of a case's sub-case list (SC8), expandable to its actions."""

    ref: str
    title: str | None
    status: CaseStatus
    process: str
    actions_count: int
    owner: str | None
    assignee: str | None
    queue: str | None
    due: datetime | None
    actions: tuple[Action, ...]


def subcase_options(
    permitted: tuple[str, ...],
    models: dict[str, ProcessModel],
    customer: str | None,
    *,
    mailbox: str | None = None,
    contract: str | None = None,
    service: str | None = None,
) -> list[SubcaseOption]:
    """SC4/SC5: the permitted processes (deployed, latest version), narrowed by mailbox route
    (enabled routes only; a test-mode route offers its process in test mode) or by contract and
    service. The customer is always the parent's (SC3). A single remaining option is
    preselected."""
    options: list[SubcaseOption] = []
    for process in permitted:
        model = models.get(process)
        if model is None:
            continue
        if contract is not None and model.contract != contract:
            continue
        if service is not None and model.service != service:
            continue
        base = SubcaseOption(
            process=model.id,
            version=model.version,
            name=model.name,
            customer=customer,
            contract=model.contract,
            service=model.service,
        )
        if mailbox is None:
            options.append(base)
            continue
        for route in model.settings.email_routes:
            if route.enabled and route.mailbox.lower() == mailbox.lower():
                options.append(replace(base, mailbox=route.mailbox, test_mode=route.test_mode))
    if len(options) == 1:
        options = [replace(options[0], preselected=True)]
    return options
