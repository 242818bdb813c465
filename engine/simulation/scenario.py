"""Scenario files (``*.scenario.yaml``) -> validated :class:`~.scenario_model.Scenario` objects.

:func:`load_scenario` and :func:`load_variants` read a scenario safely
(:mod:`engine.builder.yaml_source`, which keeps the line and column of every value), validate
it against ``schemas/scenario.schema.json``, load the process definitions it names
(:func:`engine.builder.loader.load_file`) and check what a schema cannot: unknown processes,
actions, gateways, flows and calendars, distribution parameters, rework targets (RW4, RW5),
sub-case permissions (SC5), pool durations for pools that do not do the action, actions
nobody does or with no duration, robots that may fail with nobody to take over, pools with
no working hours... Every problem of the file, of its definitions and of every variant is
collected with its location, then raised once as a :class:`ScenarioError`; nothing runs
before a scenario passes. The format is described in ``docs/scenario-format.md``.

The work is shared by modules named for what they hold: :mod:`.scenario_schema` (the schema),
:mod:`.scenario_variants` (merging variants), :mod:`.scenario_definitions` (the definition
files), :mod:`.scenario_reader` (checking one document and building its scenario, with
:mod:`.scenario_scope`, :mod:`.scenario_params` and :mod:`.scenario_resources`).

What-if variants (``variants:``) are merged onto the base document (mappings merge key by
key; lists and values replace; a distribution (also one pool's duration of an action), a data
generator or a gateway's branch probabilities given in a variant replace the base one whole)
and checked like the base; a problem in a variant points at the line that caused it.

Problem codes of the checks here (schema problems are ``S0xx``, YAML ones ``Y0xx``,
distribution parameters ``D001``):

======  ===========================================================================
M001    ``start`` that cannot be read or has no time zone
M002    ``cases`` and ``horizon``: neither or both given, or a bad horizon
M003    a definition file that is missing or invalid, or a process defined twice
M004    an unknown process (arrivals, processes, sub-cases)
M005    an unknown action (durations, pool durations, holds, rework, sub-cases, robots,
        resources)
M006    an ambiguous or repeated action in a resource pool
M007    an unknown calendar, or one defined differently by two processes
M008    a resource pool or arrivals calendar with no working hours
M009    branch probabilities: unknown gateway, stage (or one without a condition) or
        outcome, one given twice, or not adding up to 1
M010    a rework target that is not allowed (RW4, RW5)
M011    a sub-case the parent may not start (SC5)
M012    an action of the flow with no duration (none of its own, and not one for every
        pool doing it)
M013    an action of the flow that no resource pool does
M014    a robot action that may fail or be refused with no person pool to take over
M015    a data generator that is not exactly one of dist, choice, probability, value
M016    variants: a name used twice or ``base``, or an unknown variant asked for
M017    a case setting override that cannot be read
M018    an unknown hold kind
M019    a pool duration for an unknown pool or for a pool that does not do the action
======  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from engine.builder.yaml_source import YamlDocument, YamlPath, load_yaml
from engine.errors import DefinitionError, Problem
from engine.simulation.scenario_definitions import Definitions
from engine.simulation.scenario_model import Scenario
from engine.simulation.scenario_reader import ScenarioReader
from engine.simulation.scenario_schema import SCHEMA_PATH, scenario_schema, schema_problems
from engine.simulation.scenario_variants import in_variant, merge_variant, variant_patches

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

BASE = "base"
"""The variant name of the base scenario (a variant may not take it)."""


class ScenarioError(DefinitionError):
    """A scenario that cannot run; lists every problem at once (scenario and definitions)."""

    subject = "scenario"


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
    definitions = Definitions(Path(base_dir))
    base = ScenarioReader(doc, definitions, BASE)
    found = _without_repeats(schema_problems(doc), base.read())
    readers = [base]
    seen_names: dict[str, int] = {}
    for index, patch in variant_patches(doc.data):
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
        merged = merge_variant(doc, index, patch)
        reader = ScenarioReader(merged, definitions, name)
        own = _without_repeats(schema_problems(merged), reader.read())
        known = set(found)
        found.extend(in_variant(p, name, doc.file) for p in own if p not in known)
        readers.append(reader)
    errors = _sorted(p for p in found if p.severity == "error")
    if errors:
        raise ScenarioError(errors)
    return [reader.build() for reader in readers]


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
