"""Hand-built simulation logs for the output tests (KPIs, event logs, report).

:class:`LogBuilder` appends rows to a :class:`~engine.simulation.results.ReplicationLog` the
way the kernel does, with times given in hours after :data:`T0` so that expected KPIs can be
worked out by hand. :func:`sample_log` is the small log most tests share (its KPIs are
worked out in tests/test_kpis.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from engine.simulation.results import HOLD_INDEX, ReplicationLog

#: Monday 2024-01-01 09:00 UTC as epoch seconds.
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC).timestamp()
NAN = math.nan


def h(hours: float) -> float:
    """Epoch seconds ``hours`` after :data:`T0` (nan stays nan)."""
    return T0 + hours * 3600.0


class LogBuilder:
    """Builds a ReplicationLog row by row; all times in hours after T0."""

    def __init__(self, *, start: float = 0.0, end: float = 48.0, replication: int = 1) -> None:
        self.log = ReplicationLog(
            replication=replication, seed=replication, start=h(start), end=h(end)
        )

    def _lookup(self, names: list[str], name: str) -> int:
        if name not in names:
            names.append(name)
        return names.index(name)

    def process(self, name: str) -> int:
        """Register a process (so it appears even without cases)."""
        return self._lookup(self.log.processes, name)

    def case(
        self,
        process: str = "claim",
        *,
        arrival: float,
        end: float = NAN,
        due: float = NAN,
        parent: int = -1,
        hold: dict[str, float] | None = None,
        sla_paused: float = 0.0,
        reworks: int = 0,
        subcase_wait: float = 0.0,
    ) -> int:
        """Append a case; ``hold`` maps a kind to hours spent Waiting in it. Its number."""
        cases = self.log.cases
        cases.process.append(self.process(process))
        cases.parent.append(parent)
        cases.arrival.append(h(arrival))
        cases.end.append(h(end))
        cases.due.append(h(due))
        columns = [0.0, 0.0, 0.0]
        for kind, hours in (hold or {}).items():
            columns[HOLD_INDEX[kind]] = hours * 3600.0
        cases.hold.extend(columns)
        cases.sla_paused.append(sla_paused * 3600.0)
        cases.reworks.append(reworks)
        cases.subcase_wait.append(subcase_wait * 3600.0)
        return len(cases) - 1

    def act(
        self,
        case: int,
        activity: str,
        *,
        enable: float,
        start: float,
        end: float,
        resource: str = "clerk_1",
        processing: float | None = None,
        outcome: int = 0,
    ) -> None:
        """Append an action row; ``processing`` defaults to end - start (hours)."""
        acts = self.log.acts
        acts.case.append(case)
        acts.activity.append(self._lookup(self.log.activities, activity))
        acts.enable.append(h(enable))
        acts.start.append(h(start))
        acts.end.append(h(end))
        acts.resource.append(self.resource_index(resource))
        work = (end - start) if processing is None else processing
        acts.processing.append(work * 3600.0 if not math.isnan(work) else NAN)
        acts.outcome.append(outcome)

    def resource_index(self, name: str, pool: str | None = None) -> int:
        """Index of resource ``name``, added (pool = name without ``_N``) when new."""
        res = self.log.resources
        if name not in res.name:
            res.name.append(name)
            res.pool.append(pool or name.rsplit("_", 1)[0])
            res.busy.append(0.0)
            res.available.append(0.0)
        return res.name.index(name)

    def resource(self, name: str, pool: str, *, busy: float, available: float) -> None:
        """Set a resource's busy and available working hours."""
        index = self.resource_index(name, pool)
        self.log.resources.pool[index] = pool
        self.log.resources.busy[index] = busy * 3600.0
        self.log.resources.available[index] = available * 3600.0

    def wip(self, *points: tuple[float, int]) -> None:
        """Append WIP change points (hours, open top-level cases)."""
        for time, value in points:
            self.log.wip_time.append(h(time))
            self.log.wip_value.append(value)


def sample_log(replication: int = 1) -> ReplicationLog:
    """Four top-level claims and one sub-case over two days (see tests/test_kpis.py)."""
    b = LogBuilder(start=0.0, end=48.0, replication=replication)
    c0 = b.case(arrival=0, end=10, due=12, hold={"more_info": 2}, sla_paused=1, reworks=1)
    c1 = b.case(arrival=2, end=6, due=5)
    c2 = b.case(arrival=4, end=24, hold={"until": 5}, reworks=2)
    c3 = b.case(arrival=5)
    c4 = b.case("check", arrival=3, end=5, parent=c0)
    b.act(c0, "Register", enable=0, start=1, end=3, processing=2)
    b.act(c4, "Inspect", enable=3, start=3, end=5, resource="clerk_2")
    b.act(c0, "Decide", enable=3, start=3, end=8, processing=2)
    b.act(c1, "Register", enable=2, start=2, end=4)
    b.act(c2, "Register", enable=4, start=6, end=7, resource="robot_1", outcome=1)
    b.act(c2, "Register", enable=7, start=8, end=10)
    b.act(c3, "Register", enable=5, start=5, end=5, resource="robot_1", outcome=2)
    b.resource("clerk_1", "clerks", busy=10, available=16)
    b.resource("clerk_2", "clerks", busy=2, available=16)
    b.resource("robot_1", "robots", busy=1, available=48)
    b.wip((0, 1), (2, 2), (4, 3), (5, 4), (6, 3), (10, 2), (24, 1))
    return b.log
