"""Names, numbers and places of one CXL memory expander and of each region carved from it.

The kernel numbers CXL objects in probe order: ``cxl_acpi`` registers ``root0`` and one
root decoder per CFMWS window, then one port per host bridge (``port1``...), and only then
does ``cxl_mem`` add the endpoints, so with N expanders the endpoints are ``endpointN+1``...
Decoders are ``decoder<port id>.<n>``; regions take the lowest free id, and their DAX region
and device reuse it (``region3/dax_region3/dax3.0``). Writing the tree, creating and deleting
regions and resynchronising after hot-plug all need the same names, so they live here once.

Each expander gets its own host bridge (as QEMU's ``pxb-cxl`` per ``cxl-type3`` device), its
own CFMWS window and so its own proximity domain: its memory becomes its own CPU-less NUMA
node. Character devices: ``cxl_mem`` and ``dax`` allocate dynamic majors; fakehw fixes them
to 251 and 252 (the FPGA kind keeps clear of that range).
"""

from __future__ import annotations

from dataclasses import dataclass

from fakehw.tree.topology import CXL_ROOT_BASE, root_bus, root_dir
from fakehw.tree.writer import DeviceRecord

ACPI_ROOT = "devices/LNXSYSTM:00/LNXSYBUS:00"
PLATFORM = "devices/platform/ACPI0017:00"
ROOT = f"{PLATFORM}/root0"
MEM_MAJOR = 251
DAX_MAJOR = 252
HDM_DECODERS = 4  # per port and per endpoint, as QEMU's cxl-type3 and pxb-cxl offer
MAX_EXPANDERS = 16 - CXL_ROOT_BASE  # host bridges take PCI roots 8..15
GRANULE = 256 << 20  # HDM decoders map memory in 256 MiB units
INTERLEAVE_GRANULARITY = 256  # QEMU's cxl-fmw default
WINDOW_BASE = 0x2000_0000_0000  # above every BAR fakehw hands out
MEMORY_BLOCK = 128 << 20  # x86-64's memory block size for machines under 64 GiB of RAM
DAX_ALIGN = 2 << 20  # PMD_SIZE, what cxl_dax_region asks of device-dax
FIRMWARE = "BWFW VERSION 00"  # what QEMU's cxl-type3 reports in Identify Memory Device
PAYLOAD_MAX = 2048  # QEMU's mailbox payload (1 << CXL_MAILBOX_PAYLOAD_SHIFT)
MEMDEV, ENDPOINT, REGION = "cxl", "cxl-endpoint", "cxl-region"  # record kinds
# A region's progress through the kernel's write sequence (its record's ``state``); regions
# made whole by create_region have none and count as online.
NEW, ACTIVE, COMMITTED, ONLINE = "new", "active", "committed", "online"


@dataclass(frozen=True)
class MemdevLayout:
    """Every name and sysfs-relative path of expander number ``index`` of ``count``."""

    index: int
    count: int
    numa_node: int  # the socket the host bridge hangs off
    target_node: int  # the CPU-less node its memory becomes
    capacity: int
    window_start: int
    pci_path: str = ""  # the PCI function's folder, known once the topology placed it

    @classmethod
    def of(cls, record: DeviceRecord) -> MemdevLayout:
        """The layout of a written expander, from what its record keeps."""
        attrs = record.attributes
        return cls(index=int(record.name.removeprefix("cxl")), count=int(attrs["expanders"]),
                   numa_node=int(attrs["numaNode"]), target_node=int(attrs["targetNode"]),
                   capacity=int(attrs["capacity"]), window_start=int(attrs["windowStart"]),
                   pci_path=record.sysfs)

    @property
    def record(self) -> str:
        return f"cxl{self.index}"

    @property
    def memdev(self) -> str:
        return f"mem{self.index}"

    @property
    def memdev_path(self) -> str:
        return f"{self.pci_path}/{self.memdev}"

    @property
    def pci_root(self) -> int:
        """The PCI root index (``root_dir``) of this expander's host bridge."""
        return CXL_ROOT_BASE + self.index

    @property
    def host_bridge_dir(self) -> str:
        return root_dir(self.pci_root)

    @property
    def uid(self) -> int:
        """The host bridge's ``_UID``; QEMU's pxb-cxl uses its bus number, so do we."""
        return root_bus(self.pci_root)

    @property
    def acpi_host_bridge(self) -> str:
        return f"{ACPI_ROOT}/ACPI0016:{self.index:02x}"

    @property
    def port_id(self) -> int:
        return 1 + self.index

    @property
    def port(self) -> str:
        return f"port{self.port_id}"

    @property
    def port_path(self) -> str:
        return f"{ROOT}/{self.port}"

    @property
    def endpoint_id(self) -> int:
        return 1 + self.count + self.index

    @property
    def endpoint(self) -> str:
        return f"endpoint{self.endpoint_id}"

    @property
    def endpoint_path(self) -> str:
        return f"{self.port_path}/{self.endpoint}"

    @property
    def root_decoder(self) -> str:
        return f"decoder0.{self.index}"

    @property
    def root_decoder_path(self) -> str:
        return f"{ROOT}/{self.root_decoder}"

    def switch_decoder(self, slot: int) -> str:
        return f"decoder{self.port_id}.{slot}"

    def endpoint_decoder(self, slot: int) -> str:
        return f"decoder{self.endpoint_id}.{slot}"


@dataclass(frozen=True)
class RegionLayout:
    """One RAM region: HPA ``resource`` in its expander's window, DPA ``dpa`` on the device,
    decoded by slot ``slot`` of the host-bridge and endpoint decoders."""

    id: int
    memdev: MemdevLayout
    slot: int
    size: int
    dpa: int

    @classmethod
    def of(cls, record: DeviceRecord, memdev: MemdevLayout) -> RegionLayout:
        attrs = record.attributes
        return cls(id=int(record.name.removeprefix("region")), memdev=memdev,
                   slot=int(attrs["slot"]), size=int(attrs["size"]), dpa=int(attrs["dpa"]))

    @property
    def name(self) -> str:
        return f"region{self.id}"

    @property
    def resource(self) -> int:
        """Regions fill the window in DPA order, so the HPA offset is the DPA offset."""
        return self.memdev.window_start + self.dpa

    @property
    def path(self) -> str:
        return f"{self.memdev.root_decoder_path}/{self.name}"

    @property
    def dax_region(self) -> str:
        return f"dax_region{self.id}"

    @property
    def dax_region_path(self) -> str:
        return f"{self.path}/{self.dax_region}"

    @property
    def dax(self) -> str:
        return f"dax{self.id}.0"

    @property
    def dax_path(self) -> str:
        return f"{self.dax_region_path}/{self.dax}"

    @property
    def blocks(self) -> range:
        """The memory blocks (``devices/system/memory/memoryN``) the onlined region covers."""
        first = self.resource // MEMORY_BLOCK
        return range(first, first + self.size // MEMORY_BLOCK)
