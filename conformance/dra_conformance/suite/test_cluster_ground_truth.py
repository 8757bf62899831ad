"""Published devices against the hardware, when the driver runs on fakehw (--dra-fakehw-root).

Every PCI device of the node must be published as exactly one device carrying its PCI
address, vendor ID and device ID (see ``groundtruth``), and every device the driver
publishes for the node must be one of them.
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
    problems = []
    matched: set[str] = set()
    for device in hardware:
        names = groundtruth.published_as(device, published)
        if len(names) != 1:
            problems.append(f"{device['name']} ({device['kind']}, "
                            f"{sorted(groundtruth.identity(device))}) is published as "
                            f"{names or 'nothing'}")
        matched.update(names)
    invented = sorted({str(d["name"]) for d in published} - matched)
    dra_evidence(f"{len(hardware)} PCI devices in {fakehw_root}, {len(published)} published "
                 f"on {dra_node}; matched {sorted(matched)}")
    assert not problems, "; ".join(problems)
    assert not invented, f"published on {dra_node} but not in its hardware: {invented}"
