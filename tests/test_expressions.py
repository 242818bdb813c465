"""The whitelisting condition evaluator (engine.expressions)."""

from __future__ import annotations

import ast
import math
import operator
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import engine
from engine.expressions import (
    MAX_DEPTH,
    MAX_INT,
    MAX_NODES,
    MAX_SIZE,
    Expression,
    ExpressionError,
    evaluate,
    parse_condition,
    truthy,
)

# -- what process designers write -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("amount > 1000", {"amount": 1500}, True),
        ("amount > 1000", {"amount": 1000}, False),
        ("a and not b", {"a": True, "b": False}, True),
        ("a and not b", {"a": True, "b": True}, False),
        ("status in ['x', 'y']", {"status": "y"}, True),
        ("status in ['x', 'y']", {"status": "z"}, False),
        ("status not in ('x', 'y')", {"status": "z"}, True),
        ("x + 2 * y >= 10", {"x": 4, "y": 3}, True),
        ("x + 2 * y >= 10", {"x": 3, "y": 3}, False),
        ("(x + 2) * y", {"x": 1, "y": 3}, 9),
        ("1 < x < 3", {"x": 2}, True),
        ("1 < x < 3", {"x": 3}, False),
        ("1 < x <= 3 != y", {"x": 3, "y": 3}, False),
        ("x != 1", {"x": 2}, True),
        ("x != 1", {"x": 1}, False),
        ("7 / 2", {}, 3.5),
        ("7 // 2", {}, 3),
        ("-7 % 3", {}, 2),
        ("+x", {"x": 2.5}, 2.5),
        ("a or 'fallback'", {}, "fallback"),
        ("a or 'fallback'", {"a": "given"}, "given"),
        ("'high' if amount > 1000 else 'low'", {"amount": 5}, "low"),
        ("customer['tier'] == 'gold'", {"customer": {"tier": "gold"}}, True),
        ("items[0]", {"items": [7, 8]}, 7),
        ("items[-1]", {"items": [7, 8]}, 8),
        ("'ab' + name", {"name": "cd"}, "abcd"),
        ("[1] + [2]", {}, [1, 2]),
        ("'ab' * 3", {}, "ababab"),
        ("2 * (0,)", {}, (0, 0)),
        ("{1, 2} == {2, 1}", {}, True),
        ("true and not false", {}, True),
        ("null", {}, None),
        ("True and None is None", {}, True),
        ("x is not None", {"x": 0}, True),
        ("flag is true", {"flag": True}, True),
        ("True + 1", {}, 2),
        ("'b' in 'abc'", {}, True),
        ("key in mapping", {"key": "k", "mapping": {"k": 1}}, True),
    ],
)
def test_allowed_conditions(text: str, data: dict[str, Any], expected: Any) -> None:
    assert evaluate(text, data) == expected
    assert parse_condition(text).evaluate(data) == expected
    assert truthy(text, data) is bool(expected)


def test_chained_comparison_short_circuits_like_python() -> None:
    # the second comparison would be a type error, but the first is already false
    assert evaluate("1 > 2 < 'a'", {}) is False


def test_and_or_short_circuit_skips_errors() -> None:
    assert evaluate("false and 'a' < 1", {}) is False
    assert evaluate("true or 1 // 0", {}) is True


def test_surrounding_whitespace_and_newlines_inside_brackets() -> None:
    assert evaluate("\n   amount > 1000  \n", {"amount": 2000}) is True
    assert evaluate("(amount >\n 1000)", {"amount": 2000}) is True


# -- None semantics (API.md: a missing name is None; comparisons with None are false) ------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("missing", None),
        ("missing > 1000", False),
        ("missing < 1000", False),
        ("missing >= missing", False),
        ("1 <= missing", False),
        ("missing == None", True),
        ("missing is None", True),
        ("missing == 0", False),
        ("missing != 1000", True),
        ("missing + 1", None),
        ("missing * 2 > 10", False),
        ("-missing", None),
        ("not missing", True),
        ("1 in missing", False),
        ("1 not in missing", True),
        ("missing in 'abc'", False),
        ("missing in [1, None]", True),
        ("missing['key']", None),
        ("d['absent']", None),
        ("items[5]", None),
        ("items[-3]", None),
    ],
)
def test_missing_names_are_none(text: str, expected: Any) -> None:
    assert evaluate(text, {"d": {"k": 1}, "items": [1, 2]}) == expected


