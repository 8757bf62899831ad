"""A claim as the allocator model reads it: requests, subrequests and constraints.

It mirrors ``ResourceClaimSpec.devices`` closely enough to render back to the API (``to_api``)
so the same generated claim is given to the model and to the real scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Exactly:
    """An ``exactly`` request (or a firstAvailable subrequest)."""

    name: str
    device_class: str
    selectors: tuple[str, ...] = ()
    count: int = 1
    all_devices: bool = False  # allocationMode: All

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"deviceClassName": self.device_class}
        if self.selectors:
            out["selectors"] = [{"cel": {"expression": s}} for s in self.selectors]
        if self.all_devices:
            out["allocationMode"] = "All"
        else:
            out["allocationMode"], out["count"] = "ExactCount", self.count
        return out


@dataclass(frozen=True)
class Request:
    name: str
    exactly: Exactly | None = None
    first_available: tuple[Exactly, ...] = ()

    def alternatives(self) -> tuple[tuple[str, Exactly], ...]:
        """(result request name, spec) in preference order."""
        if self.exactly is not None:
            return ((self.name, self.exactly),)
        return tuple((f"{self.name}/{sub.name}", sub) for sub in self.first_available)

    def to_api(self) -> dict[str, Any]:
        if self.exactly is not None:
            return {"name": self.name, "exactly": self.exactly.to_api()}
        return {"name": self.name, "firstAvailable": [
            {"name": sub.name, **sub.to_api()} for sub in self.first_available]}


@dataclass(frozen=True)
class Constraint:
    requests: tuple[str, ...]  # empty: all requests
    match_attribute: str | None = None
    distinct_attribute: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.requests:
            out["requests"] = list(self.requests)
        if self.match_attribute:
            out["matchAttribute"] = self.match_attribute
        if self.distinct_attribute:
            out["distinctAttribute"] = self.distinct_attribute
        return out


@dataclass(frozen=True)
class ClaimModel:
    requests: tuple[Request, ...]
    constraints: tuple[Constraint, ...] = ()
    class_selectors: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (class, its selectors)

    def to_api(self) -> dict[str, Any]:
        devices: dict[str, Any] = {"requests": [r.to_api() for r in self.requests]}
        if self.constraints:
            devices["constraints"] = [c.to_api() for c in self.constraints]
        return {"devices": devices}
