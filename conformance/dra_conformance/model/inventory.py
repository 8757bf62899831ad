"""Devices as the allocator sees them, read from ResourceSlices (API field names).

CEL sees attributes and capacities grouped by domain: ``gpu.example.com/model`` and (for the
driver's own, unqualified) ``model`` both live under their domain, the driver name by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dra_conformance.model.cel import Quantity, Semver
from dra_conformance.model.quantity import parse

Value = int | bool | str | Semver


@dataclass(frozen=True)
class Device:
    driver: str
    pool: str
    name: str
    node: str | None = None
    attributes: Mapping[str, Value] = field(default_factory=dict)  # qualified names
    capacity: Mapping[str, Quantity] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.driver, self.pool, self.name)

    def cel(self) -> dict[str, Any]:
        """The ``device`` variable of a selector."""
        return {"driver": self.driver, "attributes": _by_domain(self.attributes),
                "capacity": _by_domain(self.capacity)}

    def attribute(self, qualified: str) -> Value | None:
        return self.attributes.get(qualified)


def _by_domain(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    for qualified, value in values.items():
        domain, _, name = qualified.rpartition("/")
        grouped.setdefault(domain, {})[name] = value
    return grouped


def _qualify(name: str, driver: str) -> str:
    return name if "/" in name else f"{driver}/{name}"


def _value(raw: Mapping[str, Any]) -> Value:
    if "version" in raw:
        return Semver.parse(str(raw["version"]))
    for key in ("bool", "int", "string"):
        if key in raw:
            value: Value = raw[key]
            return value
    raise ValueError(f"attribute value {raw!r} has no bool, int, string or version")


def from_slices(slices: Iterable[Mapping[str, Any]]) -> list[Device]:
    """Every device in ``slices``, in a stable order."""
    devices = []
    for item in slices:
        spec = item.get("spec", {})
        driver = spec["driver"]
        for raw in spec.get("devices") or ():
            devices.append(Device(
                driver=driver, pool=spec.get("pool", {}).get("name", ""), name=raw["name"],
                node=spec.get("nodeName"),
                attributes={_qualify(k, driver): _value(v)
                            for k, v in (raw.get("attributes") or {}).items()},
                capacity={_qualify(k, driver): Quantity(parse(str(v["value"])))
                          for k, v in (raw.get("capacity") or {}).items()}))
    return sorted(devices, key=lambda d: d.key)