# -- known escapes are refused when the condition is parsed ---------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("__import__('os').system('x')", "function calls are not allowed"),
        ("().__class__.__mro__", "attribute access is not allowed"),
        ("().__class__.__bases__[0].__subclasses__()", "function calls are not allowed"),
        ("'x'*10**9", "operator '**' is not allowed"),
        ("10**10**10", "operator '**' is not allowed"),
        ("[1]*10**9", "operator '**' is not allowed"),
        ("lambda: 1", "lambda expressions are not allowed"),
        ("[x for x in y]", "comprehensions are not allowed"),
        ("{k: 1 for k in y}", "comprehensions are not allowed"),
        ("any(x for x in y)", "function calls are not allowed"),
        ("(x for x in y)", "comprehensions are not allowed"),
        ("{**a}", "dict literals are not allowed"),
        ("{'a': 1}", "dict literals are not allowed"),
        ("f'{a}'", "f-strings are not allowed"),
        ("f'{a.__class__}' == ''", "f-strings are not allowed"),
        ("(a := 1)", "assignment expressions (:=) are not allowed"),
        ("a.b", "attribute access is not allowed"),
        ("open('f')", "function calls are not allowed"),
        ("len(x)", "function calls are not allowed"),
        ("__builtins__", "names starting with '__' are not allowed"),
        ("[*a]", "unpacking with '*' is not allowed"),
        ("items[1:2]", "slices are not allowed"),
        ("1 << 100000", "operator '<<' is not allowed"),
        ("a | b", "operator '|' is not allowed"),
        ("~a", "operator '~' is not allowed"),
        ("a @ b", "operator '@' is not allowed"),
        ("x is 1", "'is' and 'is not' are only allowed with None, True or False"),
        ("b'x'", "bytes literals are not allowed"),
        ("1j", "complex numbers are not allowed"),
        ("...", "'...' is not allowed"),
        ("10000000000000000000", "number out of range (at most 10**18)"),
        ("1e999", "number out of range"),
        ("await x", "'await' is not allowed"),
        ("import os", "invalid syntax"),
        ("x = 1", "invalid syntax"),
        ("a +", "invalid syntax: the condition ends unexpectedly"),
        ("(a", "invalid syntax: '(' was never closed"),
        ("", "condition is empty"),
        ("   \n ", "condition is empty"),
        ("a\0", "condition contains a NUL character"),
    ],
)
def test_refused_at_parse(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_condition(text)
    assert info.value.reason == reason
    assert info.value.text == text
    with pytest.raises(ExpressionError):
        evaluate(text, {"a": 1, "b": 2, "x": 1, "y": [1]})


def test_refused_errors_are_value_errors_with_column() -> None:
    with pytest.raises(ValueError, match=r"^function calls are not allowed \(at column 1\)$"):
        parse_condition("__import__('os')")
    with pytest.raises(ExpressionError) as info:
        parse_condition("amount > 1 and x.y")
    assert info.value.offset == len("amount > 1 and ")
    assert str(info.value) == "attribute access is not allowed (at column 16)"


def test_error_position_on_later_line_and_after_stripped_whitespace() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_condition("(a and\n  b.c)")
    assert info.value.offset == len("(a and\n  ")
    assert str(info.value).endswith("(at line 2, column 3)")
    with pytest.raises(ExpressionError) as info:
        parse_condition("  é < x.y")
    assert info.value.offset == 6  # characters, not UTF-8 bytes


def test_non_text_condition_is_refused() -> None:
    with pytest.raises(ExpressionError, match="a condition must be text, not int"):
        parse_condition(5)  # type: ignore[arg-type]


# -- size and complexity bounds ------------------------------------------------------------------


def test_very_long_text_is_refused() -> None:
    with pytest.raises(ExpressionError, match="condition is too long"):
        parse_condition("a or " * 300 + "b")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 500 + "a" + ")" * 500,  # over the length limit
        "(" * 300 + "a" + ")" * 300,  # Python's own parenthesis limit
        "[" * 100 + "]" * 100,
        "-" * 999 + "1",
        "not " * 240 + "a",
        "a if " * 100 + "b" + " else c" * 100,
        "x" + "[0]" * 300,
    ],
)
def test_deep_nesting_is_an_expression_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_condition(text)


def test_nesting_just_within_the_limit_evaluates() -> None:
    text = "-" * (MAX_DEPTH - 1) + "1"
    assert evaluate(text, {}) == (-1) ** (MAX_DEPTH - 1)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse_condition("-" + text)


