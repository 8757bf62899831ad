"""Names and places of one FPGA's DFL devices, computed from its index and its PCI function.

The kernel names every piece of a DFL card after ids it hands out in probe order: the FME and
port platform devices (``dfl-fme.N``, ``dfl-port.N``), the FPGA manager, bridge and regions
the FME driver creates under itself, and the ``dfl_dev.N`` devices on the DFL bus. Writing the
tree, programming the card and showing faults all need the same names, so they live here once.

Character devices: the kernel allocates the ``dfl-fme`` and ``dfl-port`` chardev regions with
``alloc_chrdev_region``, which hands out majors from the dynamic range (234-254, top down) and
uses the FME or port id as the minor. A real machine shows whatever majors were free at boot;
fakehw fixes them to 236 and 235, low in that range and clear of 251-254 where CXL and DAX
devices usually land, so every tree is the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakehw.tree.writer import DeviceRecord

FME_MAJOR = 236
PORT_MAJOR = 235
FME_TYPE, PORT_TYPE = 0x0, 0x1  # DFL FIU types, as bus/dfl/devices/*/type shows them


@dataclass(frozen=True)
class FPGALayout:
    """Every name and sysfs-relative path of FPGA number ``index`` whose PCI function is at
    ``pci_path``."""

    index: int
    pci_path: str

    @classmethod
    def of(cls, record: DeviceRecord) -> FPGALayout:
        return cls(int(record.name.removeprefix("fpga")), record.sysfs)

    # Names, as the kernel would number them for the index-th card to probe.
    @property
    def region(self) -> str:
        return f"region{2 * self.index}"

    @property
    def compat_region(self) -> str:
        return f"region{2 * self.index + 1}"

    @property
    def fme(self) -> str:
        return f"dfl-fme.{self.index}"

    @property
    def port(self) -> str:
        return f"dfl-port.{self.index}"

    @property
    def manager(self) -> str:
        return f"fpga{self.index}"

    @property
    def bridge(self) -> str:
        return f"br{self.index}"

    @property
    def manager_device(self) -> str:
        return f"dfl-fme-mgr.{self.index}"  # platform device id = FME id

    @property
    def bridge_device(self) -> str:
        return f"dfl-fme-bridge.{self.index}.auto"  # PLATFORM_DEVID_AUTO

    @property
    def region_device(self) -> str:
        return f"dfl-fme-region.{self.index}"  # platform device id = its bridge's id

    def dfl_dev(self, fiu_type: int) -> str:
        return f"dfl_dev.{2 * self.index + fiu_type}"

    # Paths, relative to the sysfs root.
    @property
    def region_path(self) -> str:
        return f"{self.pci_path}/fpga_region/{self.region}"

    @property
    def fme_path(self) -> str:
        return f"{self.region_path}/{self.fme}"

    @property
    def port_path(self) -> str:
        return f"{self.region_path}/{self.port}"

    @property
    def manager_path(self) -> str:
        return f"{self.fme_path}/{self.manager_device}/fpga_manager/{self.manager}"

    @property
    def bridge_path(self) -> str:
        return f"{self.fme_path}/{self.bridge_device}/fpga_bridge/{self.bridge}"

    @property
    def compat_path(self) -> str:
        return f"{self.fme_path}/{self.region_device}/fpga_region/{self.compat_region}"

    def dfl_dev_path(self, fiu_type: int) -> str:
        parent = self.fme_path if fiu_type == FME_TYPE else self.port_path
        return f"{parent}/{self.dfl_dev(fiu_type)}"
