"""What discovery finds: devices described in the terms a ResourceSlice needs.

Attribute names without a domain belong to the driver's own domain; names with one (the
standard ``resource.kubernetes.io/pcieRoot``) are used as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AttributeValue = str | int | bool

PCIE_ROOT = "resource.kubernetes.io/pcieRoot"


@dataclass(frozen=True)
class DeviceNode:
    path: str  # inside the container, e.g. /dev/dri/renderD128
    host_path: str  # on the node (under the devfs root)
    major: int
    minor: int


@dataclass(frozen=True)
class Device:
    name: str  # a DNS label, stable across rescans (derived from the bus address)
    kind: str  # gpu | fpga | cxl | camera
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)
    nodes: tuple[DeviceNode, ...] = ()
    sysfs_path: str = ""  # relative to the sysfs root
    parent: str = ""  # a VF's physical function, a region's memdev
    healthy: bool = True
    health_message: str = ""
    # Named sysfs-relative paths a preparer needs later (an FPGA's manager, a memdev's root
    # decoder), found once here so preparation does not repeat the search.
    paths: dict[str, str] = field(default_factory=dict)


def dns_name(prefix: str, address: str) -> str:
    """``gpu`` + ``0000:03:00.0`` -> ``gpu-0000-03-00-0``."""
    cleaned = "".join(c if c.isalnum() else "-" for c in address.lower())
    return f"{prefix}-{cleaned}".strip("-")
