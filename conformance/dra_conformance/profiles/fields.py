"""Reading one YAML mapping with errors that name the field, the problem and the fix.

A driver vendor writes the profile by hand; a message like "deployment.restartCommand: must
be a list of strings (e.g. [kubectl, rollout, restart, ds/x])" saves a round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from dra_conformance.errors import ProfileError


class Fields:
    """A mapping at ``path`` inside ``source``; unknown keys are refused."""

    def __init__(self, source: str, path: str, value: object, known: Iterable[str]) -> None:
        self.source = source
        self.path = path
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.fail("", f"must be a mapping, got {type(value).__name__}")
        self.data: dict[str, Any] = value
        unknown = sorted(set(map(str, value)) - set(known))
        if unknown:
            self.fail(unknown[0], "unknown field", f"known fields here: {', '.join(known)}")

    def where(self, key: str) -> str:
        return ".".join(part for part in (self.path, key) if part) or "<document>"

    def fail(self, key: str, problem: str, fix: str = "") -> NoReturn:
        raise ProfileError(self.source, self.where(key), problem + (f"; {fix}" if fix else ""))

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def string(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            self.fail(key, "is required", "add it")
        if not isinstance(value, str) or not value:
            self.fail(key, f"must be a non-empty string, got {value!r}")
        return value

    def strings(self, key: str, example: str = "") -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(key, f"must be a list of non-empty strings, got {value!r}",
                      f"e.g. {example}" if example else "")
        return tuple(value)

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"must be a number, got {value!r}")
        if not low <= value <= high:
            self.fail(key, f"{value} is out of range", f"use {low}..{high}")
        return float(value)

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping, got {type(value).__name__}")
        return value

    def nested(self, key: str, known: Iterable[str]) -> Fields:
        return Fields(self.source, self.where(key), self.data.get(key), known)

    def choice(self, key: str, default: str | None, allowed: Iterable[str]) -> str:
        allowed = tuple(allowed)
        value = self.string(key, default)
        if value not in allowed:
            self.fail(key, f"{value!r} is not allowed", f"use one of: {', '.join(allowed)}")
        return value
