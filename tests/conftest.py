"""Shared fixtures and helpers for the Engine façade tests.

* ``clock``: a :class:`~engine.ManualClock` at Monday 2026-03-02 09:00 UTC (:data:`START`).
* ``engine``: an :class:`~engine.Engine` on ``sqlite:///:memory:`` with API.md's claim example
  (``tests/data/loader/claim_api.yaml``) deployed.
* ``shared_engine``: the same, module-scoped, for tests that touch only their own cases.

Helpers (import them with ``from conftest import ...``): :func:`at` builds a March 2026 UTC
instant, :func:`deploy_yaml` deploys a small definition written in ``tmp_path``,
:func:`state_of` / :func:`assert_refused` check that a refused command changed nothing,
:func:`claim_in_progress` and :func:`open_action` shorten the usual set-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import Action, Case, Engine, EngineError, ManualClock, ProcessDefinition, TimelineEvent

#: The store contract's backends (fixtures ``url``, ``shared_url``, ``store``, ``seeded``) and
#: record builders, for tests/test_store_contract*.py: see tests/store_backends.py.
pytest_plugins = ["store_backends"]

#: Monday 2026-03-02 09:00 UTC: the start of a working week on the ``office`` calendar.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: API.md's YAML example.
CLAIM_API = Path(__file__).parent / "data" / "loader" / "claim_api.yaml"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of March 2026 in UTC (2 = Monday, 3 = Tuesday, ... 6 = Friday)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def engine(clock: ManualClock) -> Iterator[Engine]:
    eng = Engine("sqlite:///:memory:", clock=clock)
    eng.deploy(CLAIM_API)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def shared_engine() -> Iterator[Engine]:
    """One claim engine (clock at :data:`START`) for a whole module, to keep the suite fast:
    only for tests that touch nothing but the cases they create (no clock moves, no tick,
    no inbox or responsibilities lists)."""
    eng = Engine("sqlite:///:memory:", clock=ManualClock(START))
    eng.deploy(CLAIM_API)
    yield eng
    eng.close()


def deploy_yaml(
    engine: Engine, tmp_path: Path, text: str, name: str = "proc.yaml"
) -> ProcessDefinition:
    """Write ``text`` to ``tmp_path / name`` and deploy it."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return engine.deploy(path)


@dataclass(frozen=True)
class State:
    """Everything the façade shows of one case."""

    case: Case
    actions: list[Action]
    timeline: list[TimelineEvent]


def state_of(engine: Engine, ref: str) -> State:
    return State(engine.case(ref), engine.actions(ref), engine.timeline(ref, include_related=True))


def assert_refused(
    engine: Engine,
    ref: str,
    error: type[EngineError],
    command: str,
    call: Callable[[], object],
) -> EngineError:
    """``call`` raises ``error`` naming the case, its status and ``command``; nothing changed."""
    before = state_of(engine, ref)
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert ref in message, message
    assert before.case.status.value in message, message
    assert command in message, message
    assert state_of(engine, ref) == before
    return info.value


def claim_in_progress(engine: Engine, *, amount: int = 5000, by: str = "bob") -> Case:
    """A claim submitted by ann at the current time, then started by ``by``."""
    case = engine.create_case("claim", by="ann", data={"amount": amount}, submit=True)
    return engine.start_work(case.ref, by=by)


def open_action(engine: Engine, ref: str, action_type: str) -> Action:
    """The single open (To Do / In Progress / Waiting) action of ``action_type``."""
    found = [
        a
        for a in engine.actions(ref)
        if a.action_type == action_type and a.status.value in ("To Do", "In Progress", "Waiting")
    ]
    assert len(found) == 1, found
    return found[0]
