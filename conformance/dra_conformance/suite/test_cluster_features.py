"""Optional DRA features through real pods: device taints and admin access.

Taints: fakehw marks every device of the first DeviceClass on the node under test unhealthy;
a driver claiming deviceTaints then taints them. A claim that does not tolerate the taints
must not get one of them; a claim that tolerates them must. Health is restored afterwards,
and the test waits until the devices are published untainted again.

Admin access: a claim asking for it is refused in a namespace without the admin-access
label, and allocated (its pod running the injection check) in one with the label.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dra_conformance import groundtruth, slices
from dra_conformance.kube.workloads import Workloads, check_command
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 90.0
ADMIN_LABEL = "resource.kubernetes.io/admin-access"
Evidence = Callable[[str], None]


def request(device_class: str, **extra: Any) -> dict[str, Any]:
    return {"devices": {"requests": [{"name": "dev", "exactly": {
        "deviceClassName": device_class, **extra}}]}}


def local_devices(api_client: Any, driver: str, node: str) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for s in slices.fetch(api_client, driver)
            if s["spec"].get("nodeName") == node for d in s["spec"].get("devices") or ()}


@pytest.fixture
def tainted(dra_api_client: Any, dra_slices: list[dict[str, Any]], fakehw_root: Path, *,
            dra_profile: DriverProfile, dra_node: str,
            dra_class_selectors: dict[str, list[str]]) -> Iterator[list[str]]:
    """The class's devices on the node, made unhealthy through fakehw until the test ends."""
    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    chosen = slices.in_class(dra_slices, slices.devices(dra_slices, dra_node),
                             dra_profile.device_classes[0], dra_class_selectors)
    published = local_devices(dra_api_client, dra_profile.driver, dra_node)
    hardware = groundtruth.pci_devices(fakehw_root)
    faulty = {ref.device: h["name"] for ref in chosen for h in hardware
              if ref.device in published and groundtruth.published_as(h, [published[ref.device]])}
    if not faulty or len(faulty) != len(chosen):
        pytest.skip(f"not every {dra_profile.device_classes[0]} device of {dra_node} is a "
                    "fakehw PCI device that can be made unhealthy")
    for name in faulty.values():
        groundtruth.set_health(fakehw_root, name, healthy=False, reason="conformance: taints")
    try:
        yield sorted(faulty)
    finally:
        for name in faulty.values():
            groundtruth.set_health(fakehw_root, name, healthy=True)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and any(
                local_devices(dra_api_client, dra_profile.driver, dra_node)
                .get(device, {}).get("taints") for device in faulty):
            time.sleep(1)


@pytest.mark.requirement("DRA-FEAT-TAINT-001")
def test_tainted_devices_go_only_to_tolerating_claims(
        dra_workloads: Workloads, dra_api_client: Any, tainted: list[str], *,
        dra_profile: DriverProfile, dra_node: str, dra_evidence: Evidence) -> None:
    deadline = time.monotonic() + TIMEOUT
    taints: dict[str, Any] = {}
    while time.monotonic() < deadline and len(taints) < len(tainted):
        published = local_devices(dra_api_client, dra_profile.driver, dra_node)
        taints = {d: published[d]["taints"] for d in tainted if published[d].get("taints")}
        time.sleep(1)
    assert len(taints) == len(tainted), (
        f"the driver claims deviceTaints, but of {tainted} made unhealthy only {sorted(taints)} "
        f"were published tainted within {TIMEOUT:.0f}s")
    device_class = dra_profile.device_classes[0]
    plain = dra_workloads.claim(request(device_class))
    tolerant = dra_workloads.claim(request(device_class, tolerations=[{"operator": "Exists"}]))
    pods = [dra_workloads.pod(claim, ["sleep", "3600"], dra_profile.injection.image,
                              node=dra_node) for claim in (plain, tolerant)]
    try:
        refused, accepted = (dra_workloads.wait(pod, lambda s: s.scheduled or bool(s.refused),
                                                TIMEOUT) for pod in pods)
        given = [r["device"] for r in dra_workloads.allocation(tolerant)]
        dra_evidence(f"{tainted} tainted {next(iter(taints.values()))}; claim without "
                     f"toleration: scheduled={refused.scheduled} ({refused.refused[:100]}); "
                     f"tolerating claim got {given}")
        assert not refused.scheduled, "a claim that does not tolerate the taints got a device"
        assert refused.refused, "the pod without toleration was not refused by the scheduler"
        assert accepted.scheduled, f"the tolerating claim was refused: {accepted.refused}"
        assert set(given) <= set(tainted), f"the tolerating claim got {given}"
    finally:
        dra_workloads.delete_pods(*pods)
        dra_workloads.delete_claims(plain, tolerant, timeout=TIMEOUT)


@pytest.mark.requirement("DRA-FEAT-ADMIN-001")
def test_admin_access_only_in_labelled_namespaces(
        dra_api_client: Any, dra_workloads: Workloads, dra_profile: DriverProfile,
        dra_evidence: Evidence) -> None:
    from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    admin = request(dra_profile.device_classes[0], adminAccess=True)
    try:
        dra_workloads.claim(admin)
        refusal = "accepted"
    except ApiException as exc:
        refusal = f"HTTP {exc.status}"
    labelled = Workloads(dra_api_client, labels={ADMIN_LABEL: "true"})
    try:
        claim = labelled.claim(admin)
        check = check_command(dra_profile.injection)
        pod = labelled.pod(claim, check, dra_profile.injection.image)
        state = labelled.wait(pod, lambda s: s.phase in ("Succeeded", "Failed") or (
            not s.scheduled and bool(s.refused)), TIMEOUT)
        dra_evidence(f"adminAccess claim in {dra_workloads.namespace}: {refusal}; in "
                     f"{labelled.namespace} ({ADMIN_LABEL}=true): pod {state.phase}")
        assert refusal != "accepted", (f"an adminAccess claim was accepted in a namespace "
                                       f"without {ADMIN_LABEL}")
        assert state.scheduled, f"the admin claim was not allocated: {state.refused}"
        assert state.phase == "Succeeded", f"the admin pod's check ended {state.phase}"
    finally:
        labelled.close()
