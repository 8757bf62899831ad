"""PCI functions as the kernel shows them in sysfs.

Each function gets the attribute files real drivers read, a binary ``config`` whose header
agrees with them (pciutils reads both), and the links that make the tree navigable:
``bus/pci/devices/<BDF>``, ``driver``, ``subsystem`` and ``iommu_group``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from fakehw.tree.writer import TreeWriter

BRIDGE_CLASS = 0x060400
ROOT_PORT = (0x8086, 0x2030)  # Sky Lake-E PCIe root port A, known to pci.ids


@dataclass(frozen=True)
class PCIFunction:
    bdf: str
    parent: str  # sysfs-relative directory the function sits in
    vendor: int
    device: int
    pci_class: int
    driver: str
    numa_node: int
    cpulist: str
    iommu_group: int
    subsystem_vendor: int = 0
    subsystem_device: int = 0
    revision: int = 0x01
    secondary_bus: int = -1  # set for bridges
    bar_base: int = 0
    bar_sizes: tuple[int, ...] = ()

    @property
    def path(self) -> str:
        return f"{self.parent}/{self.bdf}"

    @property
    def is_bridge(self) -> bool:
        return self.secondary_bus >= 0


def bdf(bus: int, devfn: int, domain: int = 0) -> str:
    return f"{domain:04x}:{bus:02x}:{devfn >> 3:02x}.{devfn & 7:x}"


def config_space(fn: PCIFunction) -> bytes:
    """A 256-byte type 0 or type 1 configuration header consistent with the attributes."""
    space = bytearray(256)
    struct.pack_into("<HHHH", space, 0, fn.vendor, fn.device, 0x0406, 0x0010)
    space[8] = fn.revision
    space[9:12] = fn.pci_class.to_bytes(3, "little")
    space[0x0E] = 0x01 if fn.is_bridge else 0x00
    if fn.is_bridge:
        primary = int(fn.bdf.split(":")[1], 16)
        space[0x18:0x1B] = bytes([primary, fn.secondary_bus, fn.secondary_bus])
    else:
        struct.pack_into("<HH", space, 0x2C, fn.subsystem_vendor, fn.subsystem_device)
        for index in range(min(len(fn.bar_sizes), 6)):
            bar = (_bar_start(fn, index) & 0xFFFFFFF0) | 0x08  # memory, prefetchable
            struct.pack_into("<I", space, 0x10 + 4 * index, bar & 0xFFFFFFFF)
    return bytes(space)


def _bar_start(fn: PCIFunction, index: int) -> int:
    return fn.bar_base + sum(fn.bar_sizes[:index])


def resource_lines(fn: PCIFunction) -> str:
    lines = []
    for index in range(13):
        if index < len(fn.bar_sizes) and fn.bar_sizes[index]:
            start = _bar_start(fn, index)
            end = start + fn.bar_sizes[index] - 1
            lines.append(f"0x{start:016x} 0x{end:016x} 0x{0x0014220c:016x}")
        else:
            lines.append(f"0x{0:016x} 0x{0:016x} 0x{0:016x}")
    return "\n".join(lines)


def write_function(tree: TreeWriter, fn: PCIFunction) -> None:
    """Create the function's directory, attributes and links."""
    path = fn.path
    tree.mkdir(path)
    for name, value in (
        ("vendor", f"0x{fn.vendor:04x}"), ("device", f"0x{fn.device:04x}"),
        ("subsystem_vendor", f"0x{fn.subsystem_vendor:04x}"),
        ("subsystem_device", f"0x{fn.subsystem_device:04x}"),
        ("class", f"0x{fn.pci_class:06x}"), ("revision", f"0x{fn.revision:02x}"),
        ("numa_node", fn.numa_node), ("local_cpulist", fn.cpulist),
        ("local_cpus", cpumask(fn.cpulist)), ("resource", resource_lines(fn)),
        ("irq", 0), ("enable", 1), ("d3cold_allowed", 1), ("broken_parity_status", 0),
        ("current_link_speed", "16.0 GT/s PCIe"), ("current_link_width", 16),
        ("max_link_speed", "16.0 GT/s PCIe"), ("max_link_width", 16),
        ("modalias", modalias(fn)), ("uevent", uevent(fn)),
    ):
        tree.attr(f"{path}/{name}", value)
    tree.attr(f"{path}/config", config_space(fn), mode=0o644)
    write_aer(tree, path, fatal=0)
    tree.link(f"{path}/subsystem", "bus/pci", owned=False)
    tree.link(f"bus/pci/devices/{fn.bdf}", path)
    group = f"kernel/iommu_groups/{fn.iommu_group}"
    tree.mkdir(f"{group}/devices")
    tree.attr(f"{group}/type", "DMA-FQ")
    tree.link(f"{path}/iommu_group", group, owned=False)
    tree.link(f"{group}/devices/{fn.bdf}", path)
    if fn.driver:
        bind_driver(tree, path, fn.bdf, fn.driver)


