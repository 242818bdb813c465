"""A whitelisting evaluator for stage and gateway conditions.

Conditions are small expressions over case data (``amount > 1000``,
``status in ['new', 'open'] and not urgent``). They come from process definitions, so they are
never handed to Python's ``eval``: the text is parsed with :func:`ast.parse` and the tree is
checked against a whitelist, then interpreted node by node here.

Allowed: literals (int, float, str, bool, None, and ``true``/``false``/``null``), names (looked
up in the data; a missing name is ``None``), list/tuple/set displays, comparisons (chained),
``in``/``not in``, ``is``/``is not`` against ``None``/``True``/``False``, ``and``/``or``/``not``,
``+ - * / // %``, unary ``-``/``+``, ``x if c else y`` and subscripts (``d["key"]``,
``items[0]``). Everything else (calls, attribute access, ``**``, lambdas, comprehensions,
f-strings, ``:=``, ...) is refused when the condition is parsed.

``None`` semantics: ``==``/``!=`` follow Python; ordering comparisons (``< <= > >=``) with
``None`` on either side are false; arithmetic with ``None`` gives ``None``; ``x in None`` is
false (a missing collection is empty); subscripting ``None`` gives ``None``, as does a missing
key or an index out of range.

Limits keep evaluation cheap: text length, node count, nesting depth, integer range, length of
strings and lists built by ``+``/``*`` (checked before they are built) and a step budget.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

__all__ = [
    "MAX_DEPTH",
    "MAX_INT",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_SIZE",
    "MAX_STEPS",
    "Expression",
    "ExpressionError",
    "evaluate",
    "parse_condition",
    "truthy",
]

MAX_LENGTH: Final = 1000
"""Longest condition text, in characters."""
MAX_NODES: Final = 200
"""Most expression nodes (names, literals, operations) in one condition."""
MAX_DEPTH: Final = 50
"""Deepest nesting of expression nodes."""
MAX_INT: Final = 10**18
"""Integers used in or produced by arithmetic must lie within ``±MAX_INT``."""
MAX_SIZE: Final = 10_000
"""Longest string, list or tuple that ``+`` or ``*`` may build."""
MAX_STEPS: Final = 1_000_000
"""Evaluation budget: one step per node plus the length of every sequence scanned or built."""

LITERAL_NAMES: Final[Mapping[str, None | bool]] = {"true": True, "false": False, "null": None}
"""Lower-case spellings accepted as literals; they are never looked up in the data."""

_NUMBER: Final = (int, float)
_SEQUENCE: Final = (str, list, tuple)
_SIZED: Final = (str, list, tuple, dict, set, frozenset)

_BINARY: Final[dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
}
_REFUSED_BINARY: Final[dict[type[ast.operator], str]] = {
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}
_ORDERING: Final[dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]]] = {
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}
_REFUSED_NODES: Final[dict[type[ast.AST], str]] = {
    ast.Attribute: "attribute access is not allowed",
    ast.Call: "function calls are not allowed",
    ast.Lambda: "lambda expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Dict: "dict literals are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "unpacking with '*' is not allowed",
    ast.Slice: "slices are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}
_ALLOWED_NODES: Final = (
    ast.Constant,
    ast.Name,
    ast.BoolOp,
    ast.UnaryOp,
    ast.BinOp,
    ast.Compare,
    ast.IfExp,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Subscript,
)
_NEWLINE = re.compile(r"\r\n|\r|\n")


class ExpressionError(ValueError):
    """A condition that cannot be parsed, is not allowed, or fails while evaluated.

    ``reason`` is the bare message; ``text`` the condition; ``offset`` the 0-based character
    position in ``text`` the problem was found at, or None. ``str()`` adds the position
    (``"function calls are not allowed (at column 1)"``).
    """

    def __init__(self, reason: str, *, text: str = "", offset: int | None = None) -> None:
        self.reason = reason
        self.text = text
        self.offset = offset
        super().__init__(reason + _where(text, offset))


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _NEWLINE.finditer(text)]


def _where(text: str, offset: int | None) -> str:
    """`` (at column N)`` (1-based) or `` (at line L, column N)`` for multi-line text."""
    if offset is None:
        return ""
    starts = _line_starts(text)
    line = max(i for i, start in enumerate(starts) if start <= offset)
    column = offset - starts[line] + 1
    if len(starts) == 1:
        return f" (at column {column})"
    return f" (at line {line + 1}, column {column})"


@dataclass(frozen=True)
class _Source:
    """The text as given, and the stripped part of it that is parsed."""

    text: str
    lead: int
    body: str

    @classmethod
    def of(cls, text: str) -> _Source:
        stripped = text.lstrip()
        return cls(text, len(text) - len(stripped), stripped.rstrip())

    def offset(self, line: int | None, column: int | None, *, in_bytes: bool) -> int | None:
        """Offset in ``text`` of a 1-based line and 0-based column of ``body``."""
        if not line or column is None:
            return None
        starts = _line_starts(self.body)
        if line > len(starts):
            return self.lead + len(self.body)
        start = starts[line - 1]
        if in_bytes:
            end = starts[line] if line < len(starts) else len(self.body)
            raw = self.body[start:end].encode("utf-8")[:column]
            column = len(raw.decode("utf-8", errors="ignore"))
        return self.lead + min(start + column, len(self.body))

    def node_offset(self, node: ast.AST) -> int | None:
        return self.offset(
            getattr(node, "lineno", None), getattr(node, "col_offset", None), in_bytes=True
        )

    def error(self, reason: str, node: ast.AST | None = None) -> ExpressionError:
        offset = None if node is None else self.node_offset(node)
        return ExpressionError(reason, text=self.text, offset=offset)


@dataclass(frozen=True)
class _Compiled:
    source: _Source
    tree: ast.expr
    names: frozenset[str]


@dataclass(frozen=True)
class Expression:
    """A parsed, whitelisted condition. ``names`` are the data names it reads."""

    text: str
    names: frozenset[str]

    def evaluate(self, data: Mapping[str, Any]) -> Any:
        """The value of the condition over ``data``; raises :class:`ExpressionError`."""
        compiled = _compile(self.text)
        return _Evaluator(compiled.source, data).value(compiled.tree)


def parse_condition(text: str) -> Expression:
    """Parse and check a condition; raises :class:`ExpressionError` saying what is wrong."""
    compiled = _compile(text)
    return Expression(text, compiled.names)


def evaluate(text: str, data: Mapping[str, Any]) -> Any:
    """Parse (cached) and evaluate ``text`` over ``data``."""
    compiled = _compile(text)
    return _Evaluator(compiled.source, data).value(compiled.tree)


def truthy(text: str, data: Mapping[str, Any]) -> bool:
    """Evaluate ``text`` over ``data`` and take its truth value."""
    return bool(evaluate(text, data))


# -- parsing ---------------------------------------------------------------------------


def _compile(text: str) -> _Compiled:
    if not isinstance(text, str):
        raise ExpressionError(f"a condition must be text, not {type(text).__name__}")
    return _compile_text(text)


@lru_cache(maxsize=1024)
def _compile_text(text: str) -> _Compiled:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"condition is too long ({len(text)} characters, at most {MAX_LENGTH})", text=text
        )
    source = _Source.of(text)
    if not source.body:
        raise ExpressionError("condition is empty", text=text)
    if "\0" in source.body:
        raise ExpressionError(
            "condition contains a NUL character", text=text, offset=text.index("\0")
        )
    try:
        tree = ast.parse(source.body, mode="eval")
    except SyntaxError as err:
        raise _syntax_error(source, err) from err
    names = _check(source, tree.body)
    return _Compiled(source, tree.body, names)


def _syntax_error(source: _Source, err: SyntaxError) -> ExpressionError:
    """Python's syntax error, with its position mapped onto the condition text."""
    if err.offset:
        offset = source.offset(err.lineno, err.offset - 1, in_bytes=False)
        reason = "invalid syntax" if err.msg == "invalid syntax" else f"invalid syntax: {err.msg}"
    else:  # CPython gives offset 0 when the text ends in the middle of an expression
        offset = source.lead + len(source.body)
        reason = "invalid syntax: the condition ends unexpectedly"
    return ExpressionError(reason, text=source.text, offset=offset)


