"""Scenario files (``*.scenario.yaml``) -> validated :class:`~.scenario_model.Scenario` objects.

:func:`load_scenario` and :func:`load_variants` read a scenario safely
(:mod:`engine.builder.yaml_source`, which keeps the line and column of every value), validate
it against ``schemas/scenario.schema.json``, load the process definitions it names
(:func:`engine.builder.loader.load_file`) and check what a schema cannot: unknown processes,
actions, gateways, flows and calendars, distribution parameters, rework targets (RW4, RW5),
sub-case permissions (SC5), actions nobody does or with no duration, robots that may fail
with nobody to take over, pools with no working hours... Every problem of the file, of its
definitions and of every variant is collected with its location, then raised once as a
:class:`ScenarioError`; nothing runs before a scenario passes. The format is described in
``docs/scenario-format.md``.

What-if variants (``variants:``) are merged onto the base document (mappings merge key by
key; lists and values replace; a distribution, a data generator or a gateway's branch
probabilities given in a variant replace the base one whole) and checked like the base; a
problem in a variant points at the line that caused it.

Problem codes of the checks here (schema problems are ``S0xx``, YAML ones ``Y0xx``,
distribution parameters ``D001``):

======  ===========================================================================
M001    ``start`` that cannot be read or has no time zone
M002    ``cases`` and ``horizon``: neither or both given, or a bad horizon
M003    a definition file that is missing or invalid, or a process defined twice
M004    an unknown process (arrivals, processes, sub-cases)
M005    an unknown action (durations, holds, rework, sub-cases, robots, resources)
M006    an ambiguous or repeated action in a resource pool
M007    an unknown calendar, or one defined differently by two processes
M008    a resource pool or arrivals calendar with no working hours
M009    branch probabilities: unknown gateway or flow, or not adding up to 1
M010    a rework target that is not allowed (RW4, RW5)
M011    a sub-case the parent may not start (SC5)
M012    an action of the flow with no duration
M013    an action of the flow that no resource pool does
M014    a robot action that may fail or be refused with no person pool to take over
M015    a data generator that is not exactly one of dist, choice, probability, value
M016    variants: a name used twice or ``base``, or an unknown variant asked for
M017    a case setting override that cannot be read
M018    an unknown hold kind
======  ===========================================================================
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

import engine
from engine.builder.bpmn_xml import parse_xml
from engine.builder.loader import load_file, read_source
from engine.builder.namespaces import BPMN_NS
from engine.builder.schema import _plain, _problems
from engine.builder.yaml_definition import _calendar, _Checker
from engine.builder.yaml_source import YamlDocument, YamlPath, load_yaml
from engine.durations import DurationError, parse_due, parse_wall_duration
from engine.errors import DefinitionError, Problem
from engine.model import ActionDef, CalendarDef, ProcessDefinition, ProcessModel
from engine.simulation.compile import sim_process
from engine.simulation.distributions import (
    Distribution,
    parse_distribution,
    parse_seconds,
)
from engine.simulation.graph import NodeKind
from engine.simulation.scenario_model import (
    ARRIVAL_GAPS,
    HOLD_KINDS,
    Arrivals,
    DataGenerator,
    HoldSpec,
    ProcessParams,
    ResourcePool,
    ReworkSpec,
    RobotBehaviour,
    Scenario,
    SimProcess,
    SubcaseSpawn,
)

__all__ = [
    "BASE",
    "SCHEMA_PATH",
    "ScenarioError",
    "load_scenario",
    "load_variants",
    "scenario_schema",
    "scenarios_from_document",
    "scenarios_from_source",
]

SCHEMA_PATH = Path(engine.__file__).resolve().parents[1] / "schemas" / "scenario.schema.json"
"""Where the scenario schema is read from."""

BASE = "base"
"""The variant name of the base scenario (a variant may not take it)."""

BRANCH_TOLERANCE = 1e-9
"""How far from 1 the branch probabilities of a gateway may add up."""

_GENERATOR_KEYS = ("dist", "choice", "probability", "value")
# Positions of the merged document where a variant's mapping replaces the base one whole
# ("*" matches any key): distributions, data generators, a gateway's branch probabilities.
_REPLACED: tuple[tuple[str, ...], ...] = (
    ("arrivals", "interarrival"),
    ("processes", "*", "durations", "*"),
    ("processes", "*", "data", "*"),
    ("processes", "*", "branches", "*"),
)


class ScenarioError(DefinitionError):
    """A scenario that cannot run; lists every problem at once (scenario and definitions)."""

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in scenario"
        files = sorted({p.file for p in self.problems if p.file})
        if files:
            head += " " + ", ".join(files)
        return head + ":\n" + "\n".join(f"  {p}" for p in self.problems)


# -- public API ------------------------------------------------------------------------------


def load_scenario(path: str | Path, *, variant: str | None = None) -> Scenario:
    """The scenario of file ``path``: the base one, or the variant named ``variant``.

    The whole file is checked (base and every variant) before anything is returned; raises
    one :class:`ScenarioError` listing every problem.
    """
    doc, scenarios = _load(path)
    if variant is None or variant == BASE:
        return scenarios[0]
    for scenario in scenarios[1:]:
        if scenario.variant == variant:
            return scenario
    names = ", ".join(repr(s.variant) for s in scenarios)
    where: YamlPath = ("variants",) if len(scenarios) > 1 else ()
    raise ScenarioError(
        doc.problem(f"no variant named {variant!r} (this file has: {names})", where, code="M016")
    )


def load_variants(path: str | Path) -> list[Scenario]:
    """Every scenario of file ``path``: the base first, then each variant in file order."""
    return _load(path)[1]


def scenarios_from_source(
    data: bytes | str, file: str, *, base_dir: str | Path | None = None
) -> list[Scenario]:
    """:func:`load_variants` for a scenario given as text; definitions are looked up
    relative to ``base_dir`` (default: the directory of ``file``)."""
    directory = Path(base_dir) if base_dir is not None else Path(file).parent
    return scenarios_from_document(_yaml(data, file), base_dir=directory)


def scenarios_from_document(doc: YamlDocument, *, base_dir: str | Path) -> list[Scenario]:
    """Check an already loaded scenario document and build its scenarios (base, variants)."""
    if doc.data is None:
        raise ScenarioError(
            doc.problem(
                "the file is empty: expected a scenario (name, definitions, start, arrivals, "
                "resources ...)",
                (),
                code="S003",
            )
        )
    definitions = _Definitions(Path(base_dir))
    base = _Reader(doc, definitions, BASE)
    found = _without_repeats(_schema_problems(doc), base.read())
    readers = [base]
    seen_names: dict[str, int] = {}
    for index, patch in _variants(doc.data):
        name = patch["name"]
        path: YamlPath = ("variants", index, "name")
        if name == BASE:
            found.append(doc.problem(f"a variant may not be called {BASE!r}", path, code="M016"))
            continue
        if name in seen_names:
            found.append(
                doc.problem(
                    f"duplicate variant name {name!r} (first at variants[{seen_names[name]}])",
                    path,
                    code="M016",
                )
            )
            continue
        seen_names[name] = index
        merged = _merge_variant(doc, index, patch)
        reader = _Reader(merged, definitions, name)
        own = _without_repeats(_schema_problems(merged), reader.read())
        known = set(found)
        found.extend(_in_variant(p, name, doc.file) for p in own if p not in known)
        readers.append(reader)
    errors = _sorted(p for p in found if p.severity == "error")
    if errors:
        raise ScenarioError(errors)
    return [reader.build() for reader in readers]


@cache
def scenario_schema() -> dict[str, Any]:
    """The scenario schema (read once)."""
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


# -- loading ---------------------------------------------------------------------------------


def _load(path: str | Path) -> tuple[YamlDocument, list[Scenario]]:
    file = str(path)
    if not Path(path).is_file():
        raise ScenarioError(Problem("no such scenario file", file=file))
    doc = _yaml(Path(path).read_bytes(), file)
    return doc, scenarios_from_document(doc, base_dir=Path(path).parent)


def _yaml(data: bytes | str, file: str) -> YamlDocument:
    try:
        return load_yaml(data, file)
    except DefinitionError as err:
        raise ScenarioError(err.problems) from None


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(scenario_schema())


@cache
def _calendar_validator() -> Draft202012Validator:
    return Draft202012Validator({"$ref": "#/$defs/calendar", "$defs": scenario_schema()["$defs"]})


def _schema_problems(doc: YamlDocument) -> list[Problem]:
    """Schema problems of ``doc``, located and worded like a definition's."""
    return [
        p for error in _validator().iter_errors(_plain(doc.data)) for p in _problems(doc, error)
    ]


