"""Devices as the allocator sees them, read from ResourceSlices (API field names).

CEL sees attributes and capacities grouped by domain: ``gpu.example.com/model`` and (for the
driver's own, unqualified) ``model`` both live under their domain, the driver name by default.
A partitionable device also carries what it draws from its pool's shared counter sets and
how much each of those sets holds, so the allocator model can keep a PF and its VFs apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
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
    consumes: Mapping[str, Mapping[str, Fraction]] = field(default_factory=dict)  # set: use
    counter_sets: Mapping[str, Mapping[str, Fraction]] = field(default_factory=dict)  # held

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
    slices = list(slices)
    sets = shared_counters(slices)
    devices = []
    for item in slices:
        spec = item.get("spec", {})
        driver, pool = spec["driver"], spec.get("pool", {}).get("name", "")
        for raw in spec.get("devices") or ():
            consumes = {entry["counterSet"]: _counters(entry.get("counters"))
                        for entry in raw.get("consumesCounters") or ()}
            devices.append(Device(
                driver=driver, pool=pool, name=raw["name"], node=spec.get("nodeName"),
                attributes={_qualify(k, driver): _value(v)
                            for k, v in (raw.get("attributes") or {}).items()},
                capacity={_qualify(k, driver): Quantity(parse(str(v["value"])))
                          for k, v in (raw.get("capacity") or {}).items()},
                consumes=consumes,
                counter_sets={name: sets.get((driver, pool, name), {}) for name in consumes}))
    return sorted(devices, key=lambda d: d.key)


def shared_counters(slices: Iterable[Mapping[str, Any]]
                    ) -> dict[tuple[str, str, str], dict[str, Fraction]]:
    """Each pool's counter sets by (driver, pool, set name): counter -> amount held."""
    sets: dict[tuple[str, str, str], dict[str, Fraction]] = {}
    for item in slices:
        spec = item.get("spec", {})
        for entry in spec.get("sharedCounters") or ():
            key = (spec["driver"], spec.get("pool", {}).get("name", ""), entry["name"])
            sets[key] = _counters(entry.get("counters"))
    return sets


def _counters(raw: Mapping[str, Any] | None) -> dict[str, Fraction]:
    return {name: parse(str(value["value"])) for name, value in (raw or {}).items()}
