"""Safe YAML loading that remembers where every value came from.

:func:`load_yaml` reads a process definition with PyYAML's *event* API only: events are turned
into plain dicts, lists and scalars here, so no arbitrary object is ever constructed, and the
line and column of every key and value are kept for error messages.

Refused, each as a :class:`~engine.errors.DefinitionError` naming the file and line:

* files larger than :data:`MAX_BYTES` bytes, bytes that are not UTF-8, malformed YAML (the
  parser's common complaints are said in plain words with the usual fix: a tab used for
  indentation, an unquoted ``: `` or a leading ``@``, backtick, ``*`` or ``&`` in a value,
  an unclosed quote or bracket, a line indented unlike its siblings ...);
* anchors and aliases (``&a`` / ``*a``), refused at the first one, before any expansion, so
  "billion laughs" bombs cost nothing;
* nesting deeper than :data:`MAX_DEPTH`, more than one document;
* duplicate mapping keys (PyYAML would silently keep the last), keys that are not strings
  (``1:``, ``yes:``, ``[a]:``), merge keys (``<<``);
* tags other than YAML's standard scalar and collection tags (``!!python/object`` ...).

Scalars are resolved as PyYAML's ``SafeLoader`` would (YAML 1.1 rules): ``true``, ``4``,
``1.5``, ``~``, and dates such as ``2026-12-25``, which stay ``datetime.date`` values.
Events come from libyaml when PyYAML has it (:data:`PARSER`), else from the pure-Python parser.

Problem codes: ``Y001`` too large, ``Y002`` not UTF-8, ``Y003`` malformed, ``Y004`` several
documents, ``Y005`` anchor or alias, ``Y006`` too deep, ``Y007`` key that is not a plain
string, ``Y008`` duplicate key, ``Y009`` tag not allowed or value not fitting its tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from engine.errors import DefinitionError, Problem, ProblemCollector

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "YamlDocument",
    "YamlPath",
    "load_yaml",
    "path_str",
]

MAX_BYTES = 1_000_000
"""Largest YAML definition accepted, in bytes (UTF-8)."""

MAX_DEPTH = 50
"""Deepest nesting of mappings and lists accepted."""

YamlPath = tuple[str | int, ...]
"""Where a value sits in a document: mapping keys and list indexes from the top."""

_YAML = "tag:yaml.org,2002:"
_STR = _YAML + "str"
_SEQ = _YAML + "seq"
_MAP = _YAML + "map"
_FLOAT = _YAML + "float"
_INT = _YAML + "int"
_MERGE = _YAML + "merge"
_TIMESTAMP = _YAML + "timestamp"
_VALUE = _YAML + "value"
_SCALAR_TAGS = frozenset(
    _YAML + name for name in ("str", "int", "float", "bool", "null", "timestamp")
)
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")

Position = tuple[int, int]

PARSER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)
"""The event parser: libyaml's when PyYAML was built with it (much faster), else pure Python.
Only its events are used; scalars are resolved and built here either way."""


def path_str(path: YamlPath) -> str:
    """Render a path the way designers read it: ``stages[1].actions[0].due``.

    Keys that are not simple names are quoted (``calendars['uk office']``); the empty path
    (the whole document) renders as ``""``.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


