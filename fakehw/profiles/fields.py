"""Reading one mapping of a user's profile, with errors that name the exact field.

Every accessor takes the field's name, knows its path (``spec.gpus[1].memory``) and raises
``ProfileError`` saying what was wrong and what to write instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

from fakehw.errors import ProfileError

T = TypeVar("T")


class Fields:
    """A mapping at ``path`` in the profile read from ``source``."""

    def __init__(self, source: str, path: str, data: object, known: tuple[str, ...]) -> None:
        self.source = source
        self.path = path
        if not isinstance(data, dict):
            self.fail("", f"expected a mapping, got {type(data).__name__}",
                      f"write {path or 'the document'} as key: value pairs")
        self.data: dict[str, object] = {str(key): value for key, value in data.items()}
        unknown = sorted(set(self.data) - set(known))
        if unknown:
            self.fail(unknown[0], "unknown field", f"use one of: {', '.join(known)}")

    def where(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path and name else (self.path or name)

    def fail(self, name: str, problem: str, fix: str) -> NoReturn:
        raise ProfileError(self.source, self.where(name) or "<document>", problem, fix)

    def has(self, name: str) -> bool:
        return name in self.data

    def required(self, name: str, fix: str) -> object:
        if name not in self.data:
            self.fail(name, "is required", fix)
        return self.data[name]

    def convert(self, name: str, default: T, parse: Callable[[object], T], fix: str) -> T:
        if name not in self.data:
            return default
        try:
            return parse(self.data[name])
        except (TypeError, ValueError) as exc:
            self.fail(name, str(exc), fix)

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(name, f"{value!r} is out of range",
                      f"use a whole number from {low} to {high}")
        return value

    def string(self, name: str, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str) or not value:
            self.fail(name, f"expected a non-empty string, got {value!r}", "quote a text value")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...] | list[str]) -> str:
        value = self.data.get(name, default)
        if value not in choices:
            self.fail(name, f"{value!r} is not supported", f"use one of: {', '.join(choices)}")
        return str(value)

    def items(self, name: str, known: tuple[str, ...]) -> Iterator[Fields]:
        value = self.data.get(name, [])
        if not isinstance(value, list):
            self.fail(name, f"expected a list, got {type(value).__name__}",
                      "write it as a YAML list (lines starting with '-')")
        for index, item in enumerate(value):
            yield Fields(self.source, f"{self.where(name)}[{index}]", item, known)

    def nested(self, name: str, known: tuple[str, ...]) -> Fields:
        return Fields(self.source, self.where(name), self.data.get(name, {}), known)
