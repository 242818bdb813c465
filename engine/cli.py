"""The ``caseloom`` command line: check, compile, show, demo, lifecycle, simulate."""

from __future__ import annotations

import inspect
import io
import json
import os
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, StrEnum
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from engine.builder.checking import check_files
from engine.builder.loader import YAML_SUFFIXES, LoadResult, load_file, source_kind
from engine.builder.render import render_tree
from engine.errors import DefinitionError

if TYPE_CHECKING:
    from typer._click import Context as ClickContext
    from typer._click import HelpFormatter

# -- help --------------------------------------------------------------------------------------
# Typer 0.26+ (its own copy of Click) writes help types from the Python annotations, and 0.29's
# Rich panel fills the type column for flags too (its plain formatter leaves it empty): every
# flag, --help included, showed `<bool>`, arguments `<list[Path]>`, choices `<text|json>`, the
# usage line `{paths}...`. And Click and Rich squeeze help into 80 columns when stdout is not a
# terminal. So help is laid out here from each parameter's names, metavar, default and help,
# not from Typer's type display: Rich panels on a terminal, plain text (Click's layout, as wide
# as PLAIN_HELP_WIDTH) in a pipe or a log.

PLAIN_HELP_WIDTH = 120
"""Width of help written to a pipe or a log when ``COLUMNS`` is not set, so that help lines
stay whole in CI logs and ``| less`` (Click and Rich would fall back to 80 columns)."""

_STYLE = {"name": "bold cyan", "metavar": "bold yellow", "required": "red", "extra": "dim"}


def _stdout_is_terminal() -> bool:
    stream = sys.stdout
    return stream is not None and stream.isatty()


def _plain_help_width() -> int:
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PLAIN_HELP_WIDTH


@dataclass(frozen=True)
class _HelpRow:
    """A parameter in the help: ``-o, --out`` ``DIR`` ``Folder for the outputs.``
    ``[default: simulation-out]``."""

    names: str
    metavar: str
    help: str
    extra: str
    required: bool


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False) or getattr(param, "count", False))


def _metavar(param: Any) -> str:
    """What to type for ``param``: its declared metavar, the choices of an enum (``[text|json]``)
    or its name in capitals (``PATHS``), with ``...`` when an argument takes several; nothing
    for a flag."""
    if _is_flag(param):
        return ""
    if param.metavar:
        text = str(param.metavar)
    elif isinstance(param.default, Enum):
        text = "[" + "|".join(str(member.value) for member in type(param.default)) + "]"
    else:
        text = str(param.name or "value").upper()
    several = param.param_type_name == "argument" and param.nargs != 1
    return text + "..." if several else text


def _default_text(param: Any, ctx: Any) -> str:
    show = param.show_default if param.show_default is not None else ctx.show_default
    default = param.default
    if not show or default is None or callable(default):
        return ""
    if isinstance(show, str):
        return show
    if _is_flag(param):  # --xes / --no-xes: the one that applies; a lone flag: nothing
        if not param.secondary_opts:
            return ""
        return str((param.opts if default else param.secondary_opts)[0]).lstrip("-")
    if isinstance(default, Enum):
        return str(default.value)
    if isinstance(default, (list, tuple)):
        return ", ".join(str(item) for item in default)
    return str(default)


def _range_text(param: Any) -> str:
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is None and high is None:  # Typer < 0.26: a Click range type
        kind = getattr(param, "type", None)
        low, high = getattr(kind, "min", None), getattr(kind, "max", None)
    if low is not None and high is not None:
        return f"{low}<=x<={high}"
    if low is not None:
        return f"x>={low}"
    return f"x<={high}" if high is not None else ""