@dataclass(frozen=True)
class YamlDocument:
    """A loaded YAML document: plain ``data`` plus the position of every key and value.

    Positions are 1-based ``(line, column)``. :meth:`position` gives where a value starts;
    :meth:`key_position` where its mapping key is written (the same as :meth:`position` for
    list items). A path that does not exist gives the position of its nearest existing parent.
    """

    data: Any
    file: str
    values: dict[YamlPath, Position] = field(default_factory=dict, repr=False)
    keys: dict[YamlPath, Position] = field(default_factory=dict, repr=False)
    styles: dict[YamlPath, str] = field(default_factory=dict, repr=False)

    def position(self, path: YamlPath) -> Position:
        """Line and column where the value at ``path`` (or its nearest parent) starts."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return (1, 1)

    def key_position(self, path: YamlPath) -> Position:
        """Line and column of the mapping key naming ``path``; else as :meth:`position`."""
        return self.keys.get(path) or self.position(path)

    def text_position(self, path: YamlPath, offset: int) -> Position:
        """Position of character ``offset`` inside the string value at ``path``.

        Exact for single-line plain and quoted scalars (escapes aside); for block scalars
        (``|``, ``>``) the start of the value is returned.
        """
        line, column = self.position(path)
        style = self.styles.get(path, "")
        if path not in self.values or style in ("|", ">"):
            return (line, column)
        quote = 1 if style in ("'", '"') else 0
        return (line, column + quote + offset)

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
        """A :class:`Problem` located at ``path`` (its key when ``at_key``)."""
        if at_key:
            line, column = self.key_position(path)
        elif offset is not None:
            line, column = self.text_position(path, offset)
        else:
            line, column = self.position(path)
        return Problem(
            message,
            file=self.file,
            line=line,
            column=column,
            path=path_str(path),
            severity=severity,
            code=code,
        )


def load_yaml(source: bytes | str, file: str) -> YamlDocument:
    """Load one YAML document safely, keeping positions; see the module docstring.

    Raises :class:`DefinitionError` listing the problems found; structural ones (malformed
    YAML, aliases, depth, a second document) stop reading at once.
    """
    text = _decode(source, file)
    builder = _Builder(file)
    builder.run(text)
    builder.problems.raise_if_any()
    return YamlDocument(
        data=builder.data,
        file=file,
        values=builder.values,
        keys=builder.keys,
        styles=builder.styles,
    )


# -- decoding --------------------------------------------------------------------------------


def _line_col(text: str, index: int) -> Position:
    """1-based line and column of character ``index`` of ``text``."""
    line = text.count("\n", 0, index) + 1
    start = text.rfind("\n", 0, index) + 1
    return (line, index - start + 1)


def _decode(source: bytes | str, file: str) -> str:
    """UTF-8 text of ``source``, refusing oversized files and undecodable bytes."""
    data = source.encode("utf-8", errors="surrogatepass") if isinstance(source, str) else source
    if len(data) > MAX_BYTES:
        line = data.count(b"\n", 0, MAX_BYTES) + 1
        raise DefinitionError(
            Problem(
                f"file is larger than the limit of {MAX_BYTES:,} bytes (reached on line {line})",
                file=file,
                line=line,
                code="Y001",
            )
        )
    if isinstance(source, str):
        text = source
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            line_start = data.rfind(b"\n", 0, err.start) + 1
            column = len(data[line_start : err.start].decode("utf-8")) + 1
            raise DefinitionError(
                Problem(
                    f"not UTF-8: byte 0x{data[err.start]:02x} cannot be decoded "
                    "(save the file as UTF-8)",
                    file=file,
                    line=line,
                    column=column,
                    code="Y002",
                )
            ) from None
    return text.removeprefix("\ufeff")


# -- building plain data from events ---------------------------------------------------------


@dataclass
class _Frame:
    """A collection being filled: a mapping (waiting for a key or a value) or a list."""

    path: YamlPath
    container: dict[str, Any] | list[Any]
    key: str | None = None
    key_mark: Position = (1, 1)
    expecting_value: bool = False
    discard_value: bool = False
    first_seen: dict[str, int] = field(default_factory=dict)


class _Fatal(Exception):
    """Internal: stop reading; the problem is already recorded."""


class _Builder:
    """Turns a stream of PyYAML events into plain data and position tables."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems = ProblemCollector(file)
        self.data: Any = None
        self.values: dict[YamlPath, Position] = {}
        self.keys: dict[YamlPath, Position] = {}
        self.styles: dict[YamlPath, str] = {}
        self.stack: list[_Frame] = []
        self.documents = 0
        self._resolver = Resolver()
        self._constructor = SafeConstructor()

    # -- driving -------------------------------------------------------------------------------
    def run(self, text: str) -> None:
        try:
            for event in self._events(text):
                self._handle(event)
        except _Fatal:
            return

    def _events(self, text: str) -> Iterator[Event]:
        """PyYAML's events for ``text``, turning its errors into recorded problems."""
        events = yaml.parse(text, Loader=PARSER)
        try:
            yield from events
        except yaml.MarkedYAMLError as err:
            message, line, column = _syntax_error(err, text)
            self._fatal(message, line, column, "Y003")
        except yaml.reader.ReaderError as err:
            index = err.position
            if PARSER is not yaml.SafeLoader:  # libyaml counts UTF-8 bytes
                index = len(text.encode("utf-8")[:index].decode("utf-8", errors="ignore"))
            line, column = _line_col(text, index)
            character = text[index] if index < len(text) else err.character
            self._fatal(f"character {character!r} is not allowed in YAML", line, column, "Y003")

    def _fatal(self, message: str, line: int | None, column: int | None, code: str) -> None:
        self.problems.add(message, line=line, column=column, code=code)
        raise _Fatal

    @staticmethod
    def _mark(event: Event) -> Position:
        mark = event.start_mark
        return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)

    def _handle(self, event: Event) -> None:
        if isinstance(event, DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                line, column = self._mark(event)
                self._fatal(
                    "more than one YAML document (a second '---'): a file holds one process",
                    line,
                    column,
                    "Y004",
                )
            return
        if isinstance(event, AliasEvent):
            line, column = self._mark(event)
            self._fatal(
                f"aliases (*{event.anchor}) are not allowed: write the value out",
                line,
                column,
                "Y005",
            )
        if isinstance(event, NodeEvent) and event.anchor is not None:
            line, column = self._mark(event)
            self._fatal(
                f"anchors (&{event.anchor}) are not allowed: write the value out",
                line,
                column,
                "Y005",
            )
        if isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            self._close()
        elif isinstance(event, ScalarEvent):
            self._scalar(event)
        elif isinstance(event, CollectionStartEvent):
            self._open(event)

    # -- placing values ------------------------------------------------------------------------
    def _slot(self, event: NodeEvent) -> tuple[YamlPath, bool] | None:
        """Path for a new value, and whether it is kept; None when it is a mapping key."""
        if not self.stack:
            return ((), True)
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return (frame.path + (len(frame.container),), True)
        if not frame.expecting_value:
            return None
        if frame.discard_value or frame.key is None:
            return (frame.path + ("<invalid key>",), False)
        return (frame.path + (frame.key,), True)

    def _store(self, path: YamlPath, keep: bool, value: Any, mark: Position) -> None:
        if not keep:
            return
        self.values[path] = mark
        if not self.stack:
            self.data = value
            return
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            frame.container.append(value)
        else:
            assert frame.key is not None
            frame.container[frame.key] = value
            self.keys[path] = frame.key_mark
        frame.expecting_value = False
        frame.key = None

    def _after_value(self) -> None:
        """Reset a mapping frame after a discarded value."""
        if self.stack and isinstance(self.stack[-1].container, dict):
            frame = self.stack[-1]
            frame.expecting_value = False
            frame.discard_value = False
            frame.key = None

    def _scalar(self, event: ScalarEvent) -> None:
        mark = self._mark(event)
        slot = self._slot(event)
        if slot is None:
            self._key(event, mark)
            return
        path, keep = slot
        value = self._scalar_value(event, mark)
        if keep:
            if event.style:
                self.styles[path] = event.style
            self._store(path, keep, value, mark)
        else:
            self._after_value()

    def _open(self, event: CollectionStartEvent) -> None:
        mark = self._mark(event)
        slot = self._slot(event)
        if slot is None:
            self._fatal(
                "a mapping key must be a plain string, not a list or a mapping",
                mark[0],
                mark[1],
                "Y007",
            )
            return
        path, keep = slot
        if len(self.stack) + 1 > MAX_DEPTH:
            self._fatal(f"nesting is deeper than {MAX_DEPTH} levels", mark[0], mark[1], "Y006")
        is_map = isinstance(event, MappingStartEvent)
        default = _MAP if is_map else _SEQ
        if event.tag not in (None, "!", default):
            self._bad_tag(event.tag, mark)
        container: dict[str, Any] | list[Any] = {} if is_map else []
        if keep:
            self._store(path, keep, container, mark)
        else:
            self._after_value()
        self.stack.append(_Frame(path=path, container=container))

    def _close(self) -> None:
        self.stack.pop()

    def _key(self, event: ScalarEvent, mark: Position) -> None:
        frame = self.stack[-1]
        assert isinstance(frame.container, dict)
        frame.expecting_value = True
        frame.key_mark = mark
        frame.discard_value = True
        frame.key = None
        tag = self._scalar_tag(event)
        if tag == _MERGE:
            self.problems.add(
                "merge keys (<<) are not allowed: write the keys out",
                line=mark[0],
                column=mark[1],
                path=path_str(frame.path),
                code="Y007",
            )
            return
        if tag != _STR:
            value = self._scalar_value(event, mark)
            self.problems.add(
                f"mapping key {event.value!r} is read as {_kind(value)}, "
                f'not a string: quote it ("{event.value}")',
                line=mark[0],
                column=mark[1],
                path=path_str(frame.path),
                code="Y007",
            )
            return
        key = event.value
        first = frame.first_seen.get(key)
        if first is not None:
            self.problems.add(
                f"duplicate key {key!r} (first written on line {first})",
                line=mark[0],
                column=mark[1],
                path=path_str(frame.path + (key,)),
                code="Y008",
            )
            return
        frame.first_seen[key] = mark[0]
        frame.key = key
        frame.discard_value = False

    # -- scalars -------------------------------------------------------------------------------
    def _scalar_tag(self, event: ScalarEvent) -> str:
        """The resolved tag of a scalar, as PyYAML's SafeLoader would resolve it."""
        if event.tag is None or event.tag == "!":
            implicit = event.implicit if event.tag is None else (False, False)
            return self._resolve(event.value, implicit)
        return str(event.tag)

    def _resolve(self, value: str, implicit: tuple[bool, bool]) -> str:
        tag = self._resolver.resolve(ScalarNode, value, implicit)  # type: ignore[no-untyped-call]
        return str(tag)

    def _scalar_value(self, event: ScalarEvent, mark: Position) -> Any:
        tag = self._scalar_tag(event)
        if tag in (_VALUE, _MERGE):
            return event.value
        if tag not in _SCALAR_TAGS:
            self._bad_tag(tag, mark)
            return event.value
        if event.tag not in (None, "!") and tag != _STR:
            implicit = self._resolve(event.value, (True, False))
            fits = implicit == tag or (tag == _FLOAT and implicit == _INT)
            if not fits:
                self.problems.add(
                    f"{event.value!r} is not a valid {_short(tag)}",
                    line=mark[0],
                    column=mark[1],
                    code="Y009",
                )
                return event.value
        node = ScalarNode(tag, event.value, None, None, event.style)
        constructor = SafeConstructor.yaml_constructors[tag]
        try:
            return constructor(self._constructor, node)
        except ValueError as err:
            if tag == _TIMESTAMP:  # looks like a date but is none (2026-02-30): keep the text
                return event.value
            self.problems.add(
                f"cannot read {_short(tag)} value: {err}", line=mark[0], column=mark[1], code="Y009"
            )
            return event.value

    def _bad_tag(self, tag: str | None, mark: Position) -> None:
        self.problems.add(
            f"tag {_short(tag or '')} is not allowed: only plain YAML values are",
            line=mark[0],
            column=mark[1],
            code="Y009",
        )


# -- syntax errors in plain words -----------------------------------------------------------


def _syntax_error(err: yaml.MarkedYAMLError, text: str) -> tuple[str, int | None, int | None]:
    """Message, line and column for a YAML syntax error: what it usually means and how to fix
    it, then the parser's own words (which differ between libyaml and pure Python)."""
    mark = err.problem_mark or err.context_mark
    if mark is None:
        return (f"malformed YAML: {_parser_words(err)}", None, None)
    at = _Where(text, mark.line, mark.column)
    opened = err.context_mark
    since = _Where(text, opened.line, opened.column) if opened is not None else None
    hint = _syntax_hint(err.problem or "", err.context or "", at, since)
    if hint is None:
        return (f"malformed YAML: {_parser_words(err)}", at.line, at.column)
    advice, where = hint
    words = err.problem or err.context
    return (f"malformed YAML: {advice} (parser: {words})", where.line, where.column)


def _parser_words(err: yaml.MarkedYAMLError) -> str:
    context = f" ({err.context})" if err.context else ""
    return f"{err.problem or 'syntax error'}{context}"


@dataclass(frozen=True)
class _Where:
    """A place in the text, from a 0-based PyYAML mark: 1-based line and column, the text of
    its line and the character there (``""`` at the end of a line or of the file)."""

    text: str
    index_line: int
    index_column: int

    @property
    def line(self) -> int:
        return self.index_line + 1

    @property
    def column(self) -> int:
        return self.index_column + 1

    @property
    def line_text(self) -> str:
        lines = self.text.splitlines()
        return lines[self.index_line] if self.index_line < len(lines) else ""

    @property
    def char(self) -> str:
        return self.line_text[self.index_column : self.index_column + 1]

    @property
    def before(self) -> str:
        """The text of the line before this place."""
        return self.line_text[: self.index_column]

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}"


