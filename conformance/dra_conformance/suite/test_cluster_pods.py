"""Pods claiming the driver's devices: scheduled, running, and seeing what was allocated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dra_conformance.kube.workloads import Workloads, check_command, seen_devices
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 180.0


@pytest.fixture(scope="session")
def device_classes(dra_profile: DriverProfile) -> tuple[str, ...]:
    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    return dra_profile.device_classes


@pytest.mark.requirement("DRA-ALLOC-001", "DRA-ALLOC-004", "DRA-ALLOC-005")
def test_pod_per_class_runs_and_sees_its_device(
        dra_workloads: Workloads, dra_profile: DriverProfile, device_classes: tuple[str, ...],
        dra_evidence: Callable[[str], None]) -> None:
    command = check_command(dra_profile.injection)
    device_env = dra_profile.injection.device_env
    dra_evidence(f"injection check {command}"
                 + (f"; devices seen in variables matching {device_env}" if device_env else ""))
    for device_class in device_classes:
        for attempt in ("first", "again"):  # again: the freed device is allocated anew
            claim = dra_workloads.claim({"devices": {"requests": [
                {"name": "dev", "exactly": {"deviceClassName": device_class}}]}})
            pod = dra_workloads.pod(claim, command, dra_profile.injection.image,
                                    listing=["env"] if device_env else None)
            state = dra_workloads.wait(pod, lambda s: s.scheduled or bool(s.refused), TIMEOUT)
            # read now: the claim is deallocated once its pod has finished
            results: list[dict[str, Any]] = dra_workloads.allocation(claim)
            if state.scheduled:
                state = dra_workloads.wait(pod, lambda s: s.phase in ("Succeeded", "Failed"),
                                           TIMEOUT)
            allocated = {r["device"] for r in results}
            seen = (seen_devices(dra_workloads.log(pod, "list"), device_env)
                    if device_env and state.phase == "Succeeded" else allocated)
            dra_evidence(f"{device_class} ({attempt}): {sorted(allocated)}, pod {state.phase}"
                         + (f", the container saw {sorted(seen)}" if device_env else ""))
            assert state.scheduled, f"{device_class}: pod not scheduled: " + (
                state.refused or "no reason given")
            assert state.phase == "Succeeded", (
                f"{device_class}: the injection check {command} ended {state.phase}")
            assert seen == allocated, (f"{device_class}: the container saw {sorted(seen)} "
                                       f"({device_env}), allocated were {sorted(allocated)}")
            dra_workloads.delete(pod, claim)