def test_node_count_is_bounded() -> None:
    ok = " or ".join(["1"] * (MAX_NODES - 1))  # one BoolOp and its operands
    assert evaluate(ok, {}) == 1
    with pytest.raises(ExpressionError, match="too complex"):
        parse_condition(ok + " or 1")


@pytest.mark.parametrize(
    "text",
    [
        "'x' * 1000000000000",
        "1000000000000 * 'x'",
        "[1] * 1000000000000",
        "('a', 'b') * 1000000000000",
        "s * n",
        "s + s",
    ],
)
def test_repetition_is_refused_before_it_is_built(text: str) -> None:
    data = {"s": "y" * (MAX_SIZE // 2 + 1), "n": 10**15}
    started = time.perf_counter()
    with pytest.raises(ExpressionError, match="result is too long"):
        evaluate(text, data)
    assert time.perf_counter() - started < 1


def test_repetition_within_bound_is_allowed() -> None:
    assert len(evaluate("'x' * n", {"n": MAX_SIZE})) == MAX_SIZE
    assert evaluate("'x' * -3", {}) == ""


@pytest.mark.parametrize(
    "text",
    [
        "999999999999999999 * 999999999999999999",
        "1000000000000000000 + 1",
        "-1000000000000000000 - 1",
        "big + 0",
        "-big",
        "1e308 * 10",
        "1e308 + 1e308",
    ],
)
def test_numbers_are_bounded(text: str) -> None:
    with pytest.raises(ExpressionError, match="number out of range"):
        evaluate(text, {"big": 10**40})


def test_numbers_at_the_bound_are_allowed() -> None:
    assert evaluate("1000000000000000000 - 1 + 1", {}) == MAX_INT
    assert evaluate("big > 1", {"big": 10**40}) is True  # comparing is fine


def test_step_budget_bounds_work_over_large_data() -> None:
    big = list(range(600_000))
    assert evaluate("-1 in big", {"big": big}) is False
    with pytest.raises(ExpressionError, match="too long to evaluate"):
        evaluate("-1 in big or -2 in big", {"big": big})


# -- evaluation errors are ExpressionErrors, never TypeError ---------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("'a' < 1", "cannot compare str and int with '<'"),
        ("[1] >= {'a'}", "cannot compare list and set with '>='"),
        ("'a' + 1", "unsupported operand types for +: str and int"),
        ("[1] - [1]", "unsupported operand types for -: list and list"),
        ("'%s' % x", "unsupported operand types for %: str and int"),
        ("[1] + (1,)", "unsupported operand types for +: list and tuple"),
        ("'ab' * 1.5", "unsupported operand types for *: str and float"),
        ("-'a'", "bad operand type for unary -: str"),
        ("1 in 5", "cannot look for int in int"),
        ("1 in 'abc'", "cannot look for int in str"),
        ("[1] in {1}", "cannot look for list in set"),
        ("{[1]}", "set items must be hashable"),
        ("x[0]", "values of type int cannot be indexed"),
        ("items['a']", "index must be an integer, not str"),
        ("mapping[[1]]", "unusable key of type list"),
        ("1 / 0", "division by zero"),
        ("1 // 0", "division by zero"),
        ("1 % 0", "division by zero"),
        ("1.0 / 0", "division by zero"),
    ],
)
def test_evaluation_errors(text: str, reason: str) -> None:
    parse_condition(text)  # syntactically allowed
    with pytest.raises(ExpressionError) as info:
        evaluate(text, {"x": 5, "items": [1], "mapping": {}})
    assert info.value.reason == reason
    assert info.value.offset is not None


# -- the Expression object -----------------------------------------------------------------------


def test_expression_records_the_names_it_reads() -> None:
    expr = parse_condition("amount > limit and status in ['a'] and d['k'] or true or null")
    assert expr == Expression(expr.text, frozenset({"amount", "limit", "status", "d"}))
    assert expr.names == frozenset({"amount", "limit", "status", "d"})
    with pytest.raises(AttributeError):
        expr.text = "other"  # type: ignore[misc]


def test_lowercase_literals_are_not_looked_up() -> None:
    assert evaluate("true", {"true": False}) is True


def test_data_is_only_read() -> None:
    data = {"items": [1, 2], "d": {"k": [3]}}
    evaluate("items + [3] == [1, 2, 3] and d['k'] * 2 == [3, 3]", data)
    assert data == {"items": [1, 2], "d": {"k": [3]}}


# -- property: agrees with a reference interpreter built on the operator module -----------------

Tree = tuple[Any, ...]
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class RefError(Exception):
    """The reference says the evaluator must refuse (division by zero, out of range)."""


