"""FPGA devices (being written)."""

from __future__ import annotations

from fakehw.profiles.model import HardwareProfile
from fakehw.tree.topology import Topology
from fakehw.tree.writer import DeviceRecord, TreeWriter


class FPGAKind:
    name = "fpga"

    def write_all(self, tree: TreeWriter, topo: Topology, profile: HardwareProfile,
                  seed: str) -> list[DeviceRecord]:
        return []

    def show_health(self, tree: TreeWriter, record: DeviceRecord, healthy: bool,
                    reason: str) -> None:
        raise NotImplementedError
