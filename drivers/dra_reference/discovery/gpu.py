"""GPUs found the way Intel's, AMD's and NVIDIA's drivers find them.

A display-class PCI function with a DRM ``card`` entry is a GPU. Its memory comes from the
vendor's own attribute (Intel ``lmem_total_bytes`` on the card, AMD ``mem_info_vram_total``);
SR-IOV comes from ``sriov_numvfs``/``physfn``; health from the AER fatal counter. A GPU
bound to NVIDIA's proprietary driver also needs that driver's own nodes: ``/dev/nvidiaN``,
N being the "Device Minor" of ``/proc/driver/nvidia/gpus/<BDF>/information``, and the
control node ``/dev/nvidiactl``.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from dra_reference.discovery.model import PCIE_ROOT, Device, DeviceNode, dns_name
from dra_reference.discovery.sysfs import SysfsRoot, pcie_root

DISPLAY_CLASS = 0x03
VENDORS = {0x8086: "intel", 0x1002: "amd", 0x10DE: "nvidia"}
PRODUCTS = {
    (0x8086, 0x56C0): "Data Center GPU Flex 170",
    (0x8086, 0x56A0): "Arc A770",
    (0x8086, 0xE20B): "Arc B580",
    (0x1002, 0x740F): "Instinct MI210",
    (0x10DE, 0x20B0): "A100-SXM4-40GB",
}
# Memory of SKUs whose kernel driver shows none in sysfs (NVIDIA reports it through NVML
# only); the SKU fixes it, as the "40GB" in the product name says.
SKU_MEMORY = {(0x10DE, 0x20B0): 40 * 2**30}


def discover_gpus(sysfs: SysfsRoot, devfs: Path, procfs: Path) -> list[Device]:
    found = []
    for bdf in sysfs.entries("bus/pci/devices"):
        path = sysfs.device_path(f"bus/pci/devices/{bdf}")
        if path is None or (sysfs.read_int(path / "class", 16) or 0) >> 16 != DISPLAY_CLASS:
            continue
        gpu = _gpu(sysfs, devfs, procfs, bdf, path)
        if gpu is not None:
            found.append(gpu)
    return found


def _gpu(sysfs: SysfsRoot, devfs: Path, procfs: Path, bdf: str, path: Path) -> Device | None:
    cards = sysfs.entries(path / "drm", "card")
    if not cards:
        return None  # bound to vfio-pci or not probed: no DRM device to hand out
    vendor = sysfs.read_int(path / "vendor", 16) or 0
    device = sysfs.read_int(path / "device", 16) or 0
    physfn = sysfs.link_name(path / "physfn")
    attributes: dict[str, str | int | bool] = {
        "type": "gpu", "vendor": VENDORS.get(vendor, f"0x{vendor:04x}"),
        "vendorID": f"0x{vendor:04x}", "deviceID": f"0x{device:04x}",
        "model": PRODUCTS.get((vendor, device), f"0x{vendor:04x}:0x{device:04x}"),
        "kernelDriver": sysfs.link_name(path / "driver") or "", "pciAddress": bdf,
        "numaNode": sysfs.read_int(path / "numa_node") or 0, PCIE_ROOT: pcie_root(path),
        "virtualFunction": physfn is not None,
    }
    if physfn:
        attributes["physicalFunction"] = physfn
    total_vfs = sysfs.read_int(path / "sriov_numvfs")
    if total_vfs:
        attributes["sriovVFs"] = total_vfs
    memory = _memory(sysfs, path, cards[0]) or SKU_MEMORY.get((vendor, device), 0)
    nodes = tuple(n for n in (_node(sysfs, devfs, path / "drm", name)
                              for name in cards + sysfs.entries(path / "drm", "renderD")) if n)
    if attributes["kernelDriver"] == "nvidia":
        nodes += _nvidia_nodes(procfs, devfs, bdf)
    fatal = sysfs.aer_fatal(path)
    return Device(
        name=dns_name("gpu", bdf), kind="gpu", attributes=attributes,
        capacity={"memory": memory} if memory else {}, nodes=nodes, sysfs_path=str(path),
        parent=dns_name("gpu", physfn) if physfn else "", healthy=fatal == 0,
        health_message=f"{fatal} fatal PCIe errors (AER)" if fatal else "")


def _memory(sysfs: SysfsRoot, path: Path, card: str) -> int:
    for candidate in (path / "drm" / card / "lmem_total_bytes", path / "mem_info_vram_total"):
        value = sysfs.read_int(candidate)
        if value:
            return value
    return 0


def _node(sysfs: SysfsRoot, devfs: Path, drm: Path, name: str) -> DeviceNode | None:
    numbers = sysfs.read(drm / name / "dev")
    if not numbers or ":" not in numbers:
        return None
    major, minor = (int(n) for n in numbers.split(":"))
    host = devfs / "dri" / name
    if not os.path.exists(host):
        return None
    return DeviceNode(path=f"/dev/dri/{name}", host_path=str(host), major=major, minor=minor)


def _nvidia_nodes(procfs: Path, devfs: Path, bdf: str) -> tuple[DeviceNode, ...]:
    """``/dev/nvidiaN`` and ``/dev/nvidiactl``, as the driver's procfs entry numbers them."""
    try:
        information = (procfs / "driver/nvidia/gpus" / bdf / "information").read_text()
    except OSError:
        return ()
    minor = re.search(r"^Device Minor:\s*(\d+)", information, re.MULTILINE)
    if minor is None:
        return ()
    found = (_char_node(devfs, f"nvidia{minor.group(1)}"), _char_node(devfs, "nvidiactl"))
    return tuple(node for node in found if node is not None)


def _char_node(devfs: Path, name: str) -> DeviceNode | None:
    host = devfs / name
    try:
        info = os.stat(host)
    except OSError:
        return None
    if not stat.S_ISCHR(info.st_mode):
        return None
    return DeviceNode(path=f"/dev/{name}", host_path=str(host), major=os.major(info.st_rdev),
                      minor=os.minor(info.st_rdev))
