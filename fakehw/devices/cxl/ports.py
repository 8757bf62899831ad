"""The CXL port hierarchy ``cxl_acpi`` and ``cxl_port`` build: root, host bridges, endpoints.

libcxl walks it from ``bus/cxl/devices/root0``: a port's children are the ``portN`` and
``endpointN`` folders inside it, its decoders the ``decoder<port id>.<n>`` folders, its
downstream ports the ``dportN`` links; ``uport`` names the device the port stands for (the
``ACPI0017`` platform device, a host bridge's ``pci0000:XX``, the memdev). A decoder's
``target_list`` holds dport ids, which libcxl resolves through those ``dportN`` links.
"""

from __future__ import annotations

from fakehw.devices.cxl.layout import (
    ACPI_ROOT,
    HDM_DECODERS,
    INTERLEAVE_GRANULARITY,
    PLATFORM,
    ROOT,
    MemdevLayout,
    RegionLayout,
)
from fakehw.devices.cxl.sysfs import (
    CXL_DECODER,
    CXL_PORT,
    CXL_ROOT,
    cxl_device,
    replace_attr,
)
from fakehw.devices.pci import PCIFunction, bind_driver
from fakehw.tree.writer import TreeWriter

ACPI_HOST_BRIDGE_IDS = "acpi:ACPI0016:PNP0A08:PNP0A03:"


def write_root(tree: TreeWriter) -> None:
    """The ACPI0017 platform device ``cxl_acpi`` binds, and ``root0`` under it."""
    firmware = f"{ACPI_ROOT}/ACPI0017:00"
    _acpi_device(tree, firmware, "ACPI0017", "acpi:ACPI0017:", acpi_path="\\_SB_.CXLR",
                 physical=PLATFORM)
    tree.attr(f"{PLATFORM}/modalias", "acpi:ACPI0017:")
    tree.attr(f"{PLATFORM}/uevent", "DRIVER=cxl_acpi\nMODALIAS=acpi:ACPI0017:", mode=0o644)
    tree.attr(f"{PLATFORM}/driver_override", "(null)", mode=0o644)
    tree.link(f"{PLATFORM}/firmware_node", firmware, owned=False)
    tree.link(f"{PLATFORM}/subsystem", "bus/platform", owned=False)
    tree.link("bus/platform/devices/ACPI0017:00", PLATFORM)
    bind_driver(tree, PLATFORM, "ACPI0017:00", "cxl_acpi", bus="platform")
    cxl_device(tree, ROOT, "cxl_port", CXL_ROOT)  # no cxl driver claims the root
    tree.link(f"{ROOT}/uport", PLATFORM, owned=False)
    replace_attr(tree, f"{ROOT}/decoders_committed", 0)


def _acpi_device(tree: TreeWriter, path: str, hid: str, modalias: str, *, acpi_path: str,
                 physical: str) -> None:
    for name, value in (("hid", hid), ("modalias", modalias), ("path", acpi_path),
                        ("status", 15), ("uevent", f"MODALIAS={modalias}")):
        tree.attr(f"{path}/{name}", value)
    tree.link(f"{path}/physical_node", physical, owned=False)


def write_host_bridge(tree: TreeWriter, mem: MemdevLayout, root_port: PCIFunction) -> None:
    """One host bridge: its ACPI0016 device, root decoder, ``port`` and switch decoders.

    The port's only downstream port is the root port the expander sits behind; its dport id
    is the root port's PCIe port number, which we take from its device number.
    """
    uid = mem.uid
    _acpi_device(tree, mem.acpi_host_bridge, "ACPI0016", ACPI_HOST_BRIDGE_IDS,
                 acpi_path=f"\\_SB_.PC{uid:02X}", physical=mem.host_bridge_dir)
    tree.attr(f"{mem.acpi_host_bridge}/uid", uid)
    tree.attr(f"{mem.host_bridge_dir}/uevent", "")
    tree.link(f"{mem.host_bridge_dir}/firmware_node", mem.acpi_host_bridge, owned=False)
    tree.link(f"{ROOT}/dport{uid}", mem.acpi_host_bridge, owned=False)
    write_root_decoder(tree, mem)
    dport = int(root_port.bdf.split(":")[2].split(".")[0], 16)
    cxl_device(tree, mem.port_path, "cxl_port", CXL_PORT, "cxl_port")
    tree.link(f"{mem.port_path}/uport", mem.host_bridge_dir, owned=False)
    tree.link(f"{mem.port_path}/parent_dport", mem.acpi_host_bridge, owned=False)
    tree.link(f"{mem.port_path}/dport{dport}", root_port.path, owned=False)
    for slot in range(HDM_DECODERS):
        path = f"{mem.port_path}/{mem.switch_decoder(slot)}"
        _decoder(tree, path, "cxl_decoder_switch")
        tree.attr(f"{path}/target_list", dport)
        tree.attr(f"{path}/target_type", "expander")
        write_switch_decoder(tree, mem, slot, None)
    replace_attr(tree, f"{mem.port_path}/decoders_committed", 0)


