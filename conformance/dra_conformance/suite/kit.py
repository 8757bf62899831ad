"""Small builders the socket tests share: claim names, allocated claim specs, comparisons."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from dra_conformance.claims.model import AllocatedDevice, ClaimSpec, DeviceRef, OpaqueConfig
from dra_conformance.kubelet.client import PrepareResult

__all__ = ["REQUEST", "PrepareResult", "allocated", "describe", "name", "summary"]

REQUEST = "dev"


def name(prefix: str = "c") -> str:
    """A claim name no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


def allocated(driver: str, devices: Sequence[DeviceRef], *, prefix: str = "c",
              request: str = REQUEST, configs: Sequence[OpaqueConfig] = (),
              share_id: str | None = None) -> ClaimSpec:
    """A claim allocated ``devices`` of ``driver`` under one request."""
    return ClaimSpec(name(prefix), tuple(
        AllocatedDevice(request, driver, d.pool, d.device, share_id=share_id)
        for d in devices), tuple(configs))


def summary(result: PrepareResult) -> list[tuple[tuple[str, ...], str, str, tuple[str, ...]]]:
    """A prepare answer as sorted tuples, to compare two answers."""
    return sorted((d.request_names, d.pool, d.device, tuple(sorted(d.cdi_ids)))
                  for d in result.devices)


def describe(result: PrepareResult) -> str:
    if result.error:
        return f"error {result.error!r}"
    return ", ".join(f"{d.pool}/{d.device} -> {list(d.cdi_ids)}" for d in result.devices)
