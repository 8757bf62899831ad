"""Device health reaching the pod: a fault injected through fakehw shows in the pod's status.

A running pod holds one device of the node under test; fakehw marks that device unhealthy
where its kernel driver would show it. The driver must notice and report it on its health
stream, and the kubelet then lists the device as Unhealthy in the container's
``allocatedResourcesStatus``. The device is made healthy again afterwards, and the test waits
until the driver publishes it untainted, so later tests find the node as it was.
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
TIMEOUT = 90.0
REASON = "conformance test: injected fault"


def health_seen(workloads: Workloads, pod: str) -> list[str]:
    """The health the pod's status gives the devices of its claim ``devices`` (the kubelet
    names the entry ``claim:devices``, its resources by their CDI IDs): "Health: message"."""
    status = workloads.core.read_namespaced_pod(pod, workloads.namespace).status
    found = []
    for container in status.container_statuses or ():
        for entry in container.allocated_resources_status or ():
            if str(entry.name).partition("/")[0] == "claim:devices":
                found += [f"{r.health}: {r.message or ''}" for r in entry.resources or ()]
    return found


def unhealthy(seen: list[str]) -> bool:
    return any(health.startswith("Unhealthy:") for health in seen)


def published(api_client: Any, driver: str, node: str, device: str) -> dict[str, Any]:
    for item in slices.fetch(api_client, driver):
        if item["spec"].get("nodeName") == node:
            for entry in item["spec"].get("devices") or ():
                if entry["name"] == device:
                    return dict(entry)
    return {}


@pytest.mark.requirement("DRA-FEAT-HEALTH-002")
def test_device_health_reaches_the_pod_status(
        dra_workloads: Workloads, dra_api_client: Any, fakehw_root: Path, *,
        dra_profile: DriverProfile, dra_node: str,
        dra_evidence: Callable[[str], None]) -> None:
    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    claim = dra_workloads.claim({"devices": {"requests": [{"name": "dev", "exactly": {
        "deviceClassName": dra_profile.device_classes[0]}}]}})
    pod = dra_workloads.pod(claim, ["sleep", "3600"], dra_profile.injection.image,
                            node=dra_node)
    try:
        state = dra_workloads.wait(pod, lambda s: s.phase == "Running" or (
            not s.scheduled and bool(s.refused)), TIMEOUT)
        assert state.phase == "Running", f"the pod did not start: {state.phase} {state.refused}"
        (result,) = dra_workloads.allocation(claim)
        entry = published(dra_api_client, dra_profile.driver, dra_node, result["device"])
        hardware = [h for h in groundtruth.pci_devices(fakehw_root)
                    if groundtruth.published_as(h, [entry])]
        assert len(hardware) == 1, f"{result['device']} matches fakehw devices {hardware}"
        name = hardware[0]["name"]
        before = health_seen(dra_workloads, pod)
        groundtruth.set_health(fakehw_root, name, healthy=False, reason=REASON)
        try:
            deadline = time.monotonic() + TIMEOUT
            seen = before
            while not unhealthy(seen) and time.monotonic() < deadline:
                time.sleep(1)
                seen = health_seen(dra_workloads, pod)
        finally:
            groundtruth.set_health(fakehw_root, name, healthy=True)
        dra_evidence(f"{result['device']} (fakehw {name}) in pod {pod}: {before or 'no'} "
                     f"health before the fault, {seen} after")
        assert unhealthy(seen), (f"the pod's status never showed {result['device']} "
                                 f"Unhealthy within {TIMEOUT:.0f}s (it showed {seen})")
    finally:
        dra_workloads.delete(pod, claim)
    deadline = time.monotonic() + TIMEOUT  # the device is back, untainted, for later tests
    while published(dra_api_client, dra_profile.driver, dra_node,
                    result["device"]).get("taints") and time.monotonic() < deadline:
        time.sleep(1)