def write_root_decoder(tree: TreeWriter, mem: MemdevLayout) -> None:
    """The decoder for the expander's CFMWS window: RAM-capable, one target, never committed."""
    path = mem.root_decoder_path
    _decoder(tree, path, "cxl_decoder_root")
    for name, value in (("start", f"{mem.window_start:#x}"), ("size", f"{mem.capacity:#x}"),
                        ("interleave_ways", 1),
                        ("interleave_granularity", INTERLEAVE_GRANULARITY),
                        ("target_list", mem.uid), ("cap_ram", 1), ("cap_pmem", 0),
                        ("cap_type2", 0), ("cap_type3", 1), ("locked", 0)):
        tree.attr(f"{path}/{name}", value)
    tree.attr(f"{path}/delete_region", "", mode=0o200)


def write_endpoint(tree: TreeWriter, mem: MemdevLayout, root_port: PCIFunction) -> None:
    """The endpoint port ``cxl_mem`` adds for the memdev, with its (free) HDM decoders."""
    cxl_device(tree, mem.endpoint_path, "cxl_port", CXL_PORT, "cxl_port")
    tree.link(f"{mem.endpoint_path}/uport", mem.memdev_path, owned=False)
    tree.link(f"{mem.endpoint_path}/parent_dport", root_port.path, owned=False)
    for slot in range(HDM_DECODERS):
        path = f"{mem.endpoint_path}/{mem.endpoint_decoder(slot)}"
        _decoder(tree, path, "cxl_decoder_endpoint")
        tree.attr(f"{path}/target_type", "expander")
        write_endpoint_decoder(tree, mem, slot, None)
    replace_attr(tree, f"{mem.endpoint_path}/decoders_committed", 0)


def _decoder(tree: TreeWriter, path: str, devtype: str) -> None:
    cxl_device(tree, path, devtype, CXL_DECODER)


def write_switch_decoder(tree: TreeWriter, mem: MemdevLayout, slot: int,
                         region: RegionLayout | None) -> None:
    """A host-bridge decoder committed to ``region``, or reset (all zero) without one."""
    _decode(tree, f"{mem.port_path}/{mem.switch_decoder(slot)}", region)


def write_endpoint_decoder(tree: TreeWriter, mem: MemdevLayout, slot: int,
                           region: RegionLayout | None,
                           held: tuple[int, int] | None = None) -> None:
    """An endpoint decoder: its HPA range and, when in use, the DPA range it claims; ``held``
    is a (dpa, size) reservation made through ``dpa_size`` that no region uses yet."""
    path = f"{mem.endpoint_path}/{mem.endpoint_decoder(slot)}"
    _decode(tree, path, region)
    dpa, size = (region.dpa, region.size) if region else held or (2**64 - 1, 0)
    # keep_writes: a mode or size a driver just wrote, not yet acted on, must stay to be read
    replace_attr(tree, f"{path}/mode", "ram" if region or held else "none", mode=0o644,
                 keep_writes=True)
    replace_attr(tree, f"{path}/dpa_resource", f"{dpa:#x}")
    replace_attr(tree, f"{path}/dpa_size", f"0x{size:016x}", mode=0o644,  # the kernel's %pa
                 keep_writes=True)


def _decode(tree: TreeWriter, path: str, region: RegionLayout | None) -> None:
    start, size = (region.resource, region.size) if region else (0, 0)
    for name, value in (("start", f"{start:#x}"), ("size", f"{size:#x}"),
                        ("interleave_ways", 1),
                        ("interleave_granularity", INTERLEAVE_GRANULARITY),
                        ("locked", 0), ("region", region.name if region else "")):
        replace_attr(tree, f"{path}/{name}", value, mode=0o644 if name == "region" else 0o444)


def write_committed(tree: TreeWriter, port_path: str, count: int) -> None:
    replace_attr(tree, f"{port_path}/decoders_committed", count)


def region_seed(tree: TreeWriter, mem: MemdevLayout, region_id: int) -> None:
    """``create_ram_region`` reads back the name the next region of this window will take."""
    replace_attr(tree, f"{mem.root_decoder_path}/create_ram_region", f"region{region_id}",
                 mode=0o644)
