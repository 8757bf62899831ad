"""The values that cross the seam between the kubelet-facing layer and per-kind code.

They are plain frozen dataclasses, independent of gRPC and of the Kubernetes client, so a
Preparer is written and tested without either, and so the checkpoint can store them as JSON
and hand them back after a restart exactly as they were.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dra_reference.cdi import ContainerEdits

JSON = Any  # a value json.dumps accepts; opaque parameters and undo data are such values
ClaimJSON = dict[str, Any]  # a ResourceClaim as the API server's JSON has it


@dataclass(frozen=True)
class ClaimRef:
    """The three fields the kubelet sends for a claim; all of them are required."""

    namespace: str
    name: str
    uid: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} ({self.uid})"


@dataclass(frozen=True)
class OpaqueConfig:
    """One opaque configuration for this driver, from the DeviceClass or from the claim."""

    source: str  # "FromClass" | "FromClaim"
    requests: tuple[str, ...]  # empty: every request
    parameters: JSON


@dataclass(frozen=True)
class AllocatedDevice:
    """One allocation result for this driver, with the configuration that applies to it.

    ``request`` has its ``/subrequest`` suffix stripped (that is what the kubelet expects
    back); ``subrequest`` keeps the alternative the scheduler picked. ``configs`` are the
    applicable ones in precedence order (class first, claim last) and ``parameters`` merges
    them key by key, later winning, so the claim's settings override the class's.
    """

    request: str
    pool: str
    device: str
    subrequest: str = ""
    share_id: str | None = None
    admin_access: bool = False
    configs: tuple[OpaqueConfig, ...] = ()
    parameters: Mapping[str, JSON] = field(default_factory=dict)
    # The scheduler's share of a consumable-capacity device (DRAConsumableCapacity), by
    # capacity name, as quantity strings (``{"memory": "512Mi"}``); empty for whole devices.
    consumed_capacity: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PrepareRequest:
    """What a Preparer is asked to do: make these devices usable for this claim."""

    claim: ClaimRef
    devices: tuple[AllocatedDevice, ...]


@dataclass(frozen=True)
class PreparedDevice:
    """A Preparer's answer for one allocated device.

    ``edits`` become the device's entry in the claim's CDI spec (empty: nothing to inject, no
    CDI ID). ``undo`` is stored in the checkpoint untouched and handed back on unprepare and
    rollback, so per-kind code can undo its work after a restart.
    """

    allocated: AllocatedDevice
    edits: ContainerEdits = field(default_factory=ContainerEdits)
    undo: Mapping[str, JSON] = field(default_factory=dict)


class HealthStatus(enum.IntEnum):
    """Values equal to the wire enum in both health API versions."""

    UNKNOWN = 0
    HEALTHY = 1
    UNHEALTHY = 2


@dataclass(frozen=True)
class DeviceHealth:
    """One device's health at one moment; a HealthSource yields complete lists of these."""

    pool: str
    device: str
    status: HealthStatus
    last_updated: int  # unix seconds
    timeout_seconds: int = 0  # zero: the kubelet's default
    message: str = ""