def _without_repeats(schema_found: list[Problem], checks: list[Problem]) -> list[Problem]:
    """Schema problems, then the checks' problems that are not at a place the schema
    already reported (one problem per place), without duplicates."""
    places = {(p.file, p.path) for p in schema_found}
    out: list[Problem] = []
    for problem in (*schema_found, *(p for p in checks if (p.file, p.path) not in places)):
        if problem not in out:
            out.append(problem)
    return out


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line or 0, p.column or 0, p.path, p.message))


def _in_variant(problem: Problem, name: str, file: str) -> Problem:
    """``problem`` found only when checking variant ``name``, saying so."""
    if problem.file != file:
        return problem
    return dataclasses.replace(problem, message=f"variant {name!r}: {problem.message}")


# -- variants --------------------------------------------------------------------------------


def _variants(data: Any) -> list[tuple[int, dict[str, Any]]]:
    """The well-formed variants of the document (others are schema problems)."""
    if not isinstance(data, dict) or not isinstance(data.get("variants"), list):
        return []
    return [
        (i, item)
        for i, item in enumerate(data["variants"])
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    ]


@dataclass(frozen=True)
class _VariantDocument(YamlDocument):
    """A base document with a variant merged in: its problems are located in ``source``,
    at the base's or the variant's lines depending on where each value came from."""

    source: YamlDocument | None = None
    overrides: dict[YamlPath, YamlPath] = field(default_factory=dict, repr=False)

    def origin(self, path: YamlPath) -> YamlPath:
        """Where the value at ``path`` of the merged document is written in the file."""
        for end in range(len(path), 0, -1):
            found = self.overrides.get(path[:end])
            if found is not None:
                return found + path[end:]
        return path

    def problem(
        self,
        message: str,
        path: YamlPath,
        *,
        code: str = "",
        severity: str = "error",
        at_key: bool = False,
        offset: int | None = None,
    ) -> Problem:
        assert self.source is not None
        return self.source.problem(
            message,
            self.origin(path),
            code=code,
            severity=severity,
            at_key=at_key,
            offset=offset,
        )


