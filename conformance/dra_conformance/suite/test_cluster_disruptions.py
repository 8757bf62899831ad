"""Disruptions of a node's DRA stack that must not disturb the pods on it: a kubelet restart,
and a rolling update of the driver's plugin.

A pod holding a device of the profile's first DeviceClass runs on the node under test while
the disruption happens. Afterwards the pod must still run in the same container, never
restarted, with the same allocation; a new pod claiming a device on that node must run and
pass the injection check (it can only once the kubelet has found the driver's registration
socket and prepared through it); and deleting the first pod must unprepare its claim (the
kubelet removes a pod only once that succeeded), although the instance that prepared it may
be gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from dra_conformance.kube.workloads import Workloads, check_command
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 180.0
Evidence = Callable[[str], None]


@pytest.mark.requirement("DRA-REG-005")
def test_a_kubelet_restart_keeps_the_driver_registered_and_its_pods_running(
        dra_workloads: Workloads, dra_profile: DriverProfile, dra_node: str | None,
        dra_restart_kubelet: Callable[[str], None], dra_evidence: Evidence) -> None:
    node = _node_under_test(dra_profile, dra_node)
    _through(dra_workloads, dra_profile, node, f"kubelet of {node} restarted",
             disrupt=lambda: dra_restart_kubelet(node), evidence=dra_evidence)


@pytest.mark.requirement("DRA-UPD-001")
def test_a_rolling_update_of_the_plugin_keeps_claims_served(
        dra_workloads: Workloads, dra_profile: DriverProfile, dra_node: str | None,
        dra_update: Callable[[str], None], dra_evidence: Evidence) -> None:
    node = _node_under_test(dra_profile, dra_node)
    _through(dra_workloads, dra_profile, node, f"plugin of {node} rolled to a new instance",
             disrupt=lambda: dra_update(node), evidence=dra_evidence, seamless=True)


def _node_under_test(profile: DriverProfile, node: str | None) -> str:
    if not profile.device_classes or node is None:
        pytest.skip("needs a DeviceClass (spec.deviceClasses) and a node (--dra-node)")
    return node


def _through(workloads: Workloads, profile: DriverProfile, node: str, what: str, *,
             disrupt: Callable[[], None], evidence: Evidence, seamless: bool = False) -> None:
    """``seamless``: the node must never be without a plugin of the driver, so the new pod
    must be prepared at its first attempt (a rolling update starts the new instance before
    it stops the old one); after a kubelet restart the driver may take a moment."""
    spec = {"devices": {"requests": [{"name": "dev", "exactly": {
        "deviceClassName": profile.device_classes[0]}}]}}
    image = profile.injection.image
    held = workloads.claim(spec)
    holder = workloads.pod(held, ["sleep", "3600"], image, node=node)
    pods, claims = [holder], [held]
    try:
        state = workloads.wait(holder, lambda s: s.phase == "Running" or bool(s.refused),
                               TIMEOUT)
        assert state.phase == "Running", f"the first pod is {state.phase}: {state.refused}"
        before, allocated = workloads.containers(holder), workloads.allocation(held)
        started = time.monotonic()
        disrupt()
        disrupted = time.monotonic() - started
        fresh = workloads.claim(spec)
        checker = workloads.pod(fresh, check_command(profile.injection), image, node=node)
        pods.append(checker)
        claims.append(fresh)
        # not "refused": until the driver is back in the kubelet's view, the scheduler may
        # find no device for the pod; it must find one in time
        done = workloads.wait(checker, lambda s: s.scheduled, TIMEOUT)
        given = workloads.allocation(fresh)  # before the pod ends and frees it
        if done.scheduled:
            done = workloads.wait(checker, lambda s: s.phase in ("Succeeded", "Failed"),
                                  TIMEOUT)
        served = time.monotonic() - started
        after = workloads.containers(holder)
        kept = workloads.allocation(held)
        workloads.delete_pods(holder)
        unprepared = workloads.wait_pods_gone(holder, timeout=TIMEOUT)
        failures = [e for e in workloads.events("FailedUnprepareDynamicResources")
                    if e.startswith(f"{holder}:")]
        refusals = [e for e in workloads.events("FailedPrepareDynamicResources")
                    if e.startswith(f"{checker}:")]
        evidence(f"{what} in {disrupted:.1f}s; pod holding {_devices(allocated)}: containers "
                 f"{before} before, {after} after; a new pod ({_devices(given)}) ended "
                 f"{done.phase or done.refused} {served:.1f}s after it began; the first pod "
                 f"{'was removed' if unprepared else 'was still there'} "
                 f"{time.monotonic() - started:.1f}s after it began; prepare failures of the "
                 f"new pod: {refusals or 'none'}")
        assert after == before, "the running pod's containers changed"
        assert kept == allocated, "the running pod's claim changed"
        assert done.phase == "Succeeded", (
            f"a pod claiming a device afterwards ended {done.phase or 'pending'} "
            f"{done.refused}; events: {workloads.events('FailedPrepareDynamicResources')}")
        assert not (seamless and refusals), (
            f"the node was left without a plugin of the driver: {refusals}")
        assert not failures, f"the first pod's claim could not be unprepared: {failures}"
        assert unprepared, "the first pod was not removed: its claim was never unprepared"
    finally:
        workloads.delete_pods(*pods)
        workloads.delete_claims(*claims, timeout=TIMEOUT)


def _devices(results: list[dict[str, Any]]) -> list[str]:
    return [f"{r['pool']}/{r['device']}" for r in results]