def _check(source: _Source, root: ast.expr) -> frozenset[str]:
    """Walk the tree (iteratively, leftmost first) against the whitelist and the limits."""
    names: set[str] = set()
    count = 0
    stack: list[tuple[ast.expr, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise source.error(f"condition is too complex (more than {MAX_NODES} elements)")
        if depth > MAX_DEPTH:
            raise source.error(
                f"condition is nested too deeply (more than {MAX_DEPTH} levels)", node
            )
        _check_node(source, node)
        if isinstance(node, ast.Name) and node.id not in LITERAL_NAMES:
            names.add(node.id)
        children = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
        stack.extend((child, depth + 1) for child in reversed(children))
    return frozenset(names)


def _check_node(source: _Source, node: ast.expr) -> None:
    refused = _REFUSED_NODES.get(type(node))
    if refused is not None:
        raise source.error(refused, node)
    if not isinstance(node, _ALLOWED_NODES):
        raise source.error(f"{type(node).__name__} expressions are not allowed", node)
    if isinstance(node, ast.Constant):
        _check_constant(source, node)
    elif isinstance(node, ast.Name) and node.id.startswith("__"):
        raise source.error("names starting with '__' are not allowed", node)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        raise source.error("operator '~' is not allowed", node)
    elif isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
        symbol = _REFUSED_BINARY.get(type(node.op), type(node.op).__name__)
        raise source.error(f"operator '{symbol}' is not allowed", node)
    elif isinstance(node, ast.Compare):
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot) and not _is_singleton_literal(right):
                raise source.error(
                    "'is' and 'is not' are only allowed with None, True or False", right
                )


def _check_constant(source: _Source, node: ast.Constant) -> None:
    value = node.value
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise source.error("number out of range (at most 10**18)", node)
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise source.error("number out of range", node)
        return
    if isinstance(value, bytes):
        raise source.error("bytes literals are not allowed", node)
    if isinstance(value, complex):
        raise source.error("complex numbers are not allowed", node)
    if value is Ellipsis:
        raise source.error("'...' is not allowed", node)
    raise source.error(f"{type(value).__name__} literals are not allowed", node)


def _is_singleton_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, bool)
    return isinstance(node, ast.Name) and node.id in LITERAL_NAMES


