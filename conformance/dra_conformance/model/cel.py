"""The part of CEL that DeviceClass and claim selectors use, parsed and evaluated.

The suite generates selectors itself and must also read the ones in a driver's DeviceClasses,
so it needs an evaluator it controls: literals, ``device.driver``, ``device.attributes[d].n``,
``device.capacity[d].n``, comparisons, ``&& || !``, ``in`` over list literals, ``has()``,
``quantity()``/``semver()`` with ``compareTo``/``isGreaterThan``/``isLessThan``. A missing key
is a runtime error, as in Kubernetes, where it keeps the claim from being allocated;
anything outside the subset raises ExpressionError so a test can say it was not modelled.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dra_conformance.errors import ExpressionError
from dra_conformance.model import quantity


class CelRuntimeError(Exception):
    """Evaluation failed for this device (a missing key, mismatched types)."""


@dataclass(frozen=True, order=True)
class Quantity:
    value: Fraction


@dataclass(frozen=True, order=True)
class Semver:
    parts: tuple[int, int, int]

    @classmethod
    def parse(cls, text: str) -> Semver:
        match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", text)
        if match is None:
            raise CelRuntimeError(f"{text!r} is not a semantic version")
        major, minor, patch = (int(g) for g in match.groups())
        return cls((major, minor, patch))


_TOKEN = re.compile(r"""\s*(?:(?P<num>\d+\.\d+|\d+)|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|<=|>=|&&|\|\||[<>!().,\[\]]))""", re.X)
Node = tuple[Any, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:pos + 20]!r} in {text!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return [*out, ("end", "")]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[min(self.pos, len(self.tokens) - 1)]

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'!r}, found {token[1]!r} in "
                                  f"{self.text!r}")
        self.pos += 1
        return token

    def parse(self) -> Node:
        node = self.binary(0)
        if self.peek()[0] != "end":
            raise ExpressionError(f"unexpected {self.peek()[1]!r} in {self.text!r}")
        return node

    LEVELS = (("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">=", "in"))

    def binary(self, level: int) -> Node:
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek()[1] in self.LEVELS[level] and self.peek()[0] != "str":
            op = self.take()[1]
            node = ("op", op, node, self.binary(level + 1))
            if level == 2:  # comparisons do not chain
                break
        return node

    def unary(self) -> Node:
        if self.peek()[1] == "!":
            self.take()
            return ("not", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while self.peek()[1] in (".", "["):
            if self.take()[1] == "[":
                node = ("index", node, self.binary(0))
                self.take("]")
                continue
            kind, name = self.take()
            if kind != "id":
                raise ExpressionError(f"expected a name after '.', found {name!r}")
            if self.peek()[1] == "(":
                node = ("method", node, name, self.arguments())
            else:
                node = ("field", node, name)
        return node

    def arguments(self) -> list[Node]:
        self.take("(")
        args = []
        while self.peek()[1] != ")":
            args.append(self.binary(0))
            if self.peek()[1] == ",":
                self.take()
        self.take(")")
        return args

    def primary(self) -> Node:  # noqa: PLR0911 (one return per kind of literal)
        kind, value = self.take()
        if kind == "num":
            return ("lit", Fraction(value) if "." in value else int(value))
        if kind == "str":
            return ("lit", bytes(value[1:-1], "utf-8").decode("unicode_escape"))
        if value == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if value == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.binary(0))
                if self.peek()[1] == ",":
                    self.take()
            self.take("]")
            return ("list", items)
        if kind == "id":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if self.peek()[1] == "(":
                return ("call", value, self.arguments())
            return ("var", value)
        raise ExpressionError(f"unexpected {value!r} in {self.text!r}")


def compile_expression(text: str) -> Callable[[Mapping[str, Any]], Any]:
    """Parse ``text`` once; the result evaluates it with variables (``device``)."""
    tree = _Parser(text).parse()
    return lambda variables: _eval(tree, variables)


def _eval(node: Node, env: Mapping[str, Any]) -> Any:  # noqa: PLR0911 (one return per node kind)
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "var":
        if node[1] not in env:
            raise ExpressionError(f"unknown variable {node[1]!r}")
        return env[node[1]]
    if kind == "list":
        return [_eval(item, env) for item in node[1]]
    if kind == "not":
        return not _boolean(_eval(node[1], env))
    if kind in ("field", "index"):
        container = _eval(node[1], env)
        key = node[2] if kind == "field" else _eval(node[2], env)
        if not isinstance(container, Mapping):
            raise CelRuntimeError(f"cannot select {key!r} from {type(container).__name__}")  # noqa: S608
        if key not in container:
            raise CelRuntimeError(f"no such key: {key}")
        return container[key]
    if kind == "call":
        return _call(node[1], node[2], env)
    if kind == "method":
        return _method(_eval(node[1], env), node[2], [_eval(a, env) for a in node[3]])
    if kind == "op":
        return _operator(node[1], node[2], node[3], env)
    raise ExpressionError(f"unsupported expression node {kind}")


def _call(name: str, args: list[Node], env: Mapping[str, Any]) -> Any:
    if name == "has":
        target = args[0]
        if target[0] != "field":
            raise ExpressionError("has() needs a field selection, e.g. has(a.b)")
        try:
            container = _eval(target[1], env)
        except CelRuntimeError:
            return False
        return isinstance(container, Mapping) and target[2] in container
    values = [_eval(a, env) for a in args]
    if name == "quantity":
        return Quantity(quantity.parse(str(values[0])))
    if name == "semver":
        return Semver.parse(str(values[0]))
    raise ExpressionError(f"function {name}() is outside the modelled CEL subset")


def _method(target: Any, name: str, args: list[Any]) -> Any:
    if isinstance(target, Quantity | Semver) and name in ("compareTo", "isGreaterThan",
                                                          "isLessThan"):
        other: Any = args[0]
        if type(other) is not type(target):
            raise CelRuntimeError(f"{name}: cannot compare {target} with {other!r}")
        order = _order(target, other)
        return {"compareTo": order, "isGreaterThan": order > 0, "isLessThan": order < 0}[name]
    if isinstance(target, Quantity) and name == "asInteger":
        return int(target.value)
    raise ExpressionError(f"method {name}() on {type(target).__name__} is not modelled")


def _order(left: Any, right: Any) -> int:
    return int(left > right) - int(left < right)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise CelRuntimeError(f"expected a bool, got {value!r}")
    return value


def _operator(op: str, left_node: Node, right_node: Node, env: Mapping[str, Any]) -> Any:
    if op in ("&&", "||"):
        decisive = op == "||"  # the value that decides without the other side
        try:
            left: Any = _boolean(_eval(left_node, env))
        except CelRuntimeError as exc:
            left = exc
        if left is decisive:
            return decisive
        right = _boolean(_eval(right_node, env))  # an error here wins, as in CEL
        if isinstance(left, CelRuntimeError):
            if right is decisive:
                return decisive
            raise left
        return right
    left, right = _eval(left_node, env), _eval(right_node, env)
    if op == "in":
        if not isinstance(right, list | Mapping):
            raise CelRuntimeError(f"'in' needs a list or map, got {right!r}")
        return left in right
    if op in ("==", "!="):
        equal = _comparable(left, right) and left == right
        return equal if op == "==" else not equal
    if not _comparable(left, right):
        raise CelRuntimeError(f"no such overload: {left!r} {op} {right!r}")
    return {"<": left < right, "<=": left <= right, ">": left > right,
            ">=": left >= right}[op]


def _comparable(left: Any, right: Any) -> bool:
    numbers = (int, Fraction)
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool)
    if isinstance(left, numbers) and isinstance(right, numbers):
        return True
    return type(left) is type(right)
