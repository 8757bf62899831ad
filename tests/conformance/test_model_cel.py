"""The CEL subset and quantities the allocator model evaluates selectors with."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from dra_conformance.errors import ExpressionError
from dra_conformance.model import quantity
from dra_conformance.model.cel import CelRuntimeError, Quantity, compile_expression

pytestmark = pytest.mark.unit

DEVICE: dict[str, Any] = {"device": {
    "driver": "gpu.example.com",
    "attributes": {"gpu.example.com": {"model": "a770", "memory": 16, "healthy": True}},
    "capacity": {"gpu.example.com": {"memory": Quantity(Fraction(16 * 2**30))}}}}


@pytest.mark.parametrize(("expression", "value"), [
    ('device.driver == "gpu.example.com"', True),
    ('device.attributes["gpu.example.com"].model == "a770"', True),
    ('device.attributes["gpu.example.com"]["memory"] >= 8', True),
    ('device.attributes["gpu.example.com"].memory > 16', False),
    ('!device.attributes["gpu.example.com"].healthy', False),
    ('device.capacity["gpu.example.com"].memory.compareTo(quantity("8Gi")) >= 0', True),
    ('device.capacity["gpu.example.com"].memory.isLessThan(quantity("16Gi"))', False),
    ('device.attributes["gpu.example.com"].model in ["x", "a770"]', True),
    ('has(device.attributes["gpu.example.com"].missing)', False),
    ('has(device.attributes["other.io"].missing)', False),
    ('has(device.attributes["gpu.example.com"].missing) && '
     'device.attributes["gpu.example.com"].missing == 1', False),
    ('device.attributes["gpu.example.com"].missing == 1 || true', True),
    ("(1 < 2) && (2 <= 2) && (3 != 4)", True),
    ('"a" == 1', False),
    ('semver("1.2.3").compareTo(semver("1.10.0")) < 0', True),
])
def test_expressions(expression: str, value: bool) -> None:
    assert compile_expression(expression)(DEVICE) is value


@pytest.mark.parametrize("expression", [
    'device.attributes["gpu.example.com"].missing == 1',
    'device.attributes["gpu.example.com"].missing == 1 && true',
    'device.attributes["gpu.example.com"].model > 1',
    'device.capacity["gpu.example.com"].memory.compareTo(1) == 0',
    "1 && true",
])
def test_runtime_errors(expression: str) -> None:
    with pytest.raises(CelRuntimeError):
        compile_expression(expression)(DEVICE)


@pytest.mark.parametrize("expression", ["device.", "size(x) > 1", "a ? b : c", "1 +"])
def test_outside_the_subset(expression: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(expression)({"device": {}, "x": [], "a": 1, "b": 1, "c": 1})


@pytest.mark.parametrize(("text", "value"), [
    ("1Gi", 2**30), ("500m", Fraction(1, 2)), ("2", 2), ("1k", 1000), ("1.5G", 1_500_000_000),
    ("1e3", 1000), ("16Mi", 16 * 2**20)])
def test_quantities(text: str, value: Fraction | int) -> None:
    assert quantity.parse(text) == value


@pytest.mark.parametrize("value", [2**30, 3 * 2**20, 7, Fraction(1, 2), 1536])
def test_quantities_round_trip(value: Fraction | int) -> None:
    assert quantity.parse(quantity.format_quantity(Fraction(value))) == value


def test_bad_quantity() -> None:
    with pytest.raises(ExpressionError, match="not a Kubernetes quantity"):
        quantity.parse("lots")
