"""Partitionable devices: shared counters are drawn by allocations and given back after.

From the driver's slices the suite picks two devices of one node that draw on the same
counter set and cannot be allocated together (say an SR-IOV physical function and one of its
virtual functions), each named by a selector on an attribute only it has. A pod holding the
first must run; a pod asking for the second must then stay pending, unschedulable; once the
first pod and its claim are gone, the second must be scheduled with that very device.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from dra_conformance.kube.workloads import Workloads
from dra_conformance.model import allocator, inventory
from dra_conformance.model.cel import Semver
from dra_conformance.model.quantity import format_quantity
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 120.0
Pair = tuple[str, inventory.Device, inventory.Device, str, str]  # class, big, small, CEL x2


def selector(device: inventory.Device, others: list[inventory.Device]) -> str | None:
    """A CEL selector on one attribute whose value no device in ``others`` shares."""
    for qualified, value in sorted(device.attributes.items()):
        if isinstance(value, Semver) or any(o.attribute(qualified) == value for o in others
                                            if o.key != device.key):
            continue
        domain, _, name = qualified.rpartition("/")
        literal = json.dumps(value) if isinstance(value, str) else str(value).lower()
        return f'device.attributes["{domain}"].{name} == {literal}'
    return None


def conflicting_pair(published: list[dict[str, Any]], classes: tuple[str, ...],
                     class_selectors: dict[str, list[str]]) -> Pair | None:
    """Two devices of one node and class that exclude each other only through counters."""
    devices = inventory.from_slices(published)
    for device_class in classes:
        members = allocator.in_class(devices, device_class, class_selectors)
        drawing = sorted((d for d in members if d.consumes and d.node),
                         key=lambda d: -sum(sum(c.values()) for c in d.consumes.values()))
        for big in drawing:
            usable = [d for d in members if d.node in (big.node, None)]
            for small in drawing:
                if (small.node != big.node or small.key == big.key
                        or not allocator.counter_problems([big, small])):
                    continue
                big_cel, small_cel = selector(big, usable), selector(small, usable)
                if big_cel and small_cel:
                    return device_class, big, small, big_cel, small_cel
    return None


@pytest.mark.requirement("DRA-FEAT-PART-001")
def test_shared_counters_are_drawn_and_given_back(
        dra_workloads: Workloads, dra_slices: list[dict[str, Any]], dra_profile: DriverProfile,
        dra_class_selectors: dict[str, list[str]],
        dra_evidence: Callable[[str], None]) -> None:
    pair = conflicting_pair(dra_slices, dra_profile.device_classes, dra_class_selectors)
    if pair is None:
        pytest.skip("no node publishes two devices of a profile DeviceClass that draw on one "
                    "counter set beyond what it holds, each with an attribute of its own: run "
                    "the driver on hardware it partitions (e.g. an SR-IOV GPU)")
    device_class, big, small, big_cel, small_cel = pair
    node = str(big.node)

    def claim(cel: str) -> str:
        return dra_workloads.claim({"devices": {"requests": [{"name": "dev", "exactly": {
            "deviceClassName": device_class, "selectors": [{"cel": {"expression": cel}}]}}]}})
    image = dra_profile.injection.image
    first = claim(big_cel)
    holder = dra_workloads.pod(first, ["sleep", "3600"], image, node=node)
    second = claim(small_cel)
    waiter: str | None = None
    try:
        held = dra_workloads.wait(holder, lambda s: s.scheduled or bool(s.refused), TIMEOUT)
        assert held.scheduled, f"a pod claiming {big.name} alone was refused: {held.refused}"
        assert [r["device"] for r in dra_workloads.allocation(first)] == [big.name]
        waiter = dra_workloads.pod(second, ["sleep", "3600"], image, node=node)
        blocked = dra_workloads.wait(waiter, lambda s: s.scheduled or bool(s.refused),
                                     TIMEOUT)
        freed_at = "never"
        if not blocked.scheduled:
            dra_workloads.delete(holder, first, timeout=TIMEOUT)
            after = dra_workloads.wait(waiter, lambda s: s.scheduled, TIMEOUT)
            freed_at = "scheduled" if after.scheduled else f"still pending: {after.refused}"
        given = [r["device"] for r in dra_workloads.allocation(second)]
        dra_evidence(f"{device_class} on {node}: {big.name} ({big_cel}) draws "
                     f"{_drawn(big)}, {small.name} ({small_cel}) draws {_drawn(small)}; while "
                     f"{big.name} was held the second pod was "
                     f"{'scheduled' if blocked.scheduled else 'refused: ' + blocked.refused}; "
                     f"after it was freed: {freed_at}, with {given}")
        assert not blocked.scheduled, (
            f"{small.name} was allocated while {big.name} held its counters "
            f"({allocator.counter_problems([big, small])})")
        assert freed_at == "scheduled", f"{small.name} stayed unallocatable once freed"
        assert given == [small.name]
    finally:
        dra_workloads.delete_pods(*[p for p in (holder, waiter) if p])
        dra_workloads.delete_claims(first, second, timeout=TIMEOUT)


def _drawn(device: inventory.Device) -> str:
    return ", ".join(f"{counter} {format_quantity(amount)} of {name}"
                     for name, counters in device.consumes.items()
                     for counter, amount in counters.items())
