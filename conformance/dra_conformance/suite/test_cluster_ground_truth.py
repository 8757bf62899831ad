"""The hardware as it is, when the driver runs on fakehw (--dra-fakehw-root).

Every PCI device of the node must be published as exactly one device carrying its PCI
address, vendor ID and device ID (see ``groundtruth``), every device the driver publishes
for the node must be one of them, and the standard PCIe root attribute, where published,
must be the device's true root. What prepare made on the hardware for a claim must be gone
after unprepare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dra_conformance import groundtruth, slices
from dra_conformance.kube.workloads import PodState, Workloads
from dra_conformance.model import quantity
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 180.0


@pytest.mark.requirement("DRA-SLICE-006")
def test_published_devices_are_the_hardware(fakehw_root: Path,
                                            dra_slices: list[dict[str, Any]],
                                            dra_node: str | None,
                                            dra_evidence: Callable[[str], None]) -> None:
    hardware = groundtruth.pci_devices(fakehw_root)
    published = [d for s in dra_slices if s["spec"].get("nodeName") == dra_node
                 for d in s["spec"].get("devices") or ()]
    problems, matched = groundtruth.problems(hardware, published)
    dra_evidence(f"{len(hardware)} PCI devices in {fakehw_root}, {len(published)} published "
                 f"on {dra_node}; matched {matched}" + (f"; {problems}" if problems else ""))
    assert not problems, "; ".join(problems)


def twice_the_default(entries: list[dict[str, Any]]) -> dict[str, str]:
    """For a class of devices with consumable capacity: a request for twice each capacity's
    default (so a driver that sets up the default amount shows), else nothing."""
    for entry in entries:
        if entry.get("allowMultipleAllocations"):
            return {name: str(2 * int(quantity.parse(c["requestPolicy"]["default"])))
                    for name, c in (entry.get("capacity") or {}).items()
                    if (c.get("requestPolicy") or {}).get("default")}
    return {}


@dataclass(frozen=True)
class Round:
    """One pod of a DeviceClass on the fakehw node, and the node's regions around it."""

    device_class: str
    state: PodState
    consumed: dict[str, int]  # the allocation's consumedCapacity, in bytes
    made: dict[str, int]  # regions there while the pod ran and not before
    left: dict[str, int]  # regions there after unprepare and not before


@pytest.fixture(scope="module")
def rounds(dra_workloads: Workloads, dra_profile: DriverProfile, fakehw_root: Path, *,
           dra_node: str, dra_slices: list[dict[str, Any]],
           dra_class_selectors: dict[str, list[str]]) -> list[Round]:
    """A running pod per DeviceClass (asking twice the default of consumable capacity),
    the regions made for its claim, and those left once it is unprepared."""
    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    entries = slices.entries(dra_slices)
    done = []
    for device_class in dra_profile.device_classes:
        members = slices.in_class(dra_slices, slices.devices(dra_slices, dra_node),
                                  device_class, dra_class_selectors)
        capacity = twice_the_default([entries[(d.pool, d.device)] for d in members])
        before = groundtruth.regions(fakehw_root)
        claim = dra_workloads.claim({"devices": {"requests": [{"name": "dev", "exactly": {
            "deviceClassName": device_class,
            **({"capacity": {"requests": capacity}} if capacity else {})}}]}})
        pod = dra_workloads.pod(claim, ["sleep", "3600"], dra_profile.injection.image,
                                node=dra_node)
        try:
            state = dra_workloads.wait(pod, lambda s: s.phase != "Pending" or bool(s.refused),
                                       TIMEOUT)
            during = groundtruth.regions(fakehw_root)
            consumed = {name: int(quantity.parse(value)) for r in dra_workloads.allocation(claim)
                        for name, value in (r.get("consumedCapacity") or {}).items()}
        finally:
            dra_workloads.delete(pod, claim)
        after = groundtruth.regions(fakehw_root)
        done.append(Round(device_class, state, consumed,
                          {n: size for n, size in during.items() if n not in before},
                          {n: size for n, size in after.items() if n not in before}))
    return done


def describe(done: Round) -> str:
    refused = f", {done.state.refused}" if done.state.refused else ""
    return (f"{done.device_class}: pod {done.state.phase}{refused}, consumed "
            f"{done.consumed or 'nothing counted'}; regions made for the claim "
            f"{done.made or 'none'}, left after unprepare {done.left or 'none'}")


@pytest.mark.requirement("DRA-UNPREP-007")
def test_unprepare_leaves_the_hardware_as_it_was(
        rounds: list[Round], dra_evidence: Callable[[str], None]) -> None:
    """What prepare made on the hardware for the claim (a CXL region carved for it) must be
    gone once the claim is unprepared."""
    for done in rounds:
        dra_evidence(describe(done))
        assert done.state.phase == "Running", f"{done.device_class}: the pod did not run"
        assert not done.left, (f"{done.device_class}: {sorted(done.left)} made for the claim "
                               "are still on the hardware after unprepare")


@pytest.mark.requirement("DRA-PREP-014")
def test_a_region_has_the_capacity_the_claim_consumed(
        rounds: list[Round], dra_evidence: Callable[[str], None]) -> None:
    """A claim on consumable capacity (asking twice the default) gets hardware of that size:
    the CXL region carved for it is as large as the allocation's consumedCapacity."""
    for done in rounds:
        dra_evidence(describe(done))
        assert done.state.phase == "Running", f"{done.device_class}: the pod did not run"
        if done.made and done.consumed:
            assert sum(done.made.values()) in done.consumed.values(), (
                f"{done.device_class}: the claim consumed {done.consumed}, but the regions "
                f"made for it are {done.made}")