def _merge_variant(doc: YamlDocument, index: int, patch: dict[str, Any]) -> _VariantDocument:
    base = {key: value for key, value in doc.data.items() if key != "variants"}
    overrides: dict[YamlPath, YamlPath] = {}
    body = {key: value for key, value in patch.items() if key != "name"}
    merged = _merge(base, body, (), ("variants", index), overrides)
    return _VariantDocument(data=merged, file=doc.file, source=doc, overrides=overrides)


def _merge(
    base: Any, patch: Any, here: YamlPath, source: YamlPath, overrides: dict[YamlPath, YamlPath]
) -> Any:
    """``patch`` merged onto ``base``; records where each replaced value came from."""
    if not (isinstance(base, dict) and isinstance(patch, dict)) or _replaced(here):
        overrides[here] = source
        return patch
    out = dict(base)
    for key, value in patch.items():
        if key in out:
            out[key] = _merge(out[key], value, here + (key,), source + (key,), overrides)
        else:
            out[key] = value
            overrides[here + (key,)] = source + (key,)
    return out


def _replaced(path: YamlPath) -> bool:
    return any(
        len(pattern) == len(path)
        and all(want in ("*", part) for want, part in zip(pattern, path, strict=True))
        for pattern in _REPLACED
    )


# -- definitions -----------------------------------------------------------------------------


@dataclass
class _Loaded:
    definition: ProcessDefinition | None
    problems: tuple[Problem, ...] = ()


