"""Kubernetes-style quantities ("16Gi", "512Mi") and durations ("500ms", "2s") in profiles."""

from __future__ import annotations

import re

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_QUANTITY = re.compile(r"^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)$")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0}


def parse_bytes(value: object) -> int:
    """Return a byte count from an int or a quantity string; raise ValueError otherwise."""
    if isinstance(value, bool):
        raise TypeError("expected a size")
    if isinstance(value, int):
        return value
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a size")
    number, suffix = match.groups()
    return int(number) * (_BINARY.get(suffix or "") or _DECIMAL.get(suffix or "", 1))


def parse_seconds(value: object) -> float:
    """Return seconds from a number or a duration string such as ``500ms``."""
    if isinstance(value, bool):
        raise TypeError("expected a duration")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def format_bytes(count: int) -> str:
    for suffix, size in sorted(_BINARY.items(), key=lambda kv: -kv[1]):
        if count and count % size == 0:
            return f"{count // size}{suffix}"
    return str(count)
