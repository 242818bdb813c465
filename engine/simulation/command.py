"""``caseloom simulate``: run a scenario (and its what-if variants) and write the outputs.

    caseloom simulate examples/claims.scenario.yaml --out out/claims
    caseloom simulate today.scenario.yaml proposal.scenario.yaml --out out/compare
    caseloom simulate model.bpmn params.json --cases 10000 --start 2024-01-01T09:00Z

Writes into ``--out``: ``report.html`` (self-contained, with the plots), the PNG plots,
``kpis.json``/``kpis.csv``, and per variant the event log of its first replication as
``eventlog-<variant>.csv`` and ``.xes``. Prints the KPI table of each variant. A bad scenario
prints every problem with its location and exits with status 1 before anything runs.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine.errors import DefinitionError

if TYPE_CHECKING:
    from engine.simulation.results import SimulationResult
    from engine.simulation.scenario_model import Scenario

# The simulator (numpy, matplotlib) is imported when the command runs, so that the rest of
# the command line starts fast.


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "variant"


PROSIMOS_START = datetime(2024, 1, 1, 9, tzinfo=UTC)
"""Default start of a Prosimos run: Monday 2024-01-01 09:00 UTC (the reference figures')."""


def _start(text: str | None) -> datetime:
    if text is None:
        return PROSIMOS_START
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise typer.BadParameter(f"--start {text!r} is not an ISO 8601 date-time") from err
    if value.tzinfo is None:
        raise typer.BadParameter(f"--start {text!r} needs a time zone (e.g. Z or +01:00)")
    return value.astimezone(UTC)


def _horizon(text: str | None) -> float | None:
    from engine.simulation.distributions import parse_seconds

    if text is None:
        return None
    try:
        return parse_seconds(text)
    except ValueError as err:
        raise typer.BadParameter(f"--horizon {text!r}: {err}") from err


def _split_files(files: list[Path], prosimos: Path | None) -> tuple[list[Path], Path | None]:
    """The scenario files, or the BPMN model and its Prosimos JSON (given in either order, or
    the JSON with ``--prosimos``)."""
    if prosimos is not None:
        if len(files) == 1:
            return files, prosimos
    elif len(files) == 2 and {f.suffix.lower() for f in files} == {".bpmn", ".json"}:
        by_suffix = {f.suffix.lower(): f for f in files}
        return [by_suffix[".bpmn"]], by_suffix[".json"]
    elif all(f.suffix.lower() in (".yaml", ".yml") for f in files):
        return files, None
    raise typer.BadParameter(
        "give scenario YAML files, or a Prosimos BPMN model and its JSON parameters "
        f"(got: {', '.join(str(f) for f in files)})"
    )


def _labelled(found: list[Scenario]) -> list[Scenario]:
    """Variants of several scenario files, labelled ``<scenario name>`` for a base and
    ``<scenario name> / <variant>`` otherwise, so that the report tells them apart."""
    names = [s.name for s in found]
    if len(set(names)) == 1:
        return found
    return [
        dataclasses.replace(s, variant=s.name if s.variant == "base" else f"{s.name} / {s.variant}")
        for s in found
    ]


def _scenarios(
    files: list[Path],
    prosimos: Path | None,
    start: str | None,
    cases: int | None,
    horizon: float | None,
    variants: list[str] | None,
) -> list[Scenario]:
    from engine.simulation.prosimos import import_prosimos
    from engine.simulation.scenario import load_variants

    if prosimos is not None:
        if cases is None and horizon is None:
            cases = 1000
        return [
            import_prosimos(files[0], prosimos, start=_start(start), cases=cases, horizon=horizon)
        ]
    found = [s for file in files for s in load_variants(file)]
    if variants:
        known = {s.variant for s in found}
        unknown = [v for v in variants if v not in known]
        if unknown:
            raise typer.BadParameter(
                f"unknown variant(s) {', '.join(map(repr, unknown))}; "
                f"the scenario files have: {', '.join(map(repr, sorted(known)))}"
            )
        found = [s for s in found if s.variant in variants]
    return _labelled(found)


def _verify(found: list[Scenario], sample: int) -> None:
    """``--verify``: replay sampled cases of each variant through the runtime; exit 1 when
    the runtime does something else."""
    from engine.simulation.verify import not_replayable
    from engine.simulation.verify import verify as replay_sample

    differ = False
    for item in found:
        reasons = not_replayable(item)
        if reasons:
            typer.echo(f"verify {item.name} ({item.variant}): skipped: " + "; ".join(reasons))
            continue
        checked = replay_sample(item, sample=sample)
        typer.echo(checked.summary())
        differ = differ or not checked.ok
    if differ:
        raise typer.Exit(1)


def simulate_command(
    scenario: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario YAML files (their variants are compared in one report); or a "
            "Prosimos BPMN model and its JSON parameters.",
            metavar="FILE",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the outputs.", metavar="DIR")
    ] = Path("simulation-out"),
    cases: Annotated[
        int | None, typer.Option(help="Cases to run (overrides the scenario).", metavar="N")
    ] = None,
    horizon: Annotated[
        str | None,
        typer.Option(help="Simulated time to run instead, e.g. 30d.", metavar="DURATION"),
    ] = None,
    replications: Annotated[
        int | None, typer.Option(help="Replications per variant.", metavar="N")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed (overrides the scenario's).", metavar="N")
    ] = None,
    variant: Annotated[
        list[str] | None,
        typer.Option(help="Run only these variants (repeatable).", metavar="NAME"),
    ] = None,
    prosimos: Annotated[
        Path | None,
        typer.Option(help="Prosimos 2.x parameters (JSON) for the BPMN model.", metavar="FILE"),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="Start of a Prosimos run, ISO 8601 with time zone "
            "(default 2024-01-01T09:00Z, a Monday).",
            metavar="DATETIME",
        ),
    ] = None,
    xes: Annotated[bool, typer.Option(help="Also write the event logs as XES.")] = True,
    progress: Annotated[
        bool | None, typer.Option(help="Progress bar (default: when stderr is a terminal).")
    ] = None,
    verify: Annotated[
        int,
        typer.Option(
            help="Also replay this many sampled cases of each variant through the runtime "
            "and check they match (0: no check).",
            min=0,
            metavar="N",
        ),
    ] = 0,
) -> None:
    """Simulate a scenario on a virtual clock: KPIs, event logs, plots and an HTML report."""
    from engine.simulation.api import simulate
    from engine.simulation.eventlog import write_csv, write_xes
    from engine.simulation.kpis import summarise
    from engine.simulation.report import write_report

    seconds = _horizon(horizon)
    files, prosimos = _split_files(scenario, prosimos)
    try:
        found = _scenarios(files, prosimos, start, cases, seconds, variant)
        results: list[SimulationResult] = []
        for item in found:
            if len(found) > 1:
                typer.echo(f"== variant: {item.variant}", err=True)
            results.append(
                simulate(
                    item,
                    cases=cases if prosimos is None else None,
                    horizon=seconds if prosimos is None else None,
                    replications=replications,
                    seed=seed,
                    progress=progress,
                )
            )
    except DefinitionError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(1) from err
    out.mkdir(parents=True, exist_ok=True)
    tables = [summarise(result) for result in results]
    for result, table in zip(results, tables, strict=True):
        typer.echo(f"\n# {result.scenario} — {result.variant}")
        typer.echo(table.format_table())
        name = _slug(result.variant)
        first = result.replications[0]
        write_csv(first, out / f"eventlog-{name}.csv")
        if xes:
            write_xes(first, out / f"eventlog-{name}.xes")
    report = write_report(results, out, tables=tables)
    if verify:
        _verify(found, verify)
    typer.echo(f"\nreport: {report}", err=False)
    sys.stdout.flush()
