"""Kubernetes resource quantities as exact fractions, for comparing capacities.

``resource.Quantity`` accepts decimal SI suffixes (k, M, G, T, P, E, m), binary ones (Ki..Ei)
and exponents (1e3). Fractions keep "500m" exact where floats would not.
"""

from __future__ import annotations

import re
from fractions import Fraction

from dra_conformance.errors import ExpressionError

_SUFFIX: dict[str, Fraction] = {name: Fraction(value) for name, value in {
    "": 1, "m": 0.001, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
    "Ei": 2**60}.items() if name != "m"} | {"m": Fraction(1, 1000)}
_QUANTITY = re.compile(r"([+-]?\d+(?:\.\d+)?)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[mkMGTPE])?)")


def parse(text: str) -> Fraction:
    """The value of ``text``; ExpressionError if it is not a quantity."""
    match = _QUANTITY.fullmatch(text.strip())
    if match is None:
        raise ExpressionError(f"{text!r} is not a Kubernetes quantity (e.g. 10Gi, 500m, 2)")
    number, exponent, suffix = match.groups()
    value = Fraction(number)
    if exponent:
        return value * Fraction(10) ** int(exponent[1:])
    return value * _SUFFIX[suffix or ""]


def format_quantity(value: Fraction) -> str:
    """A canonical spelling: binary suffixes for exact multiples of 1Ki, else plain/milli."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _SUFFIX[suffix]
        if value and value % unit == 0:
            return f"{value // unit}{suffix}"
    if value.denominator == 1:
        return str(value.numerator)
    return f"{int(value * 1000)}m"
