"""Generated claims judged against the allocator model, through the real scheduler.

Claims are drawn from the driver's own devices. When the model can satisfy a claim, the pod
must be scheduled and its allocation must meet every selector and constraint; when it cannot,
the scheduler must refuse the pod (PodScheduled=False, Unschedulable or SchedulerError) and
not have scheduled it. Each example cleans up before the next.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from dra_conformance.errors import ExpressionError
from dra_conformance.kube.workloads import Workloads, seen_devices
from dra_conformance.model import allocator, inventory
from dra_conformance.model.claims import ClaimModel, Exactly, Request
from dra_conformance.model.strategies import claims
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
SCHEDULE_TIMEOUT = 60.0
PENDING_FOR = 15.0


@pytest.fixture(scope="session")
def devices(dra_slices: list[dict[str, Any]]) -> list[inventory.Device]:
    return inventory.from_slices(dra_slices)


@pytest.fixture(scope="session")
def device_class(dra_profile: DriverProfile, dra_class_selectors: dict[str, list[str]],
                 devices: list[inventory.Device]) -> str:
    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    name = dra_profile.device_classes[0]
    probe = ClaimModel((Request("r", Exactly("r", name)),))
    try:
        allocator.allocate(probe, devices, class_selectors=dra_class_selectors)
    except ExpressionError as exc:
        pytest.skip(f"DeviceClass {name} uses CEL outside the modelled subset: {exc}")
    return name


def judge(workloads: Workloads, claim: ClaimModel, devices: list[inventory.Device],
          classes: dict[str, list[str]], device_env: str | None = None) -> str:
    """Run one claim through the cluster; returns evidence, fails on a wrong outcome. With
    ``device_env`` (the profile's injection.deviceEnv) the container must also see exactly
    the allocated devices."""
    expected = allocator.allocate(claim, devices, class_selectors=classes)
    name = workloads.claim(claim.to_api())
    pod = workloads.pod(name, ["env"] if device_env else ["true"])
    try:
        if expected.satisfiable:
            state = workloads.wait(pod, lambda s: s.scheduled or bool(s.unschedulable_reason),
                                   SCHEDULE_TIMEOUT)
            planned = [(r.request, r.device.name) for r in expected.results or ()]
            assert state.scheduled, (f"the model allocates {planned} but the scheduler says: "
                                     f"{state.refused or 'nothing'}")
            by_key = {(d.driver, d.pool, d.name): d for d in devices}
            results = [allocator.Result(r["request"], by_key[(r["driver"], r["pool"],
                                                               r["device"])])
                       for r in workloads.allocation(name)]
            problems = allocator.verify(claim, results, devices, class_selectors=classes)
            assert not problems, f"the scheduler's allocation breaks: {problems}"
            if device_env:
                ended = workloads.wait(pod, lambda s: s.phase in ("Succeeded", "Failed"),
                                       SCHEDULE_TIMEOUT)
                assert ended.phase == "Succeeded", f"the pod ended {ended.phase or 'pending'}"
                seen = seen_devices(workloads.log(pod, "check"), device_env)
                allocated = {r.device.name for r in results}
                assert seen == allocated, (f"the container saw {sorted(seen)}, allocated were "
                                           f"{sorted(allocated)}")
            return f"allocated {[(r.request, r.device.name) for r in results]}"
        state = workloads.wait(pod, lambda s: s.scheduled or bool(s.refused), PENDING_FOR)
        assert not state.scheduled, f"scheduled although the model says: {expected.reason}"
        assert state.refused, f"pending, but the scheduler gave no reason in {PENDING_FOR:.0f}s"
        return f"pending as expected ({expected.reason}; scheduler: {state.refused[:120]})"
    finally:
        workloads.delete(pod, name)


@pytest.mark.requirement("DRA-ALLOC-002", "DRA-ALLOC-003", "DRA-ALLOC-008")
def test_generated_claims_match_the_model(
        dra_workloads: Workloads, devices: list[inventory.Device], device_class: str,
        dra_class_selectors: dict[str, list[str]], *, dra_profile: DriverProfile,
        dra_evidence: Callable[[str], None]) -> None:
    outcomes: list[str] = []

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
    @given(claim=claims(devices, device_class=device_class, first_available=False))
    def check(claim: ClaimModel) -> None:
        with contextlib.suppress(allocator.ModelGaveUp):  # too large to judge
            outcomes.append(judge(dra_workloads, claim, devices, dra_class_selectors,
                                  dra_profile.injection.device_env))

    check()
    dra_evidence(f"{len(outcomes)} claims; e.g. {outcomes[:3]}")


@pytest.mark.requirement("DRA-FEAT-PRIO-001")
def test_first_available_claims_match_the_model(
        dra_workloads: Workloads, devices: list[inventory.Device], device_class: str,
        dra_class_selectors: dict[str, list[str]], *, dra_profile: DriverProfile,
        dra_evidence: Callable[[str], None]) -> None:
    outcomes: list[str] = []

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
    @given(claim=claims(devices, device_class=device_class, first_available=True)
           .filter(lambda c: any(r.first_available for r in c.requests)))
    def check(claim: ClaimModel) -> None:
        with contextlib.suppress(allocator.ModelGaveUp):  # too large to judge
            outcomes.append(judge(dra_workloads, claim, devices, dra_class_selectors,
                                  dra_profile.injection.device_env))

    check()
    dra_evidence(f"{len(outcomes)} firstAvailable claims; e.g. {outcomes[:3]}")


@pytest.mark.requirement("DRA-ALLOC-006")
def test_cel_runtime_error_keeps_the_pod_pending(
        dra_workloads: Workloads, dra_profile: DriverProfile, device_class: str,
        dra_evidence: Callable[[str], None]) -> None:
    broken = f'device.attributes["{dra_profile.driver}"].conformanceNoSuchAttribute == 1'
    claim = dra_workloads.claim({"devices": {"requests": [{"name": "r", "exactly": {
        "deviceClassName": device_class, "selectors": [{"cel": {"expression": broken}}]}}]}})
    pod = dra_workloads.pod(claim, ["true"])
    try:
        state = dra_workloads.wait(pod, lambda s: s.scheduled or bool(s.refused), PENDING_FOR)
        dra_evidence(f"pod scheduled={state.scheduled}: {state.refused}")
        assert not state.scheduled, "a claim whose selector fails at runtime was allocated"
        assert state.refused, f"pending, but the scheduler gave no reason in {PENDING_FOR:.0f}s"
    finally:
        dra_workloads.delete(pod, claim)
