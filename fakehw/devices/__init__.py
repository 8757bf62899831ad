"""Device kinds: each writes its devices into a tree and shows faults the way its kernel would.

A kind is a small protocol so that the machine, hot-plug and health code never branch on
what a device is.
"""

from __future__ import annotations

from typing import Protocol

from fakehw.profiles.model import HardwareProfile
from fakehw.tree.state import TreeState
from fakehw.tree.topology import Topology
from fakehw.tree.writer import DeviceRecord, TreeWriter


class DeviceKind(Protocol):
    name: str

    def write_all(self, tree: TreeWriter, topo: Topology, profile: HardwareProfile,
                  seed: str) -> list[DeviceRecord]:
        """Write every device of this kind the profile asks for."""

    def show_health(self, tree: TreeWriter, record: DeviceRecord, healthy: bool,
                    reason: str) -> None:
        """Make the device look failed (or recovered) where its drivers would look."""

    def after_hotplug(self, tree: TreeWriter, state: TreeState) -> None:
        """Bring shared structures (decoders, NUMA nodes) in line after devices came or went."""
