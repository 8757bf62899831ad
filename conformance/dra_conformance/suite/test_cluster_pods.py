"""Pods claiming the driver's devices: scheduled, running, and seeing what was allocated.

When the driver runs on fakehw (``--dra-fakehw-root`` and ``--dra-node``), the pods run on
that node and the suite also checks the devices themselves, not only what the driver says
about them: every device node the container has is matched by its numbers (``major:minor``)
to the node's hardware, and the container must have the nodes of its allocated GPUs and FPGAs
and of no other device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dra_conformance import groundtruth, slices
from dra_conformance.book import Book
from dra_conformance.kube.workloads import (
    LISTING,
    Workloads,
    check_command,
    listing_parts,
    seen_devices,
)
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 180.0


@pytest.fixture(scope="session")
def device_classes(dra_profile: DriverProfile) -> tuple[str, ...]:
    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    return dra_profile.device_classes


@dataclass(frozen=True)
class Hardware:
    """The fakehw node's devices, and which published device is which."""

    node: str
    root: Path
    published: Mapping[tuple[str, str], Mapping[str, Any]]  # (pool, device) -> hardware

    def owners(self) -> dict[str, str]:
        return groundtruth.device_numbers(self.root)  # read now: regions come and go

    def problems(self, results: list[dict[str, Any]], nodes: Mapping[str, str]) -> list[str]:
        allocated = [self.published[key] for r in results
                     if (key := (r["pool"], r["device"])) in self.published]
        return groundtruth.node_problems(nodes, self.owners(), allocated)


@pytest.fixture(scope="session")
def hardware(dra_book: Book, dra_node: str | None,
             dra_slices: list[dict[str, Any]]) -> Hardware | None:
    root = dra_book.settings.fakehw_root
    if root is None or dra_node is None:
        return None
    return Hardware(dra_node, root, groundtruth.matched(
        groundtruth.pci_devices(root), slices.entries(dra_slices, dra_node)))


@pytest.mark.requirement("DRA-ALLOC-001", "DRA-ALLOC-004", "DRA-ALLOC-005")
def test_pod_per_class_runs_and_sees_its_device(
        dra_workloads: Workloads, dra_profile: DriverProfile, device_classes: tuple[str, ...],
        hardware: Hardware | None, dra_evidence: Callable[[str], None]) -> None:
    command = check_command(dra_profile.injection)
    device_env = dra_profile.injection.device_env
    dra_evidence(f"injection check {command}"
                 + (f"; devices seen in variables matching {device_env}" if device_env else "")
                 + (f"; device nodes matched to {hardware.node}'s hardware by number"
                    if hardware else "; no fakehw tree given: device nodes not identified"))
    for device_class in device_classes:
        for attempt in ("first", "again"):  # again: the freed device is allocated anew
            claim = dra_workloads.claim({"devices": {"requests": [
                {"name": "dev", "exactly": {"deviceClassName": device_class}}]}})
            pod = dra_workloads.pod(claim, command, dra_profile.injection.image,
                                    node=hardware.node if hardware else None,
                                    listing=LISTING if device_env or hardware else None)
            state = dra_workloads.wait(pod, lambda s: s.scheduled or bool(s.refused), TIMEOUT)
            # read now: the claim is deallocated once its pod has finished
            results: list[dict[str, Any]] = dra_workloads.allocation(claim)
            if state.scheduled:
                state = dra_workloads.wait(pod, lambda s: s.phase in ("Succeeded", "Failed"),
                                           TIMEOUT)
            allocated = {r["device"] for r in results}
            listed = state.phase == "Succeeded" and (device_env or hardware)
            environment, nodes = listing_parts(dra_workloads.log(pod, "list") if listed else "")
            seen = seen_devices(environment, device_env) if listed and device_env else allocated
            wrong = hardware.problems(results, nodes) if listed and hardware else []
            dra_evidence(f"{device_class} ({attempt}): {sorted(allocated)}, pod {state.phase}"
                         + (f", the container saw {sorted(seen)}" if device_env else "")
                         + (f", its device nodes {nodes}" if listed and hardware else ""))
            assert state.scheduled, f"{device_class}: pod not scheduled: " + (
                state.refused or "no reason given")
            assert state.phase == "Succeeded", (
                f"{device_class}: the injection check {command} ended {state.phase}")
            assert seen == allocated, (f"{device_class}: the container saw {sorted(seen)} "
                                       f"({device_env}), allocated were {sorted(allocated)}")
            assert not wrong, (f"{device_class}: allocated {sorted(allocated)}, but the "
                               f"container's device nodes say: {'; '.join(wrong)}")
            dra_workloads.delete(pod, claim)
