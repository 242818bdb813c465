"""One scenario document (the base or a merged variant), checked and built into a
:class:`~.scenario_model.Scenario`.

:class:`ScenarioReader` runs the checks in order: ``start``, ``cases`` or ``horizon``, the
definition files, the scenario's calendars, the processes' parameters
(:class:`~.scenario_params.ParamsChecks`), arrivals and resource pools and their coverage of
the flow (:class:`~.scenario_resources.ResourceChecks`). Each check looks only at well-typed
parts (the schema reports the rest); the scenario is built only when no problem was found.
The problem codes are listed in :mod:`engine.simulation.scenario`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from engine.builder.yaml_definition import calendar_from_yaml, check_calendar
from engine.builder.yaml_source import YamlDocument, YamlPath
from engine.durations import DurationError
from engine.errors import Problem
from engine.model import CalendarDef
from engine.simulation.distributions import parse_seconds
from engine.simulation.scenario_definitions import Definitions, ScenarioProcess
from engine.simulation.scenario_model import Arrivals, ResourcePool, Scenario
from engine.simulation.scenario_params import ParamsChecks
from engine.simulation.scenario_resources import ResourceChecks
from engine.simulation.scenario_schema import is_calendar
from engine.simulation.scenario_scope import as_mapping, list_items

__all__ = ["ScenarioReader"]


class ScenarioReader(ParamsChecks, ResourceChecks):
    """Checks one scenario document (the base or a merged variant) and builds its scenario.

    Each check looks only at well-typed parts (the schema reports the rest); the scenario
    is built only when no problem was found.
    """

    def __init__(self, doc: YamlDocument, definitions: Definitions, variant: str) -> None:
        super().__init__(doc, definitions)
        self.variant = variant
        self.start_at: datetime | None = None
        self.cases: int | None = None
        self.horizon: float | None = None
        self.arrival_spec: Arrivals | None = None
        self.pools: list[ResourcePool] = []

    def read(self) -> list[Problem]:
        """Run every check; the problems found (the schema's are not among them)."""
        self.start_at = self.start()
        self.cases, self.horizon = self.bounds()
        self.load_definitions()
        self.scenario_calendars()
        self.process_params()
        self.arrival_spec = self.arrivals()
        self.pools = self.resources()
        self.coverage()
        self.process_calendars()
        return self.problems

    def build(self) -> Scenario:
        """The scenario; only for a document with no problem at all (schema included)."""
        assert self.start_at is not None and self.arrival_spec is not None
        params = {pid: p.params for pid, p in self.processes.items() if p.params is not None}
        sims = {pid: p.sim for pid, p in self.processes.items() if p.sim is not None}
        return Scenario(
            name=str(self.data["name"]),
            processes=sims,
            params=params,
            arrivals=self.arrival_spec,
            resources=tuple(self.pools),
            calendars=dict(self.used_calendars),
            start=self.start_at,
            cases=self.cases,
            horizon=self.horizon,
            seed=int(self.data.get("seed", 0)),
            replications=int(self.data.get("replications", 1)),
            file=self.doc.file,
            variant=self.variant,
        )

    # -- run bounds ----------------------------------------------------------------------
    def start(self) -> datetime | None:
        """``start``, in UTC."""
        value = self.data.get("start")
        moment: datetime | None = None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            self.add(
                f"start needs a time of day and a time zone, e.g. {value.isoformat()}T09:00:00Z",
                ("start",),
                "M001",
            )
            return None
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                self.add(
                    f"{value!r} is not a date and time; write e.g. 2026-03-02T09:00:00Z",
                    ("start",),
                    "M001",
                )
                return None
        if moment is None:
            return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.add(
                "start needs a time zone, e.g. 2026-03-02T09:00:00Z or 2026-03-02T09:00:00+01:00",
                ("start",),
                "M001",
            )
            return None
        return moment.astimezone(UTC)

    def bounds(self) -> tuple[int | None, float | None]:
        """``cases`` or ``horizon`` (seconds): exactly one of the two."""
        cases = self.data.get("cases")
        horizon = self.data.get("horizon")
        if "cases" in self.data and "horizon" in self.data:
            self.add(
                "give either 'cases' or 'horizon', not both", ("horizon",), "M002", at_key=True
            )
            return None, None
        if "cases" not in self.data and "horizon" not in self.data:
            self.add(
                "give 'cases' (how many cases arrive) or 'horizon' (how long to run, e.g. 30d)",
                (),
                "M002",
            )
            return None, None
        if horizon is None or isinstance(horizon, (list, dict)):
            count = cases if isinstance(cases, (int, float)) and not isinstance(cases, bool) else 0
            return int(count), None
        try:
            seconds = parse_seconds(horizon)
        except DurationError as err:
            self.add(str(err), ("horizon",), "M002")
            return None, None
        if seconds <= 0:
            self.add("the horizon must be longer than 0", ("horizon",), "M002")
            return None, None
        return None, seconds

    # -- definitions ---------------------------------------------------------------------
    def load_definitions(self) -> None:
        """The definition files, into ``processes`` (``complete`` when all loaded)."""
        files = [
            (i, self.definitions.path(name))
            for i, name in list_items(self.data.get("definitions"))
            if isinstance(name, str) and name
        ]
        known = frozenset(pid for _, path in files for pid in self.definitions.ids(path))
        first: dict[str, int] = {}
        for i, path in files:
            where: YamlPath = ("definitions", i)
            if not path.is_file():
                self.add(f"no such definition file: {path}", where, "M003")
                self.complete = False
                continue
            loaded = self.definitions.load(path, known)
            if loaded.definition is None:
                n = len(loaded.problems)
                self.add(
                    f"definition {str(path)!r} is invalid ({n} problem{'s' if n != 1 else ''}, "
                    "listed with its file)",
                    where,
                    "M003",
                )
                self.problems.extend(loaded.problems)
                self.complete = False
                continue
            pid = loaded.definition.id
            if pid in first:
                self.add(
                    f"process {pid!r} is already defined by definitions[{first[pid]}]",
                    where,
                    "M003",
                )
                continue
            first[pid] = i
            self.processes[pid] = ScenarioProcess(loaded.definition, i)

    # -- calendars -----------------------------------------------------------------------
    def scenario_calendars(self) -> None:
        """The scenario's own calendars, checked like a definition's."""
        for name, body in as_mapping(self.data.get("calendars")).items():
            if not isinstance(body, dict) or not is_calendar(body):
                self.calendars[name] = None  # reported by the schema
                continue
            found = check_calendar(self.doc, ("calendars", name), body)
            self.problems.extend(found)
            self.calendars[name] = _calendar_or_none(name, body, bool(found))

    def process_calendars(self) -> None:
        """Every process's own calendars and case calendar go into the scenario too."""
        for proc in self.processes.values():
            model = proc.sim.model if proc.sim is not None and proc.sim.model else proc.model
            for cal in model.calendars:
                if cal.name not in self.used_calendars:
                    self.calendar(cal.name, ("definitions", proc.index))
            if model.settings.calendar:
                self.calendar(model.settings.calendar, ("definitions", proc.index))
        for name, own in self.calendars.items():
            if own is not None:
                self.used_calendars.setdefault(name, own)


def _calendar_or_none(name: str, body: dict[str, Any], has_problems: bool) -> CalendarDef | None:
    """The calendar, also when it has problems (already reported) but can still be built,
    so that a pool using a calendar with no working hours says so too."""
    if not has_problems:
        return calendar_from_yaml(name, body)
    try:
        return calendar_from_yaml(name, body)
    except ValueError:  # a working-hours range that cannot be read: reported by the checker
        return None
