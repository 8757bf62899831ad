"""FPGAs found the way OPAE and Intel's FPGA plugin find them: from ``class/fpga_region``.

A DFL card registers a base FPGA region under its PCI function; the FME (management engine)
and one or more ports (``dfl-port.N``, the accelerator slots) hang off it. The region's link
leads back to the PCI function, whose class must be processing-accelerator ``0x120000``, as
Intel's plugin insists: other drivers register FPGA regions too (Xilinx's, a test module) and
those are not ours to hand out. Each port is one device, because a port is what a container
opens. Its ``compat_id`` (the PR interface id a bitstream must be built for) lives on the
FME's own nested region; the currently loaded AFU's id on the port.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dra_reference.discovery.model import PCIE_ROOT, Device, dns_name
from dra_reference.discovery.sysfs import SysfsRoot, char_device, pcie_root

log = logging.getLogger(__name__)
FPGA_CLASS = 0x120000
PRODUCTS = {
    (0x8086, 0x09C4): "PAC Arria 10 GX",
    (0x8086, 0x0B2B): "PAC D5005",
    (0x8086, 0x0B30): "PAC N3000",
}
FME_ERROR_FILES = ("catfatal_errors", "nonfatal_errors", "fme_errors")


def discover_fpgas(sysfs: SysfsRoot, devfs: Path) -> list[Device]:
    found: list[Device] = []
    for region in sysfs.entries("class/fpga_region"):
        path = sysfs.device_path(f"class/fpga_region/{region}")
        ports = sysfs.entries(path, "dfl-port.") if path is not None else []
        if path is None or not ports:
            continue  # an FME's nested PR region, or a region that vanished meanwhile
        pci = path.parent.parent  # <BDF>/fpga_region/regionN
        if sysfs.read_int(pci / "class", 16) != FPGA_CLASS:
            log.debug("skipping FPGA region %s: its parent %s is not class 0x%06x",
                      region, pci, FPGA_CLASS)
            continue
        fme = next(iter(sysfs.entries(path, "dfl-fme.")), "")
        for port in ports:
            device = _port(sysfs, devfs, path, fme, port, multi_port=len(ports) > 1)
            if device is not None:
                found.append(device)
    return found


def _port(sysfs: SysfsRoot, devfs: Path, region: Path, fme: str, port: str, *,
          multi_port: bool) -> Device | None:
    pci = region.parent.parent
    node = char_device(sysfs, region / port / "dev", devfs, port)
    if node is None:
        return None  # no /dev/dfl-port.N: nothing a container could open
    bdf = pci.name
    vendor = sysfs.read_int(pci / "vendor", 16) or 0
    device = sysfs.read_int(pci / "device", 16) or 0
    port_id = sysfs.read_int(region / port / "id") or 0
    fme_path = region / fme
    attributes: dict[str, str | int | bool] = {
        "type": "fpga", "vendor": "intel" if vendor == 0x8086 else f"0x{vendor:04x}",
        "vendorID": f"0x{vendor:04x}", "deviceID": f"0x{device:04x}",
        "model": PRODUCTS.get((vendor, device), f"0x{vendor:04x}:0x{device:04x}"),
        "kernelDriver": sysfs.link_name(pci / "driver") or "", "pciAddress": bdf,
        "numaNode": sysfs.read_int(pci / "numa_node") or 0, PCIE_ROOT: pcie_root(pci),
        "region": region.name, "port": port, "portID": port_id, "fme": fme,
        "compatID": sysfs.read(_first(sysfs, fme_path, "dfl-fme-region.", "fpga_region",
                                      "region") / "compat_id") or "",
        "afuID": sysfs.read(region / port / "afu_id") or "",
        "bitstreamID": sysfs.read(fme_path / "bitstream_id") or "",
        "socketID": sysfs.read_int(fme_path / "socket_id") or 0,
    }
    problems = _problems(sysfs, pci, fme_path, region / port)
    name = dns_name("fpga", bdf) + (f"-port{port_id}" if multi_port else "")
    paths = {"port": str(region / port), "fme": str(fme_path),
             "manager": str(_first(sysfs, fme_path, "dfl-fme-mgr.", "fpga_manager", "fpga")),
             "bridge": str(_first(sysfs, fme_path, "dfl-fme-bridge.", "fpga_bridge", "br"))}
    return Device(name=name, kind="fpga", attributes=attributes, nodes=(node,),
                  sysfs_path=str(pci), healthy=not problems,
                  health_message="; ".join(problems), paths=paths)


def _first(sysfs: SysfsRoot, fme: Path, device: str, cls: str, prefix: str) -> Path:
    """``<fme>/<device>*/<cls>/<prefix>*``: the FME's manager, bridge or PR region."""
    for child in sysfs.entries(fme, device):
        for entry in sysfs.entries(fme / child / cls, prefix):
            return fme / child / cls / entry
    return fme / f"{device}missing" / cls / prefix


def _problems(sysfs: SysfsRoot, pci: Path, fme: Path, port: Path) -> list[str]:
    """What dfl-fme-error.c, dfl-afu-error.c and AER report as wrong with the card."""
    problems = []
    if fatal := sysfs.aer_fatal(pci):
        problems.append(f"{fatal} fatal PCIe errors (AER)")
    for name in FME_ERROR_FILES:
        if value := sysfs.read_int(fme / "errors" / name, 16):
            problems.append(f"FME {name} 0x{value:x}")
    if value := sysfs.read_int(port / "errors" / "errors", 16):
        problems.append(f"port errors 0x{value:x}")
    return problems
