"""Where each device sits: PCIe root complexes, root ports, bus numbers, IOMMU groups, minors.

Real machines hang each accelerator off its own root port; the root complex it is under is
what Kubernetes' ``resource.kubernetes.io/pcieRoot`` attribute compares, so devices that share
a ``pcieRoot`` in the profile share a ``pci<domain>:<bus>`` directory here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fakehw.devices.pci import BRIDGE_CLASS, ROOT_PORT, PCIFunction, bdf
from fakehw.errors import ProfileError
from fakehw.profiles.model import HardwareProfile

BUSES_PER_ROOT = 0x10
CXL_ROOT_BASE = 8  # CXL host bridges get their own root complexes after the CPU ones


def root_bus(root: int) -> int:
    return root * BUSES_PER_ROOT


def root_dir(root: int) -> str:
    return f"devices/pci0000:{root_bus(root):02x}"


@dataclass
class Topology:
    profile: HardwareProfile
    next_bus: dict[int, int] = field(default_factory=dict)
    iommu_groups: int = 0
    minors: dict[str, int] = field(default_factory=dict)

    def cpulist(self, numa: int) -> str:
        per = self.profile.cpus_per_node
        return f"{numa * per}-{numa * per + per - 1}"

    def next_iommu_group(self) -> int:
        self.iommu_groups += 1
        return self.iommu_groups - 1

    def next_minor(self, kind: str) -> int:
        self.minors[kind] = self.minors.get(kind, -1) + 1
        return self.minors[kind]

    def root_port(self, root: int, numa: int) -> tuple[PCIFunction, int]:
        """A new root port under ``root``; returns it and the bus number behind it."""
        bus = self.next_bus.get(root, root_bus(root) + 1)
        if bus >= root_bus(root) + BUSES_PER_ROOT:
            raise ProfileError(self.profile.source, "spec",
                               f"PCIe root {root} holds more than {BUSES_PER_ROOT - 1} devices",
                               "spread devices over pcieRoot values")
        self.next_bus[root] = bus + 1
        port_number = bus - root_bus(root)
        port = PCIFunction(
            bdf=bdf(root_bus(root), port_number << 3), parent=root_dir(root),
            vendor=ROOT_PORT[0], device=ROOT_PORT[1], pci_class=BRIDGE_CLASS,
            driver="pcieport", numa_node=numa, cpulist=self.cpulist(numa),
            iommu_group=self.next_iommu_group(), secondary_bus=bus,
        )
        return port, bus