def _checked(value: Any) -> Any:
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise RefError
    if isinstance(value, float) and not math.isfinite(value):
        raise RefError
    return value


def reference(tree: Tree) -> Any:
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "neg":
        return _checked(operator.neg(reference(tree[1])))
    if kind == "not":
        return operator.not_(reference(tree[1]))
    if kind == "and":
        left = reference(tree[1])
        return reference(tree[2]) if operator.truth(left) else left
    if kind == "or":
        left = reference(tree[1])
        return left if operator.truth(left) else reference(tree[2])
    left, right = reference(tree[2]), reference(tree[3])
    if kind == "cmp":
        return COMPARE[tree[1]](left, right)
    try:
        return _checked(BINARY[tree[1]](left, right))
    except ZeroDivisionError as err:
        raise RefError from err


def render(tree: Tree) -> str:
    kind = tree[0]
    if kind == "num":
        return f"({tree[1]})"
    if kind == "neg":
        return f"(-{render(tree[1])})"
    if kind == "not":
        return f"(not {render(tree[1])})"
    if kind in ("and", "or"):
        return f"({render(tree[1])} {kind} {render(tree[2])})"
    return f"({render(tree[2])} {tree[1]} {render(tree[3])})"


def depth(tree: Tree) -> int:
    """AST depth of the rendered text (a negative literal is a UnaryOp over a Constant)."""
    if tree[0] == "num":
        return 2 if tree[1] < 0 else 1
    return 1 + max(depth(t) for t in tree[1:] if isinstance(t, tuple))


def trees() -> st.SearchStrategy[Tree]:
    leaves = st.tuples(st.just("num"), st.integers(-(10**6), 10**6))

    def extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
        return st.one_of(
            st.tuples(st.sampled_from(["neg", "not"]), children),
            st.tuples(st.sampled_from(["and", "or"]), children, children),
            st.tuples(st.just("bin"), st.sampled_from(sorted(BINARY)), children, children),
            st.tuples(st.just("cmp"), st.sampled_from(sorted(COMPARE)), children, children),
        )

    return st.recursive(leaves, extend, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(trees())
def test_agrees_with_reference_interpreter(tree: Tree) -> None:
    assume(depth(tree) <= MAX_DEPTH)
    text = render(tree)
    try:
        expected = reference(tree)
    except RefError:
        with pytest.raises(ExpressionError):
            evaluate(text, {})
        return
    result = evaluate(text, {})
    assert result == expected
    assert type(result) is type(expected)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=2, max_size=6).flatmap(
        lambda xs: st.tuples(
            st.just(xs),
            st.lists(st.sampled_from(sorted(COMPARE)), min_size=len(xs) - 1, max_size=len(xs) - 1),
        )
    )
)
def test_chained_comparisons_agree_with_pairwise_reference(
    case: tuple[list[int], list[str]],
) -> None:
    values, ops = case
    names = [f"v{i}" for i in range(len(values))]
    text = names[0] + "".join(f" {op} {name}" for op, name in zip(ops, names[1:], strict=True))
    expected = all(COMPARE[op](a, b) for op, a, b in zip(ops, values, values[1:], strict=False))
    assert evaluate(text, dict(zip(names, values, strict=True))) is expected


# -- the engine package never calls eval/exec/compile ------------------------------------------

FORBIDDEN_NAMES = frozenset({"eval", "exec", "compile", "__import__"})
FORBIDDEN_ATTRIBUTES = frozenset({"eval", "exec"})


def forbidden_calls(source: str, filename: str) -> list[str]:
    """``file:line name`` for every call of eval/exec/compile (or ``x.eval``/``x.exec``)."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
            found.append(f"{filename}:{node.lineno} {func.id}")
        elif isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_ATTRIBUTES:
            found.append(f"{filename}:{node.lineno} .{func.attr}")
    return found


def test_scanner_finds_forbidden_calls() -> None:
    snippet = "x = eval('1')\nbuiltins.exec('y')\ncompile('1', 'f', 'eval')\nre.compile('a')\n"
    assert forbidden_calls(snippet, "s.py") == ["s.py:1 eval", "s.py:2 .exec", "s.py:3 compile"]


def test_engine_package_has_no_eval_or_exec_calls() -> None:
    root = Path(engine.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert root / "expressions.py" in files and root / "spiff_script.py" in files
    found = [
        hit
        for path in files
        for hit in forbidden_calls(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    ]
    assert found == []
