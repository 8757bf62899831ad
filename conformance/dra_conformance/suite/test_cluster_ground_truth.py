"""Published devices against the hardware, when the driver runs on fakehw (--dra-fakehw-root).

Every PCI device of the node must be published as exactly one device carrying its PCI
address, vendor ID and device ID (see ``groundtruth``), every device the driver publishes
for the node must be one of them, and the standard PCIe root attribute, where published,
must be the device's true root.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dra_conformance import groundtruth

pytestmark = pytest.mark.cluster


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
