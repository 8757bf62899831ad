"""Turning discovered devices into ResourceSlices (``resource.k8s.io/v1``) for one pool.

A pool is one node's devices (or, for cameras, one network's). SR-IOV GPUs become
partitionable devices: the physical function and its virtual functions draw on one shared
counter set, so the scheduler never hands out a PF and one of its VFs at the same time. CXL
memory is consumable capacity: many claims share a device, each taking its own amount.
The API keeps shared counters and devices in separate slices, and at most 128 devices each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dra_reference.discovery.model import AttributeValue, Device

MAX_DEVICES_PER_SLICE = 128
CXL_STEP = 256 * 2**20
Slice = dict[str, Any]


@dataclass(frozen=True)
class Pool:
    """One pool of one driver, and where its devices can be used: a node, the nodes a
    selector picks, or (neither given) every node."""

    driver: str
    name: str
    generation: int
    driver_version: str
    node_name: str = ""
    node_uid: str = ""
    node_selector: dict[str, Any] | None = None
    labels: tuple[tuple[str, str], ...] = ()  # extra slice labels (who publishes the pool)


def attribute(value: AttributeValue) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    return {"string": value}


def taint_key(driver: str) -> str:
    return f"{driver}/unhealthy"


def device_entry(device: Device, driver: str, driver_version: str, counters: str) -> Slice:
    entry: Slice = {
        "name": device.name,
        "attributes": {
            **{name: attribute(value) for name, value in device.attributes.items()},
            "driverVersion": {"version": driver_version},
        },
    }
    capacity = dict(device.capacity)
    if device.kind == "cxl" and "memory" in capacity:
        entry["allowMultipleAllocations"] = True
        entry["capacity"] = {"memory": {"value": str(capacity.pop("memory")), "requestPolicy": {
            "default": str(CXL_STEP),
            "validRange": {"min": str(CXL_STEP), "step": str(CXL_STEP)}}}}
    if capacity:
        entry.setdefault("capacity", {}).update(
            {name: {"value": str(value)} for name, value in capacity.items()})
    if counters:
        entry["consumesCounters"] = [{"counterSet": counters, "counters": {
            "memory": {"value": str(device.capacity.get("memory", 0))}}}]
    if not device.healthy:
        entry["taints"] = [{"key": taint_key(driver), "value": "true", "effect": "NoSchedule"}]
    return entry


def counter_sets(devices: Iterable[Device]) -> dict[str, Slice]:
    """One counter set per SR-IOV physical function that has VFs among the devices."""
    by_name = {d.name: d for d in devices}
    parents = {d.parent for d in by_name.values() if d.parent in by_name}
    return {name: {"name": f"{name}-memory", "counters": {
        "memory": {"value": str(by_name[name].capacity.get("memory", 0))}}}
        for name in sorted(parents)}


def build_pool(pool: Pool, devices: list[Device]) -> list[Slice]:
    """Every slice of the pool, ordered and named deterministically."""
    sets = counter_sets(devices)
    entries = []
    for device in sorted(devices, key=lambda d: d.name):
        owner = next((n for n in (device.name, device.parent) if n in sets), "")
        entries.append(device_entry(device, pool.driver, pool.driver_version,
                                    sets[owner]["name"] if owner else ""))
    chunks = [entries[i:i + MAX_DEVICES_PER_SLICE]
              for i in range(0, len(entries), MAX_DEVICES_PER_SLICE)] or [[]]
    bodies: list[Slice] = [{"sharedCounters": list(sets.values())}] if sets else []
    bodies += [{"devices": chunk} for chunk in chunks]
    return [_slice(pool, body, len(bodies), index) for index, body in enumerate(bodies)]


def _slice(pool: Pool, body: Slice, count: int, index: int) -> Slice:
    metadata: Slice = {"name": f"{pool.name}-{pool.driver.replace('.', '-')}-{index}"[:253],
                       "labels": {"app.kubernetes.io/managed-by": pool.driver[:63].strip(".-"),
                                  **dict(pool.labels)}}
    spec: Slice = {"driver": pool.driver, "pool": {
        "name": pool.name, "generation": pool.generation, "resourceSliceCount": count}, **body}
    if pool.node_name:
        spec["nodeName"] = pool.node_name
        if pool.node_uid:
            metadata["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node",
                                            "name": pool.node_name, "uid": pool.node_uid,
                                            "controller": True}]
    elif pool.node_selector is not None:
        spec["nodeSelector"] = pool.node_selector
    else:
        spec["allNodes"] = True
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
            "metadata": metadata, "spec": spec}
