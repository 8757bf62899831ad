"""A prepare that fails for a while: the pod waits and the kubelet retries until it works.

fakehw hot-unplugs a device of the node under test. A claim allocated that device cannot be
prepared, so its pod must stay pending, with a FailedPrepareDynamicResources event carrying
the driver's NodePrepareResources error. Once the device is plugged back in, a retry of the
kubelet's own must prepare it and the pod run. The suite never calls the driver here; it
only touches the pod (an annotation) after the replug, which makes the kubelet sync the pod
at once instead of at its next resync of the pod, up to a minute and a half later (what the
driver is asked, a second NodePrepareResources of the claim, is the same either way).

The scheduler would not allocate a device the driver no longer publishes, so the suite plays
its part: it writes the allocation, binds the pod to the node and reserves the claim for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dra_conformance import groundtruth, slices
from dra_conformance.kube.workloads import Workloads
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
FAILED_WITHIN = 60.0  # the kubelet's first attempt comes once the pod is bound
TIMEOUT = 150.0


def unpluggable(published: list[dict[str, Any]], node: str, hardware: list[dict[str, Any]],
                in_class: set[tuple[str, str]]) -> tuple[dict[str, Any], str, str]:
    """A device of the class on ``node`` that fakehw can unplug: (it, fakehw name, pool)."""
    for item in published:
        pool = item["spec"]["pool"]["name"]
        if item["spec"].get("nodeName") != node:
            continue
        for device in item["spec"].get("devices") or ():
            if (pool, device["name"]) not in in_class:
                continue
            names = [h["name"] for h in hardware if groundtruth.published_as(h, [device])]
            if len(names) == 1:
                return device, names[0], pool
    pytest.skip(f"no device of the class on {node} matches a fakehw PCI device to unplug")


@pytest.mark.requirement("DRA-PREP-008")
def test_failed_prepare_is_retried_while_the_pod_waits(
        dra_workloads: Workloads, dra_slices: list[dict[str, Any]], fakehw_root: Path, *,
        dra_profile: DriverProfile, dra_node: str, dra_class_selectors: dict[str, list[str]],
        dra_evidence: Callable[[str], None]) -> None:
    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    device_class = dra_profile.device_classes[0]
    in_class = {(d.pool, d.device) for d in slices.in_class(
        dra_slices, slices.devices(dra_slices, dra_node), device_class, dra_class_selectors)}
    device, name, pool = unpluggable(dra_slices, dra_node,
                                     groundtruth.pci_devices(fakehw_root), in_class)
    claim = dra_workloads.claim({"devices": {"requests": [{"name": "dev", "exactly": {
        "deviceClassName": device_class}}]}})
    groundtruth.unplug(fakehw_root, name)
    plugged = False
    pod = ""
    try:
        dra_workloads.allocate(claim, [{"request": "dev", "driver": dra_profile.driver,
                                        "pool": pool, "device": device["name"]}], dra_node)
        pod = dra_workloads.pod(claim, ["sleep", "3600"], dra_profile.injection.image,
                                node=dra_node, bound=True)
        dra_workloads.reserve(claim, pod)
        started = time.monotonic()
        events = failed_prepares(dra_workloads, FAILED_WITHIN)
        failing = dra_workloads.state(pod)
        failed_for = time.monotonic() - started
        groundtruth.replug(fakehw_root, name)
        plugged = True
        dra_workloads.nudge(pod)
        state = dra_workloads.wait(pod, lambda s: s.phase == "Running", TIMEOUT)
        dra_evidence(f"{device['name']} (fakehw {name}) unplugged: pod {failing.phase} after "
                     f"{failed_for:.0f}s, {len(events)} FailedPrepareDynamicResources events "
                     f"({events[:1]}); replugged: pod {state.phase} "
                     f"{time.monotonic() - started - failed_for:.0f}s later")
        assert failing.phase == "Pending", f"the pod went {failing.phase} without its device"
        assert events, (f"no FailedPrepareDynamicResources event with the driver's error "
                        f"within {FAILED_WITHIN:.0f}s while the device was missing")
        assert state.phase == "Running", (f"the pod was still {state.phase} {TIMEOUT:.0f}s "
                                          "after the device came back: no retry prepared it")
    finally:
        if not plugged:
            groundtruth.replug(fakehw_root, name)
        if pod:
            dra_workloads.delete(pod, claim)
        else:
            dra_workloads.delete_claims(claim)


def failed_prepares(workloads: Workloads, timeout: float) -> list[str]:
    """FailedPrepareDynamicResources events from NodePrepareResources, once there is one
    (or none after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        events = [e for e in workloads.events("FailedPrepareDynamicResources")
                  if "NodePrepareResources" in e]
        if events or time.monotonic() > deadline:
            return events
        time.sleep(0.5)