def _help_row(param: Any, ctx: Any) -> _HelpRow:
    default = _default_text(param, ctx)
    extras = [f"default: {default}" if default else "", _range_text(param)]
    extras.append("required" if param.required else "")
    extra = "; ".join(text for text in extras if text)
    metavar = _metavar(param)
    if param.param_type_name == "argument":
        names, metavar = metavar, ""
    else:
        names = ", ".join(sorted(param.opts, key=lambda opt: (opt.startswith("--"), opt)))
        if param.secondary_opts:
            names += " / " + ", ".join(param.secondary_opts)
    return _HelpRow(
        names=names,
        metavar=metavar,
        help=" ".join(str(param.help or "").split()),
        extra=f"[{extra}]" if extra else "",
        required=bool(param.required),
    )


def _help_rows(command: Any, ctx: Any) -> tuple[list[_HelpRow], list[_HelpRow]]:
    """The rows of ``command``'s arguments and of its options (--help last)."""
    arguments: list[_HelpRow] = []
    options: list[_HelpRow] = []
    for param in command.get_params(ctx):
        if not getattr(param, "hidden", False):
            row = _help_row(param, ctx)
            (arguments if param.param_type_name == "argument" else options).append(row)
    return arguments, options


def _command_rows(group: Any, ctx: Any) -> list[tuple[str, str]]:
    rows = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            rows.append((name, command.get_short_help_str(limit=2 * PLAIN_HELP_WIDTH)))
    return rows


def _join(*parts: str) -> str:
    return "  ".join(part for part in parts if part)


def _format_plain_help(command: Any, ctx: Any, formatter: Any) -> None:
    """Click's layout: usage, help text, then Arguments, Options and Commands in two columns."""
    command.format_usage(ctx, formatter)
    command.format_help_text(ctx, formatter)
    arguments, options = _help_rows(command, ctx)
    sections = [
        ("Arguments", [(row.names, _join(row.help, row.extra)) for row in arguments]),
        (
            "Options",
            [(f"{row.names} {row.metavar}".strip(), _join(row.help, row.extra)) for row in options],
        ),
    ]
    if isinstance(command, TyperGroup):
        sections.append(("Commands", _command_rows(command, ctx)))
    for title, rows in sections:
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)
    command.format_epilog(ctx, formatter)


def _rich_help(command: Any, ctx: Any, width: int) -> str:
    """Typer's look, for a terminal: usage, help text, then a panel per section."""
    from rich.console import Console
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, highlight=False)
    console.print(Padding(Text(command.get_usage(ctx), style="yellow"), (1, 1, 0, 1)))
    text = inspect.cleandoc(command.help or "").partition("\f")[0]
    if text:
        paragraphs = (" ".join(block.split()) for block in text.split("\n\n"))
        console.print(Padding(Text("\n\n".join(paragraphs)), (1, 1, 0, 1)))
    console.print()
    arguments, options = _help_rows(command, ctx)
    for title, rows in (("Arguments", arguments), ("Options", options)):
        table = Table.grid(padding=(0, 2))
        for row in rows:
            help_text = Text(row.help)
            if row.extra:
                help_text.append((" " if row.help else "") + row.extra, style=_STYLE["extra"])
            table.add_row(
                Text("*" if row.required else "", style=_STYLE["required"]),
                Text(row.names, style=_STYLE["name"]),
                Text(row.metavar, style=_STYLE["metavar"]),
                help_text,
            )
        if rows:
            console.print(Panel(table, title=title, title_align="left", border_style="dim"))
    if isinstance(command, TyperGroup):
        table = Table.grid(padding=(0, 2))
        for name, short_help in _command_rows(command, ctx):
            table.add_row(Text(name, style=_STYLE["name"]), Text(short_help))
        if table.row_count:
            console.print(Panel(table, title="Commands", title_align="left", border_style="dim"))
    if command.epilog:
        console.print(Padding(Text(inspect.cleandoc(command.epilog)), (0, 1)))
    return out.getvalue()


def _help(command: Any, ctx: Any) -> str:
    if _stdout_is_terminal():
        return _rich_help(command, ctx, shutil.get_terminal_size().columns).rstrip("\n")
    width = _plain_help_width()
    formatter = ctx.formatter_class(width=width, max_width=width)
    _format_plain_help(command, ctx, formatter)
    return str(formatter.getvalue()).rstrip("\n")


