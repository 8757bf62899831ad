"""A CXL type-3 memory expander: the PCI function ``cxl_pci`` binds and the ``memN`` under it.

libcxl lists a memdev only if ``/dev/cxl/memN`` is a character device and ``ram/size``,
``pmem/size``, ``payload_max``, ``label_storage_size`` and ``firmware_version`` read; the
``host`` it prints is the folder the memdev sits in (the PCI function), and without a
``driver`` link it shows the memdev only with ``-i``. Identity follows QEMU's ``cxl-type3``.
"""

from __future__ import annotations

import hashlib

from fakehw.devices.cxl.layout import FIRMWARE, MEM_MAJOR, PAYLOAD_MAX, MemdevLayout
from fakehw.devices.cxl.sysfs import (
    CXL_MEMORY_EXPANDER,
    bus_register,
    char_device,
    cxl_files,
)
from fakehw.devices.pci import PCIFunction, bdf, write_function
from fakehw.tree.topology import Topology
from fakehw.tree.writer import DeviceRecord, TreeWriter

VENDOR, DEVICE, CXL_MEMORY_CLASS = 0x8086, 0x0D93, 0x050210
SUBSYSTEM = (0x1AF4, 0x1100)  # QEMU's default subsystem ids
BARS = (64 << 10, 64 << 10)  # component registers, device registers (mailbox)


def serial_number(seed: str, name: str) -> int:
    """A device serial number that repeats for the same node: 63 bits of a hash of both."""
    digest = hashlib.sha256(f"fakehw://{seed}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def place(topo: Topology, mem: MemdevLayout) -> tuple[PCIFunction, PCIFunction]:
    """The root port under the expander's host bridge, and the expander's function behind it."""
    port, bus = topo.root_port(mem.pci_root, mem.numa_node)
    fn = PCIFunction(
        bdf=bdf(bus, 0), parent=port.path, vendor=VENDOR, device=DEVICE,
        pci_class=CXL_MEMORY_CLASS, driver="cxl_pci", numa_node=mem.numa_node,
        cpulist=topo.cpulist(mem.numa_node), iommu_group=topo.next_iommu_group(),
        subsystem_vendor=SUBSYSTEM[0], subsystem_device=SUBSYSTEM[1],
        bar_base=0x3000000000 + (bus << 24), bar_sizes=BARS,
    )
    return port, fn


def write_memdev(tree: TreeWriter, fn: PCIFunction, mem: MemdevLayout, serial: int) -> None:
    """The PCI function and its memdev, with ``/dev/cxl/memN``; call inside the record."""
    write_function(tree, fn)
    path = mem.memdev_path
    minor = mem.index
    cxl_files(tree, path, "cxl_memdev", CXL_MEMORY_EXPANDER, "cxl_mem", base_attributes=False)
    tree.attr(f"{path}/uevent", "\n".join([
        f"MAJOR={MEM_MAJOR}", f"MINOR={minor}", f"DEVNAME=cxl/{mem.memdev}",
        "DEVTYPE=cxl_memdev", "DRIVER=cxl_mem", f"MODALIAS=cxl:t{CXL_MEMORY_EXPANDER}"]),
              mode=0o644)
    for name, value in (("dev", f"{MEM_MAJOR}:{minor}"), ("ram/size", f"{mem.capacity:#x}"),
                        ("pmem/size", "0x0"), ("serial", f"{serial:#x}"),
                        ("numa_node", mem.numa_node), ("firmware_version", FIRMWARE),
                        ("payload_max", PAYLOAD_MAX), ("label_storage_size", 0),
                        ("security/state", "disabled")):
        tree.attr(f"{path}/{name}", value)
    bus_register(tree, path, "cxl", "cxl_mem")
    char_device(tree, path, f"cxl/{mem.memdev}", MEM_MAJOR, minor)


def memdev_record(fn: PCIFunction, root_port: PCIFunction, mem: MemdevLayout,
                  serial: int) -> DeviceRecord:
    """The record a DRA driver's view is checked against; ``expanders``, ``targetNode`` and
    ``windowStart`` also let live operations rebuild the layout."""
    return DeviceRecord(name=mem.record, kind="cxl", sysfs=fn.path, bdf=fn.bdf, attributes={
        "vendor": f"0x{VENDOR:04x}", "device": f"0x{DEVICE:04x}", "driver": "cxl_pci",
        "memdev": mem.memdev, "host": fn.bdf, "serial": serial, "capacity": mem.capacity,
        "freeCapacity": mem.capacity, "numaNode": mem.numa_node,
        "targetNode": mem.target_node, "pcieRoot": root_port.parent.removeprefix("devices/"),
        "port": mem.port, "endpoint": mem.endpoint, "rootDecoder": mem.root_decoder,
        "windowStart": mem.window_start, "expanders": mem.count, "regions": "",
    })
