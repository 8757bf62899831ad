"""What a socket-level test asks a ClaimStore for: an allocated claim and its reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClaimRef:
    """The three fields the kubelet sends the driver."""

    namespace: str
    name: str
    uid: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} ({self.uid})"


@dataclass(frozen=True)
class DeviceRef:
    """A device the driver publishes: pool and device name, as in ResourceSlices."""

    pool: str
    device: str


@dataclass(frozen=True)
class AllocatedDevice:
    """One allocation result; ``request`` may name a subrequest (``main/sub``)."""

    request: str
    driver: str
    pool: str
    device: str
    share_id: str | None = None
    consumed_capacity: dict[str, str] | None = None


@dataclass(frozen=True)
class OpaqueConfig:
    """An opaque config of the allocation; ``source`` is FromClass or FromClaim."""

    driver: str
    parameters: dict[str, Any]
    source: str = "FromClaim"
    requests: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimSpec:
    """An allocated claim to create; ``results=None`` leaves it unallocated."""

    name: str
    results: tuple[AllocatedDevice, ...] | None
    configs: tuple[OpaqueConfig, ...] = field(default=())

    @property
    def request_names(self) -> tuple[str, ...]:
        """The claim's top-level requests, in order of first use."""
        names: dict[str, None] = {}
        for result in self.results or ():
            names[result.request.partition("/")[0]] = None
        return tuple(names) or ("req",)
