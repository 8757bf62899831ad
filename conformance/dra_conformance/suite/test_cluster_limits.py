"""A node's devices bound how many pods that claim them it runs.

One more pod than the node has devices of the profile's first DeviceClass is pinned to the
node, each claiming one device and holding it (the pods sleep). At most as many as there are
devices may be scheduled, each with a device of its own, and the rest must be refused.
Devices that allow multiple allocations are not counted: they are meant to be shared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dra_conformance.errors import ExpressionError
from dra_conformance.kube.workloads import Workloads
from dra_conformance.model import allocator, inventory
from dra_conformance.model.cel import CelRuntimeError
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
DECIDE_TIMEOUT = 90.0
MAX_PODS = 24  # a node with more devices than this is not filled here


def exclusive_devices(published: list[dict[str, Any]], device_class: str,
                      selectors: dict[str, list[str]], node: str) -> list[inventory.Device]:
    """The class's devices usable on ``node`` that take one allocation at a time."""
    shared = {(s["spec"]["pool"]["name"], d["name"]) for s in published
              for d in s["spec"].get("devices") or () if d.get("allowMultipleAllocations")}
    try:
        chosen = allocator.in_class(inventory.from_slices(published), device_class, selectors)
    except (ExpressionError, CelRuntimeError) as exc:
        pytest.skip(f"DeviceClass {device_class} uses CEL outside the modelled subset: {exc}")
    return [d for d in chosen if d.node in (node, None) and (d.pool, d.name) not in shared]


@pytest.mark.requirement("DRA-ALLOC-007")
def test_no_node_gets_more_pods_than_devices(
        dra_workloads: Workloads, dra_slices: list[dict[str, Any]], *, dra_profile: DriverProfile,
        dra_class_selectors: dict[str, list[str]], dra_node: str | None,
        dra_evidence: Callable[[str], None]) -> None:
    if not dra_profile.device_classes or dra_node is None:
        pytest.skip("needs a DeviceClass (spec.deviceClasses) and a node (--dra-node)")
    device_class = dra_profile.device_classes[0]
    devices = exclusive_devices(dra_slices, device_class, dra_class_selectors, dra_node)
    if not devices or len(devices) >= MAX_PODS:
        pytest.skip(f"{len(devices)} exclusive {device_class} devices on {dra_node}: none, "
                    f"or more than this test fills ({MAX_PODS - 1})")
    claims = [dra_workloads.claim({"devices": {"requests": [{"name": "dev", "exactly": {
        "deviceClassName": device_class}}]}}) for _ in range(len(devices) + 1)]
    pods = [dra_workloads.pod(claim, ["sleep", "3600"], dra_profile.injection.image,
                              node=dra_node) for claim in claims]
    try:
        states = [dra_workloads.wait(pod, lambda s: s.scheduled or bool(s.refused),
                                     DECIDE_TIMEOUT) for pod in pods]
        held = [r["device"] for claim, state in zip(claims, states, strict=True)
                if state.scheduled for r in dra_workloads.allocation(claim)]
        scheduled = sum(state.scheduled for state in states)
        refused = [state.refused for state in states if not state.scheduled]
        dra_evidence(f"{len(pods)} pods for {len(devices)} {device_class} devices on "
                     f"{dra_node}: {scheduled} scheduled holding {sorted(held)}, "
                     f"{len(refused)} refused ({refused[:1]})")
        assert scheduled <= len(devices), f"{scheduled} pods on {len(devices)} devices"
        assert len(set(held)) == len(held), f"a device was given to two claims: {held}"
        assert all(refused), "a pod was neither scheduled nor refused by the scheduler"
        assert refused, "every pod was scheduled"
    finally:
        dra_workloads.delete_pods(*pods)
        dra_workloads.delete_claims(*claims, timeout=DECIDE_TIMEOUT)
