"""Reading user-written JSON/YAML objects field by field, strictly, with errors that name the field.

Opaque claim parameters and the cameras file are both written by people; a typo must fail
loudly at the field it is in (``GpuConfig.sharing.strategy``), never be ignored, or a claim
silently runs with defaults. ``Reader`` takes each known field once and ``done()`` refuses
whatever is left. Errors are raised as the error class the caller picks, so claim parameters
fail one claim and a bad cameras file fails the start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from dra_reference.errors import DriverError

_MISSING: Any = object()


class Reader:
    """One JSON object at ``where``; errors are ``error(message)``."""

    def __init__(self, raw: object, where: str, error: type[DriverError]) -> None:
        self.where = where
        self.error = error
        if not isinstance(raw, Mapping):
            self.fail(f"must be an object, not {type(raw).__name__} {raw!r}")
        self._raw: dict[str, Any] = dict(raw)
        self._taken: set[str] = set()

    def fail(self, message: str, name: str = "") -> NoReturn:
        where = f"{self.where}.{name}" if name else self.where
        raise self.error(f"{where}: {message}")

    def has(self, name: str) -> bool:
        return self._raw.get(name) is not None

    def _get(self, name: str, default: Any) -> Any:
        self._taken.add(name)
        if name in self._raw and self._raw[name] is not None:
            return self._raw[name]
        if default is _MISSING:
            self.fail("is required", name)
        return default

    def string(self, name: str, default: Any = _MISSING, *, choices: Sequence[str] = (),
               pattern: str = "", hint: str = "") -> str:
        if not self.has(name) and default is not _MISSING:
            return str(default)  # defaults are trusted; only what was written is checked
        value = self._get(name, default)
        if not isinstance(value, str):
            self.fail(f"must be a string, not {value!r}", name)
        if choices and value not in choices:
            self.fail(f"{value!r} is not one of {', '.join(choices)}", name)
        if pattern and not re.fullmatch(pattern, value):
            self.fail(f"{value!r} is not valid{'; ' + hint if hint else ''}", name)
        return value

    def integer(self, name: str, default: Any = _MISSING, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"must be an integer, not {value!r}", name)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.fail(f"{value} is outside {minimum}..{maximum}", name)
        return value

    def boolean(self, name: str, default: Any = _MISSING) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            self.fail(f"must be true or false, not {value!r}", name)
        return value

    def strings(self, name: str, *, choices: Sequence[str] = ()) -> tuple[str, ...]:
        value = self._get(name, [])
        if not isinstance(value, list):
            self.fail(f"must be a list of strings, not {value!r}", name)
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.fail(f"must be a string, not {item!r}", f"{name}[{index}]")
            if choices and item not in choices:
                self.fail(f"{item!r} is not one of {', '.join(choices)}", f"{name}[{index}]")
        return tuple(value)

    def object(self, name: str, *, required: bool = False) -> Reader | None:
        value = self._get(name, _MISSING if required else None)
        return None if value is None else Reader(value, f"{self.where}.{name}", self.error)

    def objects(self, name: str) -> list[Reader]:
        value = self._get(name, [])
        if not isinstance(value, list):
            self.fail(f"must be a list of objects, not {value!r}", name)
        return [Reader(item, f"{self.where}.{name}[{index}]", self.error)
                for index, item in enumerate(value)]

    def scalars(self, name: str) -> dict[str, str | int | bool]:
        """A flat object of strings, integers and booleans (setup parameters, labels)."""
        value = self._get(name, {})
        if not isinstance(value, Mapping):
            self.fail(f"must be an object, not {value!r}", name)
        for key, item in value.items():
            if not isinstance(item, (str, int, bool)):
                self.fail(f"must be a string, integer or boolean, not {item!r}",
                          f"{name}.{key}")
        return dict(value)

    def done(self) -> None:
        """Refuse fields nobody asked for: a misspelt field is an error, not a default."""
        unknown = sorted(set(self._raw) - self._taken)
        if unknown:
            known = ", ".join(sorted(self._taken)) or "none"
            self.fail(f"unknown field {unknown[0]!r} (known fields: {known})", "")
