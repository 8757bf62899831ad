"""Claims as pods use them: shared by containers and pods, in init containers, from templates,
prepared although no container names them, and unprepared when the pod goes.

Every pod runs the profile's injection check, so "Succeeded" means each container that names
the claim saw its devices.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

import pytest

from dra_conformance.cdi import CdiRegistry
from dra_conformance.kube.workloads import PodState, Workloads, check_command
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 120.0
Evidence = Callable[[str], None]


@pytest.fixture(scope="session")
def device_class(dra_profile: DriverProfile) -> str:
    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    return dra_profile.device_classes[0]


@pytest.fixture(scope="session")
def check(dra_profile: DriverProfile) -> list[str]:
    return check_command(dra_profile.injection)


def one_device(device_class: str) -> dict[str, object]:
    return {"devices": {"requests": [{"name": "dev", "exactly": {
        "deviceClassName": device_class}}]}}


def finished(workloads: Workloads, pod: str) -> PodState:
    return workloads.wait(pod, lambda s: s.phase in ("Succeeded", "Failed") or (
        not s.scheduled and bool(s.refused)), TIMEOUT)


def succeeded(state: PodState, what: str) -> None:
    assert state.scheduled, f"{what}: not scheduled: {state.refused or 'no reason given'}"
    assert state.phase == "Succeeded", f"{what}: the injection check ended {state.phase}"


@pytest.mark.requirement("DRA-SHARE-001")
def test_containers_of_one_pod_share_a_claim(dra_workloads: Workloads, device_class: str,
                                             check: list[str], dra_profile: DriverProfile,
                                             dra_evidence: Evidence) -> None:
    claim = dra_workloads.claim(one_device(device_class))
    pod = dra_workloads.pod(claim, check, dra_profile.injection.image, containers=2)
    state = finished(dra_workloads, pod)
    dra_evidence(f"2 containers naming claim {claim} ({device_class}): pod {state.phase}")
    succeeded(state, "a pod whose 2 containers share a claim")
    dra_workloads.delete(pod, claim)


@pytest.mark.requirement("DRA-SHARE-002")
def test_pods_share_a_claim(dra_workloads: Workloads, device_class: str, check: list[str],
                            dra_profile: DriverProfile, dra_evidence: Evidence) -> None:
    claim = dra_workloads.claim(one_device(device_class))
    # each checks, then stays a while, so that both hold the claim at the same time
    together = ["sh", "-c", f"{shlex.join(check)} && sleep 10"]
    pods = [dra_workloads.pod(claim, together, dra_profile.injection.image) for _ in range(2)]
    started = [dra_workloads.wait(pod, lambda s: s.phase != "Pending" or (
        not s.scheduled and bool(s.refused)), TIMEOUT) for pod in pods]
    holders = dra_workloads.reserved_for(claim) or []
    states = [finished(dra_workloads, pod) for pod in pods]
    dra_evidence(f"pods {pods} on claim {claim}: {[s.phase for s in started]} together, "
                 f"claim reserved for {holders}; then {[s.phase for s in states]}")
    for pod, state in zip(pods, states, strict=True):
        succeeded(state, f"pod {pod} sharing claim {claim}")
    assert set(pods) <= set(holders), f"the claim was not held by both pods at once: {holders}"
    dra_workloads.delete_pods(*pods)
    assert dra_workloads.delete_claims(claim), f"claim {claim} was not deleted in time"


@pytest.mark.requirement("DRA-SHARE-003")
def test_init_container_gets_the_claim(dra_workloads: Workloads, device_class: str,
                                       check: list[str], dra_profile: DriverProfile,
                                       dra_evidence: Evidence) -> None:
    claim = dra_workloads.claim(one_device(device_class))
    pod = dra_workloads.pod(claim, ["true"], dra_profile.injection.image, init=check)
    state = finished(dra_workloads, pod)
    dra_evidence(f"init container checking claim {claim}: pod {state.phase}")
    succeeded(state, "a pod whose init container names the claim")
    dra_workloads.delete(pod, claim)


@pytest.mark.requirement("DRA-TMPL-001")
def test_template_claim_goes_with_its_pod(dra_workloads: Workloads, device_class: str,
                                          check: list[str], dra_profile: DriverProfile,
                                          dra_evidence: Evidence) -> None:
    template = dra_workloads.template(one_device(device_class))
    pod = dra_workloads.pod(template, check, dra_profile.injection.image, template=True)
    state = finished(dra_workloads, pod)
    claim = dra_workloads.generated_claim(pod)
    succeeded(state, f"a pod with a claim from template {template}")
    assert claim, "the pod's status names no claim generated from the template"
    released = dra_workloads.wait_claims_gone(claim, timeout=TIMEOUT)
    holders = dra_workloads.reserved_for(claim)
    dra_evidence(f"claim {claim} generated for pod {pod}: after the pod ended "
                 f"{'deleted' if released else f'still there, reserved for {holders}'}")
    dra_workloads.delete_pods(pod)
    assert released, f"claim {claim} outlived its finished pod by {TIMEOUT:.0f}s"


@pytest.mark.requirement("DRA-UNPREP-005")
def test_deleting_a_pod_unprepares_cleanly(dra_workloads: Workloads, device_class: str,
                                           dra_profile: DriverProfile,
                                           dra_evidence: Evidence) -> None:
    claim = dra_workloads.claim(one_device(device_class))
    pod = dra_workloads.pod(claim, ["sleep", "3600"], dra_profile.injection.image)
    state = dra_workloads.wait(pod, lambda s: s.phase == "Running" or (
        not s.scheduled and bool(s.refused)), TIMEOUT)
    assert state.phase == "Running", f"the pod did not start: {state.phase} {state.refused}"
    dra_workloads.delete_pods(pod)
    gone = dra_workloads.wait_pods_gone(pod, timeout=TIMEOUT)
    freed = dra_workloads.delete_claims(claim, timeout=TIMEOUT)
    failures = dra_workloads.events("FailedUnprepareDynamicResources")
    dra_evidence(f"running pod {pod} deleted: gone={gone}, claim freed={freed}, "
                 f"FailedUnprepareDynamicResources events: {failures}")
    assert gone, f"pod {pod} was still terminating after {TIMEOUT:.0f}s"
    assert freed, f"claim {claim} was not deallocated and deleted after its pod went"
    assert not failures, f"unprepare failed: {failures}"


@pytest.mark.requirement("DRA-PREP-010")
def test_claim_no_container_names_is_prepared(dra_workloads: Workloads, device_class: str, *,
                                              dra_node: str | None, dra_cdi: CdiRegistry,
                                              dra_profile: DriverProfile,
                                              dra_evidence: Evidence) -> None:
    if dra_node is None:
        pytest.skip("needs the node whose CDI directories are visible: pass --dra-node")
    before = set(dra_cdi.refresh().devices)
    claim = dra_workloads.claim(one_device(device_class))
    pod = dra_workloads.pod(claim, ["sleep", "3600"], dra_profile.injection.image,
                            node=dra_node, referenced=False)
    state = dra_workloads.wait(pod, lambda s: s.phase == "Running" or (
        not s.scheduled and bool(s.refused)), TIMEOUT)
    new = sorted(set(dra_cdi.refresh().devices) - before)
    dra_evidence(f"pod {pod} on {dra_node} names claim {claim} in no container: pod "
                 f"{state.phase}, CDI devices added meanwhile: {new}")
    dra_workloads.delete(pod, claim)
    assert state.phase == "Running", f"the pod did not start: {state.phase} {state.refused}"
    assert new, ("no CDI device appeared on the node while the pod ran: the claim was not "
                 "prepared (or the driver injects nothing for it)")
