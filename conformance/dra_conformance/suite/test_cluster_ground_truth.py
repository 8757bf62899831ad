"""The hardware as it is, when the driver runs on fakehw (--dra-fakehw-root).

Every PCI device of the node must be published as exactly one device carrying its PCI
address, vendor ID and device ID (see ``groundtruth``), every device the driver publishes
for the node must be one of them, and the standard PCIe root attribute, where published,
must be the device's true root. What prepare made on the hardware for a claim must be gone
after unprepare.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dra_conformance import groundtruth
from dra_conformance.kube.workloads import Workloads
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


def regions(root: Path) -> dict[str, int]:
    """The tree's CXL regions and their sizes, as the kernel would list them now."""
    return {d["name"]: int(d["attributes"]["size"]) for d in groundtruth.inventory(root)
            if d["kind"] == "cxl-region"}


@pytest.mark.requirement("DRA-UNPREP-007")
def test_unprepare_leaves_the_hardware_as_it_was(
        dra_workloads: Workloads, dra_profile: DriverProfile, fakehw_root: Path,
        dra_node: str, dra_evidence: Callable[[str], None]) -> None:
    """A pod per DeviceClass on the fakehw node: what prepare made on the hardware for the
    claim (a CXL region carved for it) must be gone once the claim is unprepared."""
    if not dra_profile.device_classes:
        pytest.skip("the profile names no DeviceClasses (spec.deviceClasses)")
    for device_class in dra_profile.device_classes:
        before = regions(fakehw_root)
        claim = dra_workloads.claim({"devices": {"requests": [
            {"name": "dev", "exactly": {"deviceClassName": device_class}}]}})
        pod = dra_workloads.pod(claim, ["sleep", "3600"], dra_profile.injection.image,
                                node=dra_node)
        try:
            state = dra_workloads.wait(pod, lambda s: s.phase != "Pending" or bool(s.refused),
                                       TIMEOUT)
            during = regions(fakehw_root)
        finally:
            dra_workloads.delete(pod, claim)
        left = {name: size for name, size in regions(fakehw_root).items() if name not in before}
        made = {name: size for name, size in during.items() if name not in before}
        refused = f", {state.refused}" if state.refused else ""
        dra_evidence(f"{device_class}: pod {state.phase}{refused}; regions made for the claim "
                     f"{made or 'none'}, left after unprepare {left or 'none'}")
        assert state.phase == "Running", f"{device_class}: the pod did not run ({state.phase})"
        assert not left, (f"{device_class}: {sorted(left)} made for the claim are still on "
                          "the hardware after unprepare")
