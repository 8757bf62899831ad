"""A region's folder as it changes through the kernel's write sequence, one stage at a time.

``create_region`` writes a region whole; the kernel instead creates the ``regionN`` device
bare when its name is written to ``create_ram_region`` (every attribute present, geometry
zero, no driver), and only binding ``cxl_region`` adds ``dax_regionN`` with its device-dax
instance, which ``kmem`` onlines. Unbinding takes those away again. Folders still appear and
vanish whole (built aside, renamed), as everywhere in this kind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fakehw.devices.cxl.layout import DAX_MAJOR, NEW, REGION, MemdevLayout, RegionLayout
from fakehw.devices.cxl.regions import dax_files, dax_region_files
from fakehw.devices.cxl.sysfs import (
    CXL_REGION,
    bus_register,
    char_device,
    cxl_files,
    remove_folder,
    replace_attr,
    staged,
)
from fakehw.tree.writer import DeviceRecord, TreeWriter

NO_RESOURCE = 2**64 - 1  # what ``resource`` reads before the region has HPA space
DRIVER = "bus/cxl/drivers/cxl_region"


def new_region(tree: TreeWriter, mem: MemdevLayout, region_id: int, memdev: DeviceRecord,
               before_visible: Callable[[DeviceRecord, Path], None]) -> DeviceRecord:
    """The bare region ``create_ram_region`` makes, and its record (no target: slot -1);
    ``before_visible`` gets the record and the folder while it is still aside: whatever
    follows from the region must be in place before a writer can see it and write on."""
    region = RegionLayout(id=region_id, memdev=mem, slot=-1, size=0, dpa=0)
    record = DeviceRecord(name=region.name, kind=REGION, sysfs=region.path, parent=memdev.name,
                          attributes={
                              "region": region.name, "memdev": mem.memdev, "mode": "ram",
                              "size": 0, "resource": NO_RESOURCE, "dpa": 0, "slot": -1,
                              "ways": 0, "granularity": 0, "state": NEW,
                              "daxDevice": region.dax, "targetNode": mem.target_node,
                              "numaNode": mem.numa_node})
    with staged(tree, region.path) as aside:
        cxl_files(aside, region.path, "cxl_region", CXL_REGION)
        for name, value, mode in (
                ("uuid", "", 0o644), ("mode", "ram", 0o444), ("size", "0x0", 0o644),
                ("resource", f"{NO_RESOURCE:#x}", 0o444), ("commit", 0, 0o644),
                ("interleave_ways", 0, 0o644), ("interleave_granularity", 0, 0o644),
                # the kernel shows targetN only below interleave_ways; here it is there from
                # the start, so a writer racing the watcher never finds it missing
                ("target0", "", 0o644)):
            aside.attr(f"{region.path}/{name}", value, mode=mode)
        before_visible(record, aside.sys / region.path)
    with tree.owned_by(record):
        bus_register(tree, region.path, "cxl")
    return record


def bind(tree: TreeWriter, region: RegionLayout, record: DeviceRecord) -> None:
    """``cxl_region`` probes: the DAX region and device appear, bound to ``kmem``."""
    path = region.path
    with staged(tree, region.dax_region_path) as aside:
        dax_region_files(aside, region)
        dax_files(aside, region)
    tree.link(f"{path}/driver", DRIVER, owned=False)
    _uevent(tree, path, "cxl_region")
    with tree.owned_by(record):
        tree.link(f"{DRIVER}/{region.name}", path)
        char_device(tree, region.dax_path, region.dax, DAX_MAJOR, region.id)
        bus_register(tree, region.dax_path, "dax", "kmem")
        bus_register(tree, region.dax_region_path, "cxl", "cxl_dax_region")


def unbind(tree: TreeWriter, region: RegionLayout, record: DeviceRecord) -> None:
    """Undo ``bind``: links and ``/dev`` nodes first, then the DAX region folder."""
    keep = f"bus/cxl/devices/{region.name}"
    for link in [k for k in record.links if k != keep]:
        (tree.sys / link).unlink(missing_ok=True)
        del record.links[link]
    for node in record.dev_nodes:
        (tree.dev / node.path).unlink(missing_ok=True)
    for link in record.dev_links:
        (tree.dev / link).unlink(missing_ok=True)
    record.dev_nodes.clear()
    record.dev_links.clear()
    (tree.sys / region.path / "driver").unlink(missing_ok=True)
    _uevent(tree, region.path, "")
    remove_folder(tree, region.dax_region_path)


def _uevent(tree: TreeWriter, path: str, driver: str) -> None:
    lines = ["DEVTYPE=cxl_region", *([f"DRIVER={driver}"] if driver else []),
             f"MODALIAS=cxl:t{CXL_REGION}"]
    replace_attr(tree, f"{path}/uevent", "\n".join(lines), mode=0o644)