class _Definitions:
    """Definition files of a scenario, loaded once for the base and every variant."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self._ids: dict[Path, tuple[str, ...]] = {}
        self._loaded: dict[tuple[Path, frozenset[str]], _Loaded] = {}
        self._sims: dict[tuple[int, tuple[tuple[str, Any], ...]], SimProcess] = {}

    def path(self, name: str) -> Path:
        return Path(os.path.normpath(self.base_dir / name))

    def ids(self, path: Path) -> tuple[str, ...]:
        """Process ids a definition file declares, read cheaply (for sub-case checks);
        nothing when it cannot be read (loading it reports why)."""
        if path not in self._ids:
            self._ids[path] = _peek_ids(path)
        return self._ids[path]

    def load(self, path: Path, known: frozenset[str]) -> _Loaded:
        key = (path, known)
        if key not in self._loaded:
            try:
                result = load_file(path, known_processes=known)
            except DefinitionError as err:
                self._loaded[key] = _Loaded(None, err.problems)
            else:
                self._loaded[key] = _Loaded(result.definition)
        return self._loaded[key]

    def sim(self, definition: ProcessDefinition, settings: Mapping[str, Any]) -> SimProcess:
        key = (id(definition), tuple(sorted(settings.items())))
        if key not in self._sims:
            self._sims[key] = sim_process(definition, settings)
        return self._sims[key]


def _peek_ids(path: Path) -> tuple[str, ...]:
    if not path.is_file():
        return ()
    try:
        data = read_source(path)
        if path.suffix.lower() in (".yaml", ".yml"):
            found = load_yaml(data, str(path)).data
            pid = found.get("id") if isinstance(found, dict) else None
            return (pid,) if isinstance(pid, str) else ()
        root = parse_xml(data, str(path))
    except DefinitionError:
        return ()
    return tuple(el.get("id") or "" for el in root if el.tag == f"{{{BPMN_NS}}}process")


@dataclass
class _Process:
    """A process of the scenario while it is being checked."""

    definition: ProcessDefinition
    index: int
    sim: SimProcess | None = None
    params: ProcessParams | None = None

    @property
    def model(self) -> ProcessModel:
        return self.definition.model

    def flow_actions(self) -> list[ActionDef]:
        """Actions the flow runs with a resource (not out of the flow, not sub-case steps)."""
        return [a for a in self.model.all_actions() if a.flow and a.subcase is None]


# -- checks ----------------------------------------------------------------------------------


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _probability(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and 0 <= number <= 1 else None


def _names(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values) or "none"


class _Reader:
    """Checks one scenario document (the base or a merged variant) and builds its scenario.

    Each check looks only at well-typed parts (the schema reports the rest); the scenario
    is built only when no problem was found.
    """

    def __init__(self, doc: YamlDocument, definitions: _Definitions, variant: str) -> None:
        self.doc = doc
        self.data = _mapping(doc.data)
        self.definitions = definitions
        self.variant = variant
        self.problems: list[Problem] = []
        self.start_at: datetime | None = None
        self.cases: int | None = None
        self.horizon: float | None = None
        self.arrival_spec: Arrivals | None = None
        self.pools: list[ResourcePool] = []
        self.processes: dict[str, _Process] = {}
        self.complete = True  # every definition loaded: "unknown ..." checks are reliable
        self.calendars: dict[str, CalendarDef | None] = {}  # scenario's; None = invalid
        self.used_calendars: dict[str, CalendarDef] = {}

    def add(self, message: str, path: YamlPath, code: str, *, at_key: bool = False) -> None:
        self.problems.append(self.doc.problem(message, path, code=code, at_key=at_key))

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
        files = [
            (i, self.definitions.path(name))
            for i, name in _items(self.data.get("definitions"))
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
            self.processes[pid] = _Process(loaded.definition, i)

    def process(self, pid: Any, path: YamlPath, *, at_key: bool = False) -> _Process | None:
        """The scenario process ``pid``; a problem when it is not one (and all loaded)."""
        if not isinstance(pid, str):
            return None
        found = self.processes.get(pid)
        if found is None and self.complete:
            self.add(
                f"unknown process {pid!r}{_suggest(pid, self.processes)} "
                f"(processes of the scenario: {_names(self.processes)})",
                path,
                "M004",
                at_key=at_key,
            )
        return found

    def action(
        self, proc: _Process, action_id: Any, path: YamlPath, *, at_key: bool = False
    ) -> ActionDef | None:
        """Action ``action_id`` of ``proc``; a problem when it has none."""
        if not isinstance(action_id, str):
            return None
        found = proc.model.action(action_id)
        if found is None:
            ids = [a.id for a in proc.model.all_actions()]
            self.add(
                f"unknown action {action_id!r} of process {proc.model.id!r}"
                f"{_suggest(action_id, ids)} (its actions: {_names(ids)})",
                path,
                "M005",
                at_key=at_key,
            )
        return found

    # -- calendars -----------------------------------------------------------------------
    def scenario_calendars(self) -> None:
        checker = _Checker(self.doc, None)
        for name, body in _mapping(self.data.get("calendars")).items():
            if not isinstance(body, dict) or not _calendar_validator().is_valid(_plain(body)):
                self.calendars[name] = None  # reported by the schema
                continue
            before = len(checker.problems)
            checker.calendar(("calendars", name), body)
            self.calendars[name] = _calendar_or_none(name, body, len(checker.problems) > before)
        self.problems.extend(checker.problems)

    def calendar(self, name: Any, path: YamlPath, *, what: str = "") -> CalendarDef | None:
        """Calendar ``name`` (scenario's, else the processes'), recorded as used; problems
        for an unknown, ambiguous or (with ``what``) non-working calendar."""
        if not isinstance(name, str):
            return None
        if name in self.calendars:
            found = self.calendars[name]
        else:
            candidates = {
                cal
                for proc in self.processes.values()
                if (cal := proc.model.calendar(name)) is not None
            }
            if len(candidates) > 1:
                self.add(
                    f"calendar {name!r} is defined differently by several processes: "
                    "define it under 'calendars' of the scenario",
                    path,
                    "M007",
                )
                return None
            found = next(iter(candidates), None)
            if found is None:
                if self.complete:
                    names = sorted({*self.calendars, *self._process_calendar_names()})
                    self.add(
                        f"unknown calendar {name!r}{_suggest(name, names)} "
                        f"(calendars: {_names(names)})",
                        path,
                        "M007",
                    )
                return None
        if found is None:
            return None  # invalid scenario calendar: reported where it is defined
        if what and not found.periods:
            self.add(f"{what} has no working hours in calendar {name!r}", path, "M008")
        self.used_calendars[name] = found
        return found

    def _process_calendar_names(self) -> set[str]:
        names = {"office"}
        for proc in self.processes.values():
            names.update(cal.name for cal in proc.model.calendars)
        return names

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

    # -- processes -----------------------------------------------------------------------
    def process_params(self) -> None:
        section = _mapping(self.data.get("processes"))
        for pid in section:
            self.process(pid, ("processes", pid), at_key=True)
        for pid, proc in self.processes.items():
            body = _mapping(section.get(pid))
            path: YamlPath = ("processes", pid)
            settings = self.settings(proc, path + ("settings",), body.get("settings"))
            if settings is not None:
                try:
                    proc.sim = self.with_calendars(self.definitions.sim(proc.definition, settings))
                except DefinitionError as err:
                    n = len(err.problems)
                    self.add(
                        f"the simulator cannot run process {pid!r} "
                        f"({n} problem{'s' if n != 1 else ''}, listed with its file)",
                        ("definitions", proc.index),
                        "M003",
                    )
                    self.problems.extend(err.problems)
            robots = self.robots(proc, path + ("robots",), body.get("robots"))
            proc.params = ProcessParams(
                process=pid,
                durations=self.durations(proc, path + ("durations",), body.get("durations")),
                data=self.data_generators(path + ("data",), body.get("data")),
                branches=self.branches(proc, path + ("branches",), body.get("branches")),
                holds=self.holds(proc, path + ("holds",), body.get("holds")),
                rework=self.rework(proc, path + ("rework",), body.get("rework")),
                subcases=self.subcases(proc, path + ("subcases",), body.get("subcases")),
                robots={k: v for k, v in robots.items() if k != "default"},
                robot_default=robots.get("default", RobotBehaviour()),
                settings=dict(settings or {}),
            )

    def with_calendars(self, sim: SimProcess) -> SimProcess:
        """``sim`` whose model also holds the scenario's calendars, replacing its own of the
        same name, so that case calendars and due dates resolve them like pools do."""
        own = [cal for cal in self.calendars.values() if cal is not None]
        if sim.model is None or not own:
            return sim
        names = {cal.name for cal in own}
        kept = tuple(cal for cal in sim.model.calendars if cal.name not in names)
        model = dataclasses.replace(sim.model, calendars=kept + tuple(own))
        return dataclasses.replace(sim, model=model)

    def settings(self, proc: _Process, path: YamlPath, value: Any) -> dict[str, Any] | None:
        """The case setting overrides (None when one cannot be read)."""
        out: dict[str, Any] = {}
        ok = True
        for key, item in _mapping(value).items():
            where = path + (key,)
            if key == "add_wait_time_to_due_date" and isinstance(item, bool):
                out[key] = item
            elif key in ("due", "feedback_window") and isinstance(item, str):
                try:
                    if key == "feedback_window":
                        parse_wall_duration(item)
                    out[key] = parse_due(item)
                except DurationError as err:
                    self.add(str(err), where, "M017")
                    ok = False
            elif key == "calendar" and isinstance(item, str):
                if self.calendar(item, where) is None:
                    ok = False
                out[key] = item
            else:
                ok = False  # wrong type or unknown key: reported by the schema
        return out if ok else None

    def durations(self, proc: _Process, path: YamlPath, value: Any) -> dict[str, Distribution]:
        out: dict[str, Distribution] = {}
        for key, item in _mapping(value).items():
            self.action(proc, key, path + (key,), at_key=True)
            dist = parse_distribution(item, path + (key,), self.doc, self.problems, time=True)
            if dist is not None:
                out[key] = dist
        return out

    def data_generators(self, path: YamlPath, value: Any) -> tuple[DataGenerator, ...]:
        out = []
        for name, item in _mapping(value).items():
            generator = self.data_generator(name, path + (name,), item)
            if generator is not None:
                out.append(generator)
        return tuple(out)

    def data_generator(self, name: str, path: YamlPath, value: Any) -> DataGenerator | None:
        if not isinstance(value, dict):
            if isinstance(value, list):
                return None  # reported by the schema
            return DataGenerator(name, value=value)
        given = [key for key in _GENERATOR_KEYS if key in value]
        if len(given) != 1:
            self.add(
                f"data field {name!r} needs exactly one of dist, choice, probability, value"
                + (f"; got {', '.join(given)}" if given else ""),
                path,
                "M015",
            )
            return None
        kind = given[0]
        if kind == "dist":
            dist = parse_distribution(
                value, path, self.doc, self.problems, time=False, ignore=("integer",)
            )
            integer = value.get("integer", False)
            if dist is None or not isinstance(integer, bool):
                return None
            return DataGenerator(name, distribution=dist, integer=integer)
        extra = [key for key in value if key != kind]
        for key in extra:
            self.add(f"{key!r} does not go with {kind!r}", path + (key,), "M015", at_key=True)
        if extra:
            return None
        if kind == "choice":
            return self.choice(name, path + ("choice",), value["choice"])
        if kind == "probability":
            probability = _probability(value["probability"])
            return None if probability is None else DataGenerator(name, probability=probability)
        return DataGenerator(name, value=value["value"])

    def choice(self, name: str, path: YamlPath, value: Any) -> DataGenerator | None:
        if not isinstance(value, dict):
            return None
        weights = [(key, _number(weight)) for key, weight in value.items()]
        if any(w is None or w < 0 for _, w in weights):
            return None  # reported by the schema
        choices = tuple((key, float(w or 0)) for key, w in weights)
        if choices and math.fsum(w for _, w in choices) <= 0:
            self.add("the weights of a choice must not all be 0", path, "M015")
            return None
        return DataGenerator(name, choices=choices)

    def branches(
        self, proc: _Process, path: YamlPath, value: Any
    ) -> dict[str, tuple[tuple[str, float], ...]]:
        out: dict[str, tuple[tuple[str, float], ...]] = {}
        if proc.sim is None:
            return out
        graph = proc.sim.graph
        gateways = [n.id for n in graph.nodes.values() if n.kind == NodeKind.XOR]
        for gateway, flows in _mapping(value).items():
            where = path + (gateway,)
            node = graph.nodes.get(gateway)
            if node is None or node.kind != NodeKind.XOR:
                choices = [g for g in gateways if len(graph.nodes[g].outgoing) > 1]
                self.add(
                    f"process {proc.model.id!r} has no exclusive gateway {gateway!r}"
                    f"{_suggest(gateway, gateways)} (its deciding gateways: {_names(choices)})",
                    where,
                    "M009",
                    at_key=True,
                )
                continue
            if not isinstance(flows, dict):
                continue
            outgoing = [flow.id for flow in node.outgoing]
            read: list[tuple[str, float]] = []
            for flow, probability in flows.items():
                if flow not in outgoing:
                    self.add(
                        f"gateway {gateway!r} has no outgoing flow {flow!r}"
                        f"{_suggest(flow, outgoing)} (its flows: {_names(outgoing)})",
                        where + (flow,),
                        "M009",
                        at_key=True,
                    )
                    continue
                number = _probability(probability)
                if number is not None:
                    read.append((flow, number))
            if len(read) != len(flows):
                continue
            total = math.fsum(p for _, p in read)
            if abs(total - 1) > BRANCH_TOLERANCE:
                self.add(
                    f"the probabilities of gateway {gateway!r} add up to {total:g}, not 1",
                    where,
                    "M009",
                )
                continue
            out[gateway] = tuple(read)
        return out

    def holds(self, proc: _Process, path: YamlPath, value: Any) -> tuple[HoldSpec, ...]:
        out = []
        for i, item in _items(value):
            hold = _mapping(item)
            where = path + (i,)
            kind = hold.get("kind")
            if isinstance(kind, str) and kind not in HOLD_KINDS:
                self.add(
                    f"unknown hold kind {kind!r} (kinds: {', '.join(HOLD_KINDS)})",
                    where + ("kind",),
                    "M018",
                )
            after_value = hold.get("after", [])
            after_items = (
                [((), after_value)]
                if isinstance(after_value, str)
                else [((j,), a) for j, a in _items(after_value)]
            )
            after = []
            for suffix, action_id in after_items:
                if self.action(proc, action_id, where + ("after",) + suffix) is not None:
                    after.append(action_id)
            duration = None
            if "duration" in hold:
                duration = parse_distribution(
                    hold["duration"], where + ("duration",), self.doc, self.problems, time=True
                )
            probability = _probability(hold.get("probability"))
            if duration is None or probability is None or kind not in HOLD_KINDS:
                continue
            out.append(HoldSpec(str(kind), probability, duration, tuple(after)))
        return tuple(out)

    def rework(self, proc: _Process, path: YamlPath, value: Any) -> tuple[ReworkSpec, ...]:
        out = []
        model = proc.model
        for i, item in _items(value):
            spec = _mapping(item)
            where = path + (i,)
            after = self.action(proc, spec.get("after"), where + ("after",))
            has_stage, has_action = "stage" in spec, "action" in spec
            if has_stage == has_action:
                self.add(
                    "give exactly one of 'stage' and 'action': where the rework goes back to",
                    where,
                    "M010",
                )
                continue
            after_stage = model.stage_of(after.id) if after is not None else None
            target_stage: int | None = None
            stage = spec.get("stage")
            action_id = spec.get("action")
            if has_stage and isinstance(stage, int) and not isinstance(stage, bool):
                if not 1 <= stage <= len(model.stages):
                    self.add(
                        f"process {model.id!r} has stages 1 to {len(model.stages)}; "
                        f"there is no stage {stage}",
                        where + ("stage",),
                        "M010",
                    )
                    continue
                target_stage = stage
            elif has_action:
                target = self.action(proc, action_id, where + ("action",))
                if target is None:
                    continue
                if not target.flow:
                    self.add(
                        f"action {target.id!r} is out of the flow (launched by hand only): "
                        "it cannot be a rework point (RW4)",
                        where + ("action",),
                        "M010",
                    )
                    continue
                target_stage = model.stage_of(target.id)
            if target_stage is None or after is None or after_stage is None:
                continue
            if target_stage >= after_stage:
                point = (
                    f"stage {target_stage}"
                    if has_stage
                    else f"action {action_id!r} (stage {target_stage})"
                )
                self.add(
                    f"rework after {after.id!r} (stage {after_stage}) can only go back to an "
                    f"earlier stage; {point} is not (RW5)",
                    where + (("stage",) if has_stage else ("action",)),
                    "M010",
                )
                continue
            probability = _probability(spec.get("probability"))
            if probability is None:
                continue
            out.append(
                ReworkSpec(
                    after.id,
                    probability,
                    stage=target_stage if has_stage else None,
                    action=str(action_id) if has_action else None,
                )
            )
        return tuple(out)

    def subcases(self, proc: _Process, path: YamlPath, value: Any) -> tuple[SubcaseSpawn, ...]:
        out = []
        for i, item in _items(value):
            spec = _mapping(item)
            where = path + (i,)
            after = self.action(proc, spec.get("after"), where + ("after",))
            child = self.process(spec.get("process"), where + ("process",))
            process = spec.get("process")
            if isinstance(process, str) and process not in proc.model.settings.subcases:
                self.add(
                    f"process {proc.model.id!r} may not start sub-cases of {process!r}: "
                    f"add it to 'subcases' of its definition (SC5)",
                    where + ("process",),
                    "M011",
                )
                continue
            probability = _probability(spec.get("probability"))
            if after is None or child is None or probability is None:
                continue
            out.append(SubcaseSpawn(after.id, child.model.id, probability))
        return tuple(out)

    def robots(self, proc: _Process, path: YamlPath, value: Any) -> dict[str, RobotBehaviour]:
        out: dict[str, RobotBehaviour] = {}
        for key, item in _mapping(value).items():
            if key != "default" and self.action(proc, key, path + (key,), at_key=True) is None:
                continue
            body = _mapping(item)
            failure = _probability(body.get("failure", 0))
            refusal = _probability(body.get("refusal", 0))
            if isinstance(item, dict) and failure is not None and refusal is not None:
                out[key] = RobotBehaviour(failure=failure, refusal=refusal)
        return out

    # -- arrivals and resources ----------------------------------------------------------
    def arrivals(self) -> Arrivals | None:
        body = self.data.get("arrivals")
        if not isinstance(body, dict):
            return None
        proc = self.process(body.get("process"), ("arrivals", "process"))
        interarrival = None
        if "interarrival" in body:
            interarrival = parse_distribution(
                body["interarrival"],
                ("arrivals", "interarrival"),
                self.doc,
                self.problems,
                time=True,
            )
            if interarrival is not None and interarrival.mean() <= 0:
                self.add(
                    "the mean time between arrivals must be longer than 0",
                    ("arrivals", "interarrival"),
                    "D001",
                )
        calendar = body.get("calendar")
        if isinstance(calendar, str):
            self.calendar(calendar, ("arrivals", "calendar"), what="arrivals")
        if proc is None or interarrival is None:
            return None
        gaps = body.get("gaps", "working")
        return Arrivals(
            proc.model.id,
            interarrival,
            calendar if isinstance(calendar, str) else None,
            gaps=gaps if gaps in ARRIVAL_GAPS else "working",
        )

    def resources(self) -> list[ResourcePool]:
        pools = []
        for name, body in _mapping(self.data.get("resources")).items():
            if not isinstance(body, dict):
                continue
            path: YamlPath = ("resources", name)
            actions = self.pool_actions(path + ("actions",), body.get("actions"))
            calendar = body.get("calendar")
            if isinstance(calendar, str):
                what = f"resource pool {name!r}"
                self.calendar(calendar, path + ("calendar",), what=what)
            count = body.get("count")
            robot = body.get("robot", False)
            cost = _number(body.get("cost_per_hour", 0))
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                continue
            if actions is None or not isinstance(robot, bool) or cost is None or cost < 0:
                continue
            pools.append(
                ResourcePool(
                    name=name,
                    count=count,
                    actions=actions,
                    calendar=calendar if isinstance(calendar, str) else None,
                    robot=robot,
                    cost_per_hour=cost,
                )
            )
        return pools

    def pool_actions(self, path: YamlPath, value: Any) -> tuple[str, ...] | None:
        if not isinstance(value, list):
            return None
        out: list[str] = []
        for i, item in enumerate(value):
            key = self.qualify(item, path + (i,))
            if key is None:
                continue
            if key in out:
                self.add(f"action {key!r} is listed twice", path + (i,), "M006")
                continue
            out.append(key)
        return tuple(out) if len(out) == len(value) else None

    def qualify(self, item: Any, path: YamlPath) -> str | None:
        """``process.action`` for a pool's action (bare ids qualified), or None."""
        if not isinstance(item, str):
            return None
        if "." in item:
            pid, action_id = item.split(".", 1)
            proc = self.process(pid, path)
            if proc is None or self.action(proc, action_id, path) is None:
                return None
            return item
        owners = [pid for pid, proc in self.processes.items() if proc.model.action(item)]
        if len(owners) == 1:
            return f"{owners[0]}.{item}"
        if len(owners) > 1:
            spelled = " or ".join(repr(f"{pid}.{item}") for pid in owners)
            self.add(
                f"action {item!r} is ambiguous: several processes have it; write {spelled}",
                path,
                "M006",
            )
        elif self.complete:
            every = [f"{pid}.{a.id}" for pid, p in self.processes.items() for a in p.flow_actions()]
            self.add(
                f"no process of the scenario has an action {item!r}"
                f"{_suggest(item, [k.split('.', 1)[1] for k in every])}",
                path,
                "M005",
            )
        return None

    # -- coverage ------------------------------------------------------------------------
    def coverage(self) -> None:
        """Every action of the flow has a duration and a pool; failing robots a person."""
        if not self.complete:
            return
        people: set[str] = set()
        robots: set[str] = set()
        for keys, robot in self._declared_pools():
            (robots if robot else people).update(keys)
        section = _mapping(self.data.get("processes"))
        for pid, proc in self.processes.items():
            params = proc.params
            if params is None:
                continue
            durations = _mapping(_mapping(section.get(pid)).get("durations"))
            for action in proc.flow_actions():
                key = f"{pid}.{action.id}"
                if action.id not in durations:
                    self.add(
                        f"action {action.id!r} of process {pid!r} has no duration: add it under "
                        f"processes.{pid}.durations",
                        ("processes", pid, "durations"),
                        "M012",
                        at_key=True,
                    )
                if key not in people and key not in robots:
                    self.add(
                        f"action {action.id!r} of process {pid!r} has no resource: add "
                        f"{key!r} to the actions of a pool under 'resources'",
                        ("resources",),
                        "M013",
                        at_key=True,
                    )
                elif key not in people:
                    behaviour = params.robots.get(action.id, params.robot_default)
                    if behaviour.failure > 0 or behaviour.refusal > 0:
                        where = action.id if action.id in params.robots else "default"
                        self.add(
                            f"robots may fail or refuse action {action.id!r} of process {pid!r} "
                            f"but no person pool does it: add {key!r} to a pool without "
                            "'robot: true'",
                            ("processes", pid, "robots", where),
                            "M014",
                        )

    def _declared_pools(self) -> Iterable[tuple[set[str], bool]]:
        """The actions each pool names (bare ids meaning any process's) and whether it is
        a robot pool, read from the document: a pool with a problem (reported) still counts,
        so that its actions are not also said to have no resource."""
        for body in _mapping(self.data.get("resources")).values():
            actions = _mapping(body).get("actions")
            keys: set[str] = set()
            for _, item in _items(actions):
                if isinstance(item, str) and "." in item:
                    keys.add(item)
                elif isinstance(item, str):
                    keys.update(f"{pid}.{item}" for pid in self.processes)
            yield keys, _mapping(body).get("robot") is True


def _calendar_or_none(name: str, body: dict[str, Any], has_problems: bool) -> CalendarDef | None:
    """The calendar, also when it has problems (already reported) but can still be built,
    so that a pool using a calendar with no working hours says so too."""
    if not has_problems:
        return _calendar(name, body)
    try:
        return _calendar(name, body)
    except ValueError:  # a working-hours range that cannot be read: reported by the checker
        return None


def _suggest(name: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f": did you mean {close[0]!r}?" if close else ""