# -- evaluation ------------------------------------------------------------------------


def _type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _size(value: object) -> int:
    return len(value) if isinstance(value, _SIZED) else 0


class _Evaluator:
    """Interprets a checked tree over one data mapping, within the step budget."""

    def __init__(self, source: _Source, data: Mapping[str, Any]) -> None:
        self.source = source
        self.data = data
        self.steps = 0

    def charge(self, cost: int, node: ast.expr) -> None:
        self.steps += cost
        if self.steps > MAX_STEPS:
            raise self.source.error(
                f"condition takes too long to evaluate (more than {MAX_STEPS} steps)", node
            )

    def value(self, node: ast.expr) -> Any:
        self.charge(1, node)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in LITERAL_NAMES:
                return LITERAL_NAMES[node.id]
            return self.data.get(node.id)
        if isinstance(node, ast.BoolOp):
            return self.bool_op(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node, self.value(node.left), self.value(node.right))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            return self.value(node.body if self.value(node.test) else node.orelse)
        if isinstance(node, ast.List):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self.value(e) for e in node.elts)
        if isinstance(node, ast.Set):
            return self.set_display(node)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        # Unreachable for trees that passed _check; refuse rather than guess.
        raise self.source.error(f"{type(node).__name__} expressions are not allowed", node)

    def bool_op(self, node: ast.BoolOp) -> Any:
        want = isinstance(node.op, ast.Or)
        result: Any = None
        for operand in node.values:
            result = self.value(operand)
            if bool(result) is want:
                return result
        return result

    def unary(self, node: ast.UnaryOp) -> Any:
        operand = self.value(node.operand)
        if isinstance(node.op, ast.Not):
            return not operand
        if operand is None:
            return None
        symbol = "-" if isinstance(node.op, ast.USub) else "+"
        if not isinstance(operand, _NUMBER):
            raise self.source.error(
                f"bad operand type for unary {symbol}: {_type_name(operand)}", node
            )
        self.check_number(operand, node)
        return self.check_number(-operand if symbol == "-" else +operand, node)

    def check_number(self, number: Any, node: ast.expr) -> Any:
        if isinstance(number, int) and abs(number) > MAX_INT:
            raise self.source.error("number out of range (at most 10**18)", node)
        if isinstance(number, float) and not math.isfinite(number):
            raise self.source.error("number out of range", node)
        return number

    def binary(self, node: ast.BinOp, left: Any, right: Any) -> Any:
        if left is None or right is None:
            return None
        symbol, function = _BINARY[type(node.op)]
        if isinstance(left, _NUMBER) and isinstance(right, _NUMBER):
            self.check_number(left, node)
            self.check_number(right, node)
            try:
                result = function(left, right)
            except ZeroDivisionError as err:
                raise self.source.error("division by zero", node) from err
            except OverflowError as err:
                raise self.source.error("number out of range", node) from err
            return self.check_number(result, node)
        if symbol == "+" and isinstance(left, _SEQUENCE) and type(left) is type(right):
            return self.sized(len(left) + len(right), node, lambda: operator.add(left, right))
        if symbol == "*":
            if isinstance(left, _SEQUENCE) and isinstance(right, int):
                return self.repeat(left, right, node)
            if isinstance(right, _SEQUENCE) and isinstance(left, int):
                return self.repeat(right, left, node)
        raise self.source.error(
            f"unsupported operand types for {symbol}: {_type_name(left)} and {_type_name(right)}",
            node,
        )

    def repeat(
        self, sequence: str | list[Any] | tuple[Any, ...], count: int, node: ast.expr
    ) -> Any:
        self.check_number(count, node)
        return self.sized(len(sequence) * max(count, 0), node, lambda: sequence * count)

    def sized(self, length: int, node: ast.expr, build: Callable[[], Any]) -> Any:
        """Build a sequence only once its ``length`` is known to be within bounds."""
        if length > MAX_SIZE:
            raise self.source.error(
                f"result is too long ({length} items, at most {MAX_SIZE})", node
            )
        self.charge(length, node)
        return build()

    def set_display(self, node: ast.Set) -> set[Any]:
        items = [self.value(e) for e in node.elts]
        try:
            return set(items)
        except TypeError as err:
            raise self.source.error("set items must be hashable", node) from err

    def subscript(self, node: ast.Subscript) -> Any:
        container = self.value(node.value)
        key = self.value(node.slice)
        if container is None:
            return None
        if isinstance(container, Mapping):
            try:
                return container.get(key)
            except TypeError as err:
                raise self.source.error(
                    f"unusable key of type {_type_name(key)}", node.slice
                ) from err
        if isinstance(container, _SEQUENCE):
            if not isinstance(key, int):
                raise self.source.error(
                    f"index must be an integer, not {_type_name(key)}", node.slice
                )
            return container[key] if -len(container) <= key < len(container) else None
        raise self.source.error(f"values of type {_type_name(container)} cannot be indexed", node)

    def compare(self, node: ast.Compare) -> bool:
        left = self.value(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.value(comparator)
            if not self.compare_pair(op, left, right, node):
                return False
            left = right
        return True

    def compare_pair(self, op: ast.cmpop, left: Any, right: Any, node: ast.expr) -> bool:
        if isinstance(op, ast.Eq | ast.NotEq):
            self.charge(min(_size(left), _size(right)), node)
            equal = bool(left == right)
            return equal if isinstance(op, ast.Eq) else not equal
        if isinstance(op, ast.Is):
            return left is right
        if isinstance(op, ast.IsNot):
            return left is not right
        if isinstance(op, ast.In | ast.NotIn):
            found = self.contains(right, left, node)
            return found if isinstance(op, ast.In) else not found
        symbol, function = _ORDERING[type(op)]
        if left is None or right is None:
            return False
        self.charge(min(_size(left), _size(right)), node)
        try:
            return bool(function(left, right))
        except TypeError as err:
            raise self.source.error(
                f"cannot compare {_type_name(left)} and {_type_name(right)} with '{symbol}'",
                node,
            ) from err

    def contains(self, container: Any, item: Any, node: ast.expr) -> bool:
        if container is None or (item is None and isinstance(container, str)):
            return False
        self.charge(_size(container), node)
        try:
            return item in container
        except TypeError as err:
            raise self.source.error(
                f"cannot look for {_type_name(item)} in {_type_name(container)}", node
            ) from err
