"""A RAM region, its DAX region and the device-dax instance ``kmem`` onlines as system RAM.

The region sits under its root decoder; ``cxl_region`` creates ``dax_regionN`` under it and
the DAX core the ``daxN.0`` device, which ``kmem`` binds. libcxl skips a region without a
``uuid`` file (empty for RAM) and daxctl a device without ``/dev/daxN.0``; daxctl finds the
DAX region as the folder holding the device, reading ``dax_region/size`` and ``align`` there.
"""

from __future__ import annotations

from fakehw.devices.cxl.layout import (
    DAX_ALIGN,
    DAX_MAJOR,
    INTERLEAVE_GRANULARITY,
    RegionLayout,
)
from fakehw.devices.cxl.sysfs import (
    CXL_DAX_REGION,
    CXL_REGION,
    bus_files,
    bus_register,
    char_device,
    cxl_files,
    staged,
)
from fakehw.tree.writer import DeviceRecord, TreeWriter


def region_record(region: RegionLayout) -> DeviceRecord:
    mem = region.memdev
    return DeviceRecord(name=region.name, kind="cxl-region", sysfs=region.path,
                        parent=mem.record, attributes={
                            "region": region.name, "memdev": mem.memdev, "mode": "ram",
                            "size": region.size, "resource": region.resource,
                            "dpa": region.dpa, "slot": region.slot,
                            "daxDevice": region.dax, "targetNode": mem.target_node,
                            "numaNode": mem.numa_node})


def write_region(tree: TreeWriter, region: RegionLayout) -> None:
    """Build the region folder, DAX region and device inside, aside; rename it in whole."""
    with staged(tree, region.path) as aside:
        _region_files(aside, region)
        dax_region_files(aside, region)
        dax_files(aside, region)


def link_region(tree: TreeWriter, region: RegionLayout, record: DeviceRecord) -> None:
    """Put the written region on its buses and its DAX device in ``/dev``, owned by ``record``."""
    with tree.owned_by(record):
        char_device(tree, region.dax_path, region.dax, DAX_MAJOR, region.id)
        bus_register(tree, region.dax_path, "dax", "kmem")
        bus_register(tree, region.dax_region_path, "cxl", "cxl_dax_region")
        bus_register(tree, region.path, "cxl", "cxl_region")


def _region_files(tree: TreeWriter, region: RegionLayout) -> None:
    path = region.path
    cxl_files(tree, path, "cxl_region", CXL_REGION, "cxl_region")
    for name, value, mode in (
            ("uuid", "", 0o644), ("mode", "ram", 0o444), ("size", f"{region.size:#x}", 0o644),
            ("resource", f"{region.resource:#x}", 0o444), ("commit", 1, 0o644),
            ("interleave_ways", 1, 0o644),
            ("interleave_granularity", INTERLEAVE_GRANULARITY, 0o644),
            ("target0", region.memdev.endpoint_decoder(region.slot), 0o644)):
        tree.attr(f"{path}/{name}", value, mode=mode)


def dax_region_files(tree: TreeWriter, region: RegionLayout) -> None:
    path = region.dax_region_path
    cxl_files(tree, path, "cxl_dax_region", CXL_DAX_REGION, "cxl_dax_region")
    for name, value, mode in (
            ("id", region.id, 0o444), ("size", region.size, 0o444),
            ("align", DAX_ALIGN, 0o444), ("available_size", 0, 0o444),
            ("seed", region.dax, 0o444), ("create", "", 0o644), ("delete", "", 0o200)):
        tree.attr(f"{path}/dax_region/{name}", value, mode=mode)


def dax_files(tree: TreeWriter, region: RegionLayout) -> None:
    path, end = region.dax_path, region.resource + region.size - 1
    uevent = [f"MAJOR={DAX_MAJOR}", f"MINOR={region.id}", f"DEVNAME={region.dax}",
              "DRIVER=kmem", "MODALIAS=dax:t0*"]
    for name, value, mode in (
            ("uevent", "\n".join(uevent), 0o644), ("dev", f"{DAX_MAJOR}:{region.id}", 0o444),
            ("modalias", "dax:t0*", 0o444), ("size", region.size, 0o644),
            ("align", DAX_ALIGN, 0o644), ("target_node", region.memdev.target_node, 0o444),
            ("numa_node", region.memdev.numa_node, 0o444),
            ("resource", f"{region.resource:#x}", 0o444), ("mapping", "", 0o200),
            ("mapping0/start", f"{region.resource:#x}", 0o444),
            ("mapping0/end", f"{end:#x}", 0o444), ("mapping0/page_offset", "0x0", 0o444)):
        tree.attr(f"{path}/{name}", value, mode=mode)
    bus_files(tree, path, "dax", "kmem")


def remove_region_links(tree: TreeWriter, record: DeviceRecord) -> None:
    """Take the region off its buses and ``/dev`` first, so nobody finds it while it goes."""
    for link in record.links:
        (tree.sys / link).unlink(missing_ok=True)
    for node in record.dev_nodes:
        (tree.dev / node.path).unlink(missing_ok=True)
    for link in record.dev_links:
        (tree.dev / link).unlink(missing_ok=True)