class _Command(TyperCommand):
    """A command whose help is laid out by :func:`_help`."""

    def get_help(self, ctx: ClickContext) -> str:
        return _help(self, ctx)

    def format_help(self, ctx: ClickContext, formatter: HelpFormatter) -> None:
        _format_plain_help(self, ctx, formatter)

    def collect_usage_pieces(self, ctx: ClickContext) -> list[str]:
        """``[OPTIONS] PATHS...``: arguments by their metavars, optional ones in brackets."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                metavar = _metavar(param)
                pieces.append(metavar if param.required else f"[{metavar}]")
        return pieces


class _Group(TyperGroup):
    """The ``caseloom`` group, whose help is laid out by :func:`_help`."""

    def get_help(self, ctx: ClickContext) -> str:
        return _help(self, ctx)

    def format_help(self, ctx: ClickContext, formatter: HelpFormatter) -> None:
        _format_plain_help(self, ctx, formatter)


app = typer.Typer(
    name="caseloom",
    help="caseloom: a case-management process engine. Check, compile and show process "
    "definitions (YAML or BPMN), run the demo claim, print the case lifecycle, and simulate "
    "scenarios.",
    no_args_is_help=True,
    add_completion=False,
    cls=_Group,
    rich_markup_mode=None,  # help and errors as plain text; help laid out by _Group/_Command
)


def _version() -> str:
    """This installation's version, from the package metadata (pyproject.toml's name)."""
    try:
        return metadata.version("caseloom")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "(not installed: unknown version)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"caseloom {_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """caseloom's own options (before the command)."""


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


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Definition files or folders.")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.text,
) -> None:
    """Validate and lint definitions; exit 1 if any has errors."""
    # The files are checked as one set (engine/builder/checking.py): a sub-case process that
    # none of them defines is a warning; two of them with the same id and version an error.
    checked = check_files(_expand(paths))
    report: list[dict[str, object]] = []
    for result in checked:
        problems = result.problems
        report.append(
            {"file": result.file, "ok": result.ok, "problems": [p.as_dict() for p in problems]}
        )
        if output is OutputFormat.text:
            for problem in problems:
                typer.echo(str(problem))
            if result.ok:
                typer.echo(
                    f"{result.file}: ok" + (f" ({len(problems)} warnings)" if problems else "")
                )
    failed = not all(result.ok for result in checked)
    if output is OutputFormat.json:
        typer.echo(json.dumps({"ok": not failed, "files": report}, indent=2))
    else:
        bad = sum(1 for result in checked if not result.ok)
        typer.echo(f"{len(checked)} file(s) checked, {bad} with errors")
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
    file: Annotated[Path, typer.Argument(help="A YAML definition.", metavar="FILE")],
    out: Annotated[
        Path | None, typer.Option("-o", "--output", help="BPMN file to write.", metavar="FILE")
    ] = None,
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
def show(
    file: Annotated[Path, typer.Argument(help="A YAML or BPMN definition.", metavar="FILE")],
) -> None:
    """Print the stage/action tree of a definition."""
    source_kind(str(file))
    result = _load_or_exit(file)
    typer.echo(render_tree(result.definition))


@app.command()
def demo(
    db: Annotated[
        Path,
        typer.Option("--db", help="SQLite file for the demo (recreated each run).", metavar="FILE"),
    ] = Path("out/demo.sqlite"),
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the summary.")] = False,
    processes: Annotated[
        Path,
        typer.Option(
            help="Folder of example definitions.", exists=True, file_okay=False, metavar="DIR"
        ),
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


def _lay_out_help() -> None:
    """Every command lays its help out with :class:`_Command` (see the notes on help)."""
    for info in app.registered_commands:
        if info.cls is None or info.cls is TyperCommand:  # not given: Typer's own
            info.cls = _Command


_register_simulate()
_lay_out_help()
