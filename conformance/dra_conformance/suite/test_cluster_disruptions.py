"""A kubelet restart: the driver is registered again, and its running pods are left alone.

A pod holding a device of the profile's first DeviceClass runs on the node under test when
that node's kubelet is restarted (--dra-kubelet-restart-command). Afterwards the pod must
still run in the same container, never restarted, with the same allocation; and a new pod
claiming a device on that node must run and pass the injection check, which it can only do
once the new kubelet has found the driver's registration socket and prepared through it.
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


@pytest.mark.requirement("DRA-REG-005")
def test_a_kubelet_restart_keeps_the_driver_registered_and_its_pods_running(
        dra_workloads: Workloads, dra_profile: DriverProfile, dra_node: str | None,
        dra_restart_kubelet: Callable[[str], None], dra_evidence: Callable[[str], None]) -> None:
    if not dra_profile.device_classes or dra_node is None:
        pytest.skip("needs a DeviceClass (spec.deviceClasses) and a node (--dra-node)")
    spec = {"devices": {"requests": [{"name": "dev", "exactly": {
        "deviceClassName": dra_profile.device_classes[0]}}]}}
    image = dra_profile.injection.image
    held = dra_workloads.claim(spec)
    holder = dra_workloads.pod(held, ["sleep", "3600"], image, node=dra_node)
    pods, claims = [holder], [held]
    try:
        state = dra_workloads.wait(holder, lambda s: s.phase == "Running" or bool(s.refused),
                                   TIMEOUT)
        assert state.phase == "Running", f"the first pod is {state.phase}: {state.refused}"
        before, allocated = dra_workloads.containers(holder), dra_workloads.allocation(held)
        started = time.monotonic()
        dra_restart_kubelet(dra_node)
        restarted = time.monotonic() - started
        fresh = dra_workloads.claim(spec)
        checker = dra_workloads.pod(fresh, check_command(dra_profile.injection), image,
                                    node=dra_node)
        pods.append(checker)
        claims.append(fresh)
        # not "refused": until the driver is back in the new kubelet's view, the scheduler
        # may find no device for the pod; it must find one in time
        done = dra_workloads.wait(checker, lambda s: s.scheduled, TIMEOUT)
        given = dra_workloads.allocation(fresh)  # before the pod ends and frees it
        if done.scheduled:
            done = dra_workloads.wait(checker, lambda s: s.phase in ("Succeeded", "Failed"),
                                      TIMEOUT)
        served = time.monotonic() - started
        after = dra_workloads.containers(holder)
        dra_evidence(f"kubelet of {dra_node} restarted in {restarted:.1f}s; pod holding "
                     f"{_devices(allocated)}: containers {before} before, {after} after; a "
                     f"new pod ({_devices(given)}) ended "
                     f"{done.phase or done.refused} {served:.1f}s after the restart began")
        assert after == before, "the running pod's containers changed across the restart"
        assert dra_workloads.allocation(held) == allocated, "the running pod's claim changed"
        assert done.phase == "Succeeded", (
            f"a pod claiming a device after the kubelet restart ended {done.phase or 'pending'}"
            f" {done.refused}; events: {dra_workloads.events('FailedPrepareDynamicResources')}")
    finally:
        dra_workloads.delete_pods(*pods)
        dra_workloads.delete_claims(*claims, timeout=TIMEOUT)


def _devices(results: list[dict[str, Any]]) -> list[str]:
    return [f"{r['pool']}/{r['device']}" for r in results]
