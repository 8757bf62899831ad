"""Creating and deleting RAM regions on a running tree, as ``cxl create-region -t ram`` and
``cxl destroy-region`` would, with ``kmem`` onlining the memory as a CPU-less NUMA node.

The kernel allocates device memory (DPA) upwards and frees it only from the top: each new
region takes the memdev's next HDM decoder and the DPA after the last region, and a region
below another one cannot be destroyed (``cxl_dpa_free`` returns EBUSY). Both rules hold here,
so a driver under test meets the same refusals. Every change is made under the tree's lock,
in the order the kernel makes it: region folder, decoders, bus links, onlined memory;
deletion undoes it in reverse.
"""

from __future__ import annotations

from pathlib import Path

from fakehw.devices.cxl import dpa
from fakehw.devices.cxl.errors import CapacityError, RegionOrderError, RegionSizeError
from fakehw.devices.cxl.layout import GRANULE, HDM_DECODERS, MemdevLayout, RegionLayout
from fakehw.devices.cxl.regions import (
    link_region,
    region_record,
    remove_region_links,
    write_region,
)
from fakehw.devices.cxl.sync import (
    MEMDEV,
    REGION,
    next_region_id,
    regions_of,
    sync,
    sync_decoders,
    sync_numa,
)
from fakehw.devices.cxl.sysfs import discard_scratch, remove_folder
from fakehw.errors import DeviceStateError, UnknownDeviceError
from fakehw.profiles.units import format_bytes, parse_bytes
from fakehw.tree import state as tree_state
from fakehw.tree.state import TreeState
from fakehw.tree.writer import DeviceRecord, TreeWriter


def create_region(root: Path, memdev: str, size: int | str) -> str:
    """Carve a RAM region of ``size`` bytes (or ``"512Mi"``) from ``memdev`` (``mem0``,
    ``cxl0`` or its PCI address), online it; return the region's name (``region1``)."""
    with tree_state.locked(root):
        state = tree_state.load(root)
        record = find_memdev(state, memdev)
        _check_usable(state, record)
        region = plan_region(state.devices, record, parse_size(size))
        tree = TreeWriter(Path(state.root))
        try:
            add_region(tree, state.devices, state.unplugged, region)
        finally:
            discard_scratch(tree)
        tree_state.save(state)
        return region.name


def delete_region(root: Path, region: str) -> None:
    """Offline and destroy ``region``, freeing its capacity on the memdev."""
    with tree_state.locked(root):
        state = tree_state.load(root)
        record = find_region(state, region)
        if record.name in state.unplugged:
            raise DeviceStateError(f"{record.name} went with {record.parent}, which is "
                                   f"unplugged; replug it with 'fakehw replug {record.parent}'")
        memdev = state.find(record.parent)
        later = [r.name for r in regions_of(state.devices, memdev)
                 if int(r.attributes["slot"]) > int(record.attributes["slot"])]
        if later:
            raise RegionOrderError(
                f"cannot delete {record.name}: {', '.join(later)} on "
                f"{memdev.attributes['memdev']} was allocated after it, and the kernel frees "
                f"device memory from the top only (EBUSY); delete {later[-1]} first")
        tree = TreeWriter(Path(state.root))
        try:
            drop_region(tree, state.devices, state.unplugged, record)
        finally:
            discard_scratch(tree)
        tree_state.save(state)


def resync(root: Path) -> None:
    """Bring decoders and NUMA nodes in line with the plugged regions (after hot-plug)."""
    with tree_state.locked(root):
        state = tree_state.load(root)
        tree = TreeWriter(Path(state.root))
        try:
            sync(tree, state.devices, state.unplugged)
        finally:
            discard_scratch(tree)
        tree_state.save(state)


def parse_size(size: int | str) -> int:
    fix = f"give a positive multiple of {format_bytes(GRANULE)}, like 512Mi or 1Gi"
    try:
        count = parse_bytes(size)
    except (TypeError, ValueError):
        raise RegionSizeError(f"region size {size!r} is not a size; {fix}") from None
    if count <= 0 or count % GRANULE:
        raise RegionSizeError(f"region size {size!r} is not a positive multiple of "
                              f"{format_bytes(GRANULE)} (HDM decoders map 256 MiB units); {fix}")
    return count


def find_memdev(state: TreeState, name: str) -> DeviceRecord:
    for record in state.devices:
        if record.kind == MEMDEV and name in (record.name, record.bdf,
                                              record.attributes.get("memdev")):
            return record
    known = ", ".join(str(r.attributes["memdev"]) for r in state.devices if r.kind == MEMDEV)
    raise UnknownDeviceError(f"no CXL memdev {name!r} in the tree at {state.root}; "
                             f"memdevs: {known or 'none (the profile has no cxlMemory)'}")


def find_region(state: TreeState, name: str) -> DeviceRecord:
    for record in state.devices:
        if record.kind == REGION and record.name == name:
            return record
    known = ", ".join(r.name for r in state.devices if r.kind == REGION)
    raise UnknownDeviceError(f"no CXL region {name!r} in the tree at {state.root} (already "
                             f"deleted?); regions: {known or 'none'}")


def _check_usable(state: TreeState, record: DeviceRecord) -> None:
    memdev = record.attributes["memdev"]
    if record.name in state.unplugged:
        raise DeviceStateError(f"{memdev} ({record.name}) is unplugged; replug it with "
                               f"'fakehw replug {record.name}' first")
    if record.name in state.unhealthy:
        raise DeviceStateError(f"{memdev} ({record.name}) has failed "
                               f"({state.unhealthy[record.name]}) and cxl_mem released it; "
                               f"mark it healthy before creating regions")


def plan_region(records: list[DeviceRecord], memdev: DeviceRecord, size: int) -> RegionLayout:
    """Where the next region of ``size`` bytes on ``memdev`` goes, or why it cannot."""
    mem = MemdevLayout.of(memdev)
    allocated = regions_of(records, memdev)
    name = memdev.attributes["memdev"]
    slot = dpa.next_slot(records, memdev)
    if slot >= HDM_DECODERS:
        raise CapacityError(f"{name} uses all {HDM_DECODERS} of its HDM decoders "
                            f"({', '.join(r.name for r in allocated) or 'held DPA'}); "
                            f"delete a region first")
    used = dpa.in_use(records, memdev)
    if size > mem.capacity - used:
        raise CapacityError(f"a region of {format_bytes(size)} does not fit on {name}: "
                            f"{format_bytes(mem.capacity - used)} of "
                            f"{format_bytes(mem.capacity)} is free; ask for at most that, "
                            f"or delete a region")
    return RegionLayout(id=next_region_id(records), memdev=mem, slot=slot, size=size, dpa=used)


def add_region(tree: TreeWriter, records: list[DeviceRecord], unplugged: list[str],
               region: RegionLayout) -> DeviceRecord:
    """Write ``region`` and append its record: folder, decoders, links, then onlined memory."""
    record = region_record(region)
    write_region(tree, region)
    records.append(record)
    sync_decoders(tree, records, unplugged)
    link_region(tree, region, record)
    sync_numa(tree, records, unplugged)
    return record


def drop_region(tree: TreeWriter, records: list[DeviceRecord], unplugged: list[str],
                record: DeviceRecord) -> None:
    """Undo ``add_region`` in reverse: offline memory, unlink, reset decoders, remove."""
    records.remove(record)
    sync_numa(tree, records, unplugged)
    remove_region_links(tree, record)
    sync_decoders(tree, records, unplugged)
    remove_folder(tree, record.sysfs)