def bind_driver(tree: TreeWriter, path: str, name: str, driver: str, bus: str = "pci") -> None:
    folder = f"bus/{bus}/drivers/{driver}"
    for control in ("bind", "unbind", "uevent"):
        if not (tree.sys / folder / control).exists():
            tree.attr(f"{folder}/{control}", "", mode=0o200)
    tree.link(f"{path}/driver", folder, owned=False)
    tree.link(f"{folder}/{name}", path)


AER_FATAL = ("Undefined", "DLP", "SDES", "TLP", "FCP", "CmpltTO", "CmpltAbrt", "UnxCmplt",
             "RxOF", "MalfTLP", "ECRC", "UnsupReq", "ACSViol", "UncorrIntErr", "BlockedTLP",
             "AtomicOpBlocked", "TLPBlockedErr", "PoisonTLPBlocked")


def write_aer(tree: TreeWriter, path: str, fatal: int) -> None:
    """The AER counters the kernel keeps per function; a fatal count marks a failed device."""
    body = [f"{name} {fatal if name == 'CmpltTO' else 0}" for name in AER_FATAL]
    tree.attr(f"{path}/aer_dev_fatal", "\n".join([*body, f"TOTAL_ERR_FATAL {fatal}"]))
    tree.attr(f"{path}/aer_dev_nonfatal",
              "\n".join([*(f"{name} 0" for name in AER_FATAL), "TOTAL_ERR_NONFATAL 0"]))
    tree.attr(f"{path}/aer_dev_correctable", "\n".join(
        ["RxErr 0", "BadTLP 0", "BadDLLP 0", "Rollover 0", "Timeout 0", "NonFatalErr 0",
         "CorrIntErr 0", "HeaderOF 0", "TOTAL_ERR_COR 0"]))


def modalias(fn: PCIFunction) -> str:
    cls = fn.pci_class
    return (f"pci:v{fn.vendor:08X}d{fn.device:08X}sv{fn.subsystem_vendor:08X}"
            f"sd{fn.subsystem_device:08X}"
            f"bc{cls >> 16:02X}sc{(cls >> 8) & 0xFF:02X}i{cls & 0xFF:02X}")


def uevent(fn: PCIFunction) -> str:
    lines = [f"DRIVER={fn.driver}"] if fn.driver else []
    lines += [
        f"PCI_CLASS={fn.pci_class:X}", f"PCI_ID={fn.vendor:04X}:{fn.device:04X}",
        f"PCI_SUBSYS_ID={fn.subsystem_vendor:04X}:{fn.subsystem_device:04X}",
        f"PCI_SLOT_NAME={fn.bdf}", f"MODALIAS={modalias(fn)}",
    ]
    return "\n".join(lines)


def cpumask(cpulist: str) -> str:
    """``0-7,16`` -> ``00000000,000100ff``-style mask, as ``local_cpus`` shows it."""
    mask = 0
    for part in filter(None, cpulist.split(",")):
        low, _, high = part.partition("-")
        for cpu in range(int(low), int(high or low) + 1):
            mask |= 1 << cpu
    words = max(1, (mask.bit_length() + 31) // 32)
    return ",".join(f"{(mask >> (32 * i)) & 0xFFFFFFFF:08x}" for i in reversed(range(words)))


def write_bus(tree: TreeWriter) -> None:
    """The bus-level files every PCI tree has, whatever devices it holds."""
    tree.mkdir("bus/pci/devices")
    tree.mkdir("bus/pci/slots")
    tree.attr("bus/pci/rescan", "", mode=0o200)
    tree.attr("bus/pci/drivers_autoprobe", 1, mode=0o644)
    tree.attr("bus/pci/resource_alignment", "", mode=0o644)