_TAB = "a tab character where YAML expects spaces (it indents with spaces only): use spaces"
_QUOTE_IT = "quote the value"


def _syntax_hint(
    problem: str, context: str, at: _Where, since: _Where | None
) -> tuple[str, _Where] | None:
    """Plain advice for PyYAML's (and libyaml's) common scanner and parser errors, and where to
    point at; None when the error is not one of them."""
    if "tab character" in problem or ("cannot start any token" in problem and at.char == "\t"):
        return (_TAB, at)
    if "cannot start any token" in problem:
        char = at.char
        if char in ("@", "`"):
            return (
                f"a value cannot start with {char!r} (reserved in YAML): {_QUOTE_IT}, "
                f"e.g. {_quoted_example(at)}",
                at,
            )
        if char == "%":
            return (f"a value cannot start with '%': {_QUOTE_IT}, e.g. {_quoted_example(at)}", at)
        return (f"character {char!r} cannot start a value here: {_QUOTE_IT}", at)
    if "mapping values are not allowed" in problem:
        if ": " in at.before.strip():
            return (
                "a ': ' inside a value that is not quoted (YAML reads it as a new key): "
                f"{_QUOTE_IT}, e.g. {_quoted_example(at)}",
                at,
            )
        return (
            "this line is indented further than the key above it, so YAML reads it as the "
            "continuation of the previous value: indent it like its sibling keys (or quote a "
            "value that holds ': ')",
            at,
        )
    if "sequence entries are not allowed" in problem:
        return (
            "a list item ('- ') cannot start on the same line as its key: put each item on its "
            "own line, indented under the key, or write the list as [a, b]",
            at,
        )
    if "mapping keys are not allowed" in problem:
        return (f"'?' at the start of a value starts a complex key: {_QUOTE_IT}", at)
    if "scanning an alias" in context or "scanning an anchor" in context:
        start = since or at
        char = start.char or "*"
        kind = "an alias" if char == "*" else "an anchor"
        return (
            f"a value starting with {char!r} is read as {kind}: {_QUOTE_IT}, "
            f"e.g. {_quoted_example(start)}",
            start,
        )
    if "quoted scalar" in context and "end of stream" in problem:
        start = since or at
        return ("this quoted value is never closed: add the closing quote", start)
    if "escape character" in problem:
        return (
            "a backslash in a double-quoted value starts an escape sequence: use single quotes "
            "('C:\\data') or write the backslash twice (\"C:\\\\data\")",
            at,
        )
    if "could not find expected ':'" in problem:
        start = since or at
        return (
            f"line {start.line} has no ':' after its key (a mapping needs 'key: value' on each "
            "line), or a value that goes on over several lines is not indented",
            start,
        )
    if "block mapping" in context and ("expected key" in problem or "block end" in problem):
        if at.char == "-":
            return (
                "a list item ('- ') where a key is expected: align it with the other items "
                "of its list, indented under its key",
                at,
            )
        if at.before.rstrip().endswith(("'", '"')):
            return (
                "text after the closing quote of a value: put the whole value inside the quotes",
                at,
            )
        return (_indentation(at, since, "keys"), at)
    if "block collection" in context:
        return (_indentation(at, since, "list items ('- ')"), at)
    if "flow sequence" in context or "flow mapping" in context:
        opening, close, example = (
            ("[", "]", "[a, b]") if "sequence" in context else ("{", "}", "{id: a, title: B}")
        )
        where = f" on {since}" if since is not None else ""
        return (
            f"the {opening!r} opened{where} is not closed with {close!r}, or a ',' is missing "
            f"between two items: write {example} on one line, or quote a value that holds "
            "':', ',' or brackets",
            at,
        )
    if "node content" in problem:
        if at.char == ",":
            return ("an empty item (two commas in a row): remove the extra ','", at)
        if at.char in ("]", "}"):
            return (f"a {at.char!r} with no matching opening bracket: {_QUOTE_IT}", at)
        return None
    if "block scalar" in context:
        return (
            "after '|' or '>' only '-', '+' or an indentation digit may follow on the same line: "
            "write the text on the next lines, indented",
            at,
        )
    if "tag" in context:
        return (f"'!' at the start of a value starts a tag: {_QUOTE_IT}", since or at)
    if "directive" in context:
        return (f"'%' at the start of a line starts a directive: {_QUOTE_IT}", since or at)
    return None


def _indentation(at: _Where, since: _Where | None, what: str) -> str:
    start = f" that starts on line {since.line}" if since is not None else ""
    return (
        f"the indentation of this line does not match the {what} of the block{start}: "
        "indent it with spaces exactly like its siblings"
    )


def _quoted_example(at: _Where) -> str:
    """The line of ``at`` with its value quoted: ``title: "Note: urgent"``."""
    line = at.line_text.strip()
    key, sep, value = line.partition(": ")
    if not sep or not value or not _PLAIN_KEY.match(key.removeprefix("- ")):
        return 'title: "@home"' if at.char in ("@", "`") else 'title: "Note: urgent"'
    quote = "'" if '"' in value else '"'
    value = value.replace("'", "''") if quote == "'" else value
    return f"{key}: {quote}{value}{quote}"


def _kind(value: object) -> str:
    """How YAML read a scalar, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    return "a " + type(value).__name__


def _short(tag: str) -> str:
    """``tag:yaml.org,2002:int`` -> ``!!int``."""
    return "!!" + tag.removeprefix(_YAML) if tag.startswith(_YAML) else tag
