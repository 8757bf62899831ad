"""A driver's published ResourceSlices, read from the API server as plain JSON-like dicts.

Plain dicts (the API's own field names) rather than client model objects: the allocator
model, the slice checks and the report all read the same shape, and tests can write slices
by hand in that shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dra_conformance.claims.model import DeviceRef

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

Slice = Mapping[str, Any]


def fetch(api_client: ApiClient, driver: str) -> list[dict[str, Any]]:
    """Every ResourceSlice of ``driver``, serialized with the API's field names."""
    from kubernetes import client  # noqa: PLC0415

    api = client.ResourceV1Api(api_client)
    listed = api.list_resource_slice(field_selector=f"spec.driver={driver}",
                                     _request_timeout=30)
    items: list[dict[str, Any]] = api_client.sanitize_for_serialization(  # type: ignore[no-untyped-call]
        listed.items)
    return items


def devices(slices: Iterable[Slice], node: str | None = None) -> list[DeviceRef]:
    """The devices in ``slices`` (of ``node`` when given), in a stable order."""
    found: list[DeviceRef] = []
    for item in slices:
        spec = item.get("spec", {})
        if node is not None and spec.get("nodeName") != node:
            continue
        pool = spec.get("pool", {}).get("name", "")
        found.extend(DeviceRef(pool, d["name"]) for d in spec.get("devices") or ())
    return sorted(set(found), key=lambda d: (d.pool, d.device))


def entries(slices: Iterable[Slice], node: str | None = None
            ) -> dict[tuple[str, str], dict[str, Any]]:
    """Every published device as the slices have it, by pool and device name (of ``node``
    when given)."""
    return {(item["spec"]["pool"]["name"], device["name"]): device for item in slices
            if node is None or item["spec"].get("nodeName") == node
            for device in item["spec"].get("devices") or ()}


def in_class(slices: Iterable[Slice], devices: Iterable[DeviceRef], device_class: str,
             class_selectors: Mapping[str, Sequence[str]]) -> list[DeviceRef]:
    """Those of ``devices`` that ``device_class`` selects, judged by the allocator model."""
    from dra_conformance.model import allocator, inventory  # noqa: PLC0415

    selected = {(d.pool, d.name) for d in allocator.in_class(
        inventory.from_slices(slices), device_class, class_selectors)}
    return [d for d in devices if (d.pool, d.device) in selected]


def nodes(slices: Iterable[Slice]) -> list[str]:
    return sorted({s["spec"]["nodeName"] for s in slices if s.get("spec", {}).get("nodeName")})
