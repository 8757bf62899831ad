"""Kubernetes quantities (``512Mi``, ``1G``, ``268435456``) as whole numbers of bytes.

The scheduler writes consumed capacity back in whatever form the claim asked for, so the
driver must read every suffix ``resource.Quantity`` accepts for sizes. Fractions of a byte
are refused rather than rounded: a region must be exactly the size that was allocated.
"""

from __future__ import annotations

import re
from fractions import Fraction

from dra_reference.errors import InvalidRequestError

BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?P<suffix>[A-Za-z]*)"
                       r"|(?P<mantissa>[0-9.]+)[eE](?P<exponent>[+-]?[0-9]+)")


def parse_bytes(text: str) -> int:
    """``"512Mi"`` -> 536870912; an error names the text when it is no whole byte count."""
    match = _QUANTITY.fullmatch(text.strip())
    if match is None:
        raise InvalidRequestError(f"{text!r} is not a Kubernetes quantity")
    if match["mantissa"] is not None:
        value = Fraction(match["mantissa"]) * Fraction(10) ** int(match["exponent"])
    else:
        suffix = match["suffix"]
        scale = BINARY.get(suffix) or DECIMAL.get(suffix)
        if scale is None:
            raise InvalidRequestError(f"{text!r}: unknown suffix {suffix!r}")
        value = Fraction(match["number"]) * scale
    if value.denominator != 1:
        raise InvalidRequestError(f"{text!r} is not a whole number of bytes")
    return int(value)
