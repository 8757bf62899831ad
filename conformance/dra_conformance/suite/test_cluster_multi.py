"""Several DRA drivers on one node and in one pod.

One pod on the node under test holds two claims: a device of the profile's first
DeviceClass and one of another driver's (--dra-companion-class). Both must be allocated, each
by its own driver, the pod must run and pass the injection check, its container must see
exactly the driver's allocated devices (with injection.deviceEnv), and deleting it must
unprepare both claims without FailedUnprepareDynamicResources events.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dra_conformance.kube.workloads import Workloads, check_command, seen_devices
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 180.0


@pytest.mark.requirement("DRA-MULTI-001")
def test_the_driver_works_beside_another_driver_in_one_pod(
        dra_workloads: Workloads, dra_profile: DriverProfile, dra_node: str | None,
        dra_companion_class: str, dra_evidence: Callable[[str], None]) -> None:
    if not dra_profile.device_classes or dra_node is None:
        pytest.skip("needs a DeviceClass (spec.deviceClasses) and a node (--dra-node)")

    def claim(device_class: str) -> str:
        return dra_workloads.claim({"devices": {"requests": [{"name": "dev", "exactly": {
            "deviceClassName": device_class}}]}})
    ours, theirs = claim(dra_profile.device_classes[0]), claim(dra_companion_class)
    device_env = dra_profile.injection.device_env
    pod = dra_workloads.pod(ours, check_command(dra_profile.injection),
                            dra_profile.injection.image, node=dra_node, more_claims=(theirs,),
                            listing=["env"] if device_env else None)
    try:
        # not "refused": devices an earlier test freed may take the scheduler a moment
        state = dra_workloads.wait(pod, lambda s: s.scheduled, TIMEOUT)
        mine, other = dra_workloads.allocation(ours), dra_workloads.allocation(theirs)
        if state.scheduled:
            state = dra_workloads.wait(pod, lambda s: s.phase in ("Succeeded", "Failed"),
                                       TIMEOUT)
        seen = (seen_devices(dra_workloads.log(pod, "list"), device_env)
                if device_env and state.phase == "Succeeded" else None)
        dra_evidence(f"on {dra_node}: {[(r['driver'], r['device']) for r in mine]} and "
                     f"{[(r['driver'], r['device']) for r in other]} ({dra_companion_class}); "
                     f"pod {state.phase or state.refused}"
                     + (f", the container saw {sorted(seen)} of ours" if seen is not None
                        else ""))
        assert state.scheduled, f"the pod was not scheduled: {state.refused}"
        assert {r["driver"] for r in mine} == {dra_profile.driver}
        assert other, f"the {dra_companion_class} claim was not allocated"
        assert dra_profile.driver not in {r["driver"] for r in other}, (
            f"{dra_companion_class} is a class of the driver under test, not of another one")
        assert state.phase == "Succeeded", f"the pod with both claims ended {state.phase}"
        if seen is not None:
            assert seen == {r["device"] for r in mine}
        dra_workloads.delete_pods(pod)
        assert dra_workloads.wait_pods_gone(pod, timeout=TIMEOUT)
        assert not dra_workloads.events("FailedUnprepareDynamicResources")
    finally:
        dra_workloads.delete_pods(pod)
        dra_workloads.delete_claims(ours, theirs, timeout=TIMEOUT)
