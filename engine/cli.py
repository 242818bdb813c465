"""The ``caseloom`` command line: check, compile, show, demo, lifecycle, simulate."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.builder.loader import YAML_SUFFIXES, LoadResult, load_file, source_kind
from engine.builder.render import render_tree
from engine.errors import DefinitionError, Problem

app = typer.Typer(
    name="caseloom",
    help="caseloom: case-management process engine. Check, compile and show definitions.",
    no_args_is_help=True,
    add_completion=False,
)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


DEFINITION_SUFFIXES = (".yaml", ".yml", ".bpmn")


def _expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix.lower() in DEFINITION_SUFFIXES)
            )
        else:
            files.append(path)
    return files


def _process_ids(files: list[Path]) -> set[str]:
    """Ids of the processes among ``files`` that load, so that they may refer to each other."""
    ids = set()
    for file in files:
        try:
            ids.add(load_file(file).definition.id)
        except DefinitionError:
            continue  # reported by the checking pass, with every problem
    return ids


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Definition files or folders.")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.text,
) -> None:
    """Validate and lint definitions; exit 1 if any has errors."""
    files = _expand(paths)
    known = _process_ids(files)
    report: list[dict[str, object]] = []
    failed = False
    for file in files:
        problems: list[Problem]
        try:
            result = load_file(file, known_processes=known)
            problems = list(result.warnings)
            ok = True
        except DefinitionError as err:
            problems = list(err.problems)
            ok = False
            failed = True
        report.append({"file": str(file), "ok": ok, "problems": [p.as_dict() for p in problems]})
        if output is OutputFormat.text:
            for problem in problems:
                typer.echo(str(problem))
            if ok:
                typer.echo(f"{file}: ok" + (f" ({len(problems)} warnings)" if problems else ""))
    if output is OutputFormat.json:
        typer.echo(json.dumps({"ok": not failed, "files": report}, indent=2))
    else:
        bad = sum(1 for r in report if not r["ok"])
        typer.echo(f"{len(files)} file(s) checked, {bad} with errors")
    if failed:
        raise typer.Exit(code=1)


def _load_or_exit(file: Path) -> LoadResult:
    try:
        return load_file(file)
    except DefinitionError as err:
        for problem in err.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(code=1) from None


@app.command("compile")
def compile_cmd(
    file: Annotated[Path, typer.Argument(help="A YAML definition.")],
    out: Annotated[Path | None, typer.Option("-o", "--output", help="BPMN file to write.")] = None,
) -> None:
    """Compile a YAML definition to BPMN 2.0 (with diagram) for bpmn.io / Camunda Modeler."""
    if not str(file).lower().endswith(YAML_SUFFIXES):
        typer.echo(f"{file}: compile takes a YAML definition", err=True)
        raise typer.Exit(code=2)
    result = _load_or_exit(file)
    if out is None:
        sys.stdout.write(result.definition.bpmn.decode("utf-8"))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(result.definition.bpmn)
    typer.echo(f"wrote {out}")


@app.command()
def show(file: Annotated[Path, typer.Argument(help="A YAML or BPMN definition.")]) -> None:
    """Print the stage/action tree of a definition."""
    source_kind(str(file))
    result = _load_or_exit(file)
    typer.echo(render_tree(result.definition.model))


@app.command()
def demo(
    db: Annotated[
        Path, typer.Option("--db", help="SQLite file for the demo (recreated each run).")
    ] = Path("out/demo.sqlite"),
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the summary.")] = False,
    processes: Annotated[
        Path,
        typer.Option(help="Folder of example definitions.", exists=True, file_okay=False),
    ] = Path("processes"),
) -> None:
    """Deploy the example definitions and run an insurance claim end to end (engine/demo.py)."""
    from engine.demo import DemoFailure, run_demo

    try:
        run_demo(db, processes=processes, echo=typer.echo, quiet=quiet)
    except (DefinitionError, DemoFailure) as err:
        typer.echo(f"demo failed: {err}", err=True)
        raise typer.Exit(code=1) from None


@app.command()
def lifecycle() -> None:
    """Print the case lifecycle transition table (the source of docs/lifecycle.md)."""
    from engine.runtime.lifecycle import transition_table_markdown

    sys.stdout.write(transition_table_markdown())


def main() -> None:  # pragma: no cover - console entry point
    app()


def _register_simulate() -> None:
    from engine.simulation.command import simulate_command

    app.command("simulate")(simulate_command)


_register_simulate()
