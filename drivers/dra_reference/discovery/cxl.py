"""CXL memory expanders found the way libcxl (``cxl list -M``) finds them: ``bus/cxl/devices/mem*``.

Each memdev is one device offering its volatile capacity as consumable capacity: claims take
slices of it and the preparer turns each slice into a RAM region. Capacity already held by
regions somebody else made (the administrator onlined part of it at boot) is not offered;
regions this driver made for claims still count as offered, because the scheduler accounts
for those itself. The root decoder a region must be created under is found as the kernel
finds it: the decoder whose ``target_list`` names the host bridge the memdev's port sits on.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from dra_reference.discovery.model import PCIE_ROOT, Device, dns_name
from dra_reference.discovery.sysfs import SysfsRoot, char_device, pcie_root


def discover_cxl(sysfs: SysfsRoot, devfs: Path,
                 owned_regions: Collection[str] = ()) -> list[Device]:
    """Every memdev with RAM and a ``/dev/cxl/memN`` node; ``owned_regions`` are ours."""
    found = []
    for memdev in sysfs.entries("bus/cxl/devices", "mem"):
        path = sysfs.device_path(f"bus/cxl/devices/{memdev}")
        if path is not None:
            device = _memdev(sysfs, devfs, memdev, path, owned_regions)
            if device is not None:
                found.append(device)
    return found


def _memdev(sysfs: SysfsRoot, devfs: Path, memdev: str, path: Path,
            owned: Collection[str]) -> Device | None:
    ram = sysfs.read_int(path / "ram" / "size", 16) or 0
    node = char_device(sysfs, path / "dev", devfs, f"cxl/{memdev}")
    if not ram or node is None:
        return None  # pmem-only or no node: libcxl would not list it either
    host = path.parent
    endpoint = _endpoint(sysfs, path)
    foreign = sum(size for region, size in _regions(sysfs, endpoint) if region not in owned)
    attributes: dict[str, str | int | bool] = {
        "type": "cxl-memory", "memdev": memdev, "host": host.name,
        "serial": f"0x{sysfs.read_int(path / 'serial', 16) or 0:016x}",
        "numaNode": sysfs.read_int(path / "numa_node") or 0, PCIE_ROOT: pcie_root(host),
        "vendorID": sysfs.read(host / "vendor") or "",
        "deviceID": sysfs.read(host / "device") or "",
        "firmwareVersion": sysfs.read(path / "firmware_version") or "", "ramSize": ram,
    }
    problems = []
    if fatal := sysfs.aer_fatal(host):
        problems.append(f"{fatal} fatal PCIe errors (AER)")
    if sysfs.link_name(path / "driver") is None:
        problems.append("cxl_mem released the memdev (no driver bound)")
    paths = {"memdev": str(path), "endpoint": str(endpoint) if endpoint else "",
             "rootDecoder": str(_root_decoder(sysfs, endpoint) or "")}
    return Device(name=dns_name("cxl", host.name), kind="cxl", attributes=attributes,
                  capacity={"memory": max(ram - foreign, 0)}, nodes=(node,),
                  sysfs_path=str(path), healthy=not problems,
                  health_message="; ".join(problems), paths=paths)


def _endpoint(sysfs: SysfsRoot, memdev: Path) -> Path | None:
    """The endpoint port ``cxl_mem`` created for the memdev (its ``uport`` points back)."""
    for name in sysfs.entries("bus/cxl/devices", "endpoint"):
        path = sysfs.device_path(f"bus/cxl/devices/{name}")
        if path is not None and sysfs.device_path(path / "uport") == memdev:
            return path
    return None


def _regions(sysfs: SysfsRoot, endpoint: Path | None) -> list[tuple[str, int]]:
    """(region, bytes) for each endpoint decoder committed to a region."""
    if endpoint is None:
        return []
    used = []
    for decoder in sysfs.entries(endpoint, "decoder"):
        region = sysfs.read(endpoint / decoder / "region") or ""
        if region:
            used.append((region, sysfs.read_int(endpoint / decoder / "dpa_size", 16) or 0))
    return used


def _root_decoder(sysfs: SysfsRoot, endpoint: Path | None) -> Path | None:
    """The RAM-capable root decoder whose targets include the memdev's host bridge."""
    if endpoint is None:
        return None
    bridge = sysfs.device_path(endpoint.parent / "parent_dport")
    for root in sysfs.entries("bus/cxl/devices", "root"):
        root_path = sysfs.device_path(f"bus/cxl/devices/{root}")
        if root_path is None:
            continue
        ids = {name.removeprefix("dport") for name in sysfs.entries(root_path, "dport")
               if sysfs.device_path(root_path / name) == bridge}
        for decoder in sysfs.entries(root_path, "decoder"):
            targets = (sysfs.read(root_path / decoder / "target_list") or "").split(",")
            if sysfs.read(root_path / decoder / "cap_ram") == "1" and ids & set(targets):
                return root_path / decoder
    return None
