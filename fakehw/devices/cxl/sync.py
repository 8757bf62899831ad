"""Everything in the tree that follows from which regions exist and are plugged in.

Host-bridge and endpoint decoders commit in slot order as regions are made and reset as they
go (``decoders_committed`` counts them), root decoders offer the next free region id in
``create_ram_region``, and onlined memory shows as NUMA nodes. Deriving all of it from the
records in one place lets region creation, deletion and hot-plug share one code path and
leaves nothing stale when a memdev vanishes with its regions.
"""

from __future__ import annotations

from fakehw.devices.cxl.layout import HDM_DECODERS, MemdevLayout, RegionLayout
from fakehw.devices.cxl.memory import sync_memory
from fakehw.devices.cxl.ports import (
    region_seed,
    write_committed,
    write_endpoint_decoder,
    write_switch_decoder,
)
from fakehw.tree.writer import DeviceRecord, TreeWriter

MEMDEV, ENDPOINT, REGION = "cxl", "cxl-endpoint", "cxl-region"


def memdevs(records: list[DeviceRecord]) -> list[DeviceRecord]:
    return [r for r in records if r.kind == MEMDEV]


def regions_of(records: list[DeviceRecord], memdev: DeviceRecord) -> list[DeviceRecord]:
    """The memdev's regions, plugged or not, in slot (allocation) order."""
    mine = [r for r in records if r.kind == REGION and r.parent == memdev.name]
    return sorted(mine, key=lambda r: int(r.attributes["slot"]))


def plugged_regions(records: list[DeviceRecord], unplugged: list[str]) -> list[RegionLayout]:
    found = []
    for memdev in memdevs(records):
        mem = MemdevLayout.of(memdev)
        found += [RegionLayout.of(r, mem) for r in regions_of(records, memdev)
                  if r.name not in unplugged and memdev.name not in unplugged]
    return found


def sync(tree: TreeWriter, records: list[DeviceRecord], unplugged: list[str]) -> None:
    sync_decoders(tree, records, unplugged)
    sync_numa(tree, records, unplugged)


def sync_numa(tree: TreeWriter, records: list[DeviceRecord], unplugged: list[str]) -> None:
    nodes = sorted(int(r.attributes["targetNode"]) for r in memdevs(records))
    sync_memory(tree, plugged_regions(records, unplugged), nodes)


def sync_decoders(tree: TreeWriter, records: list[DeviceRecord], unplugged: list[str]) -> None:
    """Decoder state and each memdev record's ``freeCapacity`` and ``regions``."""
    live = plugged_regions(records, unplugged)
    for memdev in memdevs(records):
        mem = MemdevLayout.of(memdev)
        slots = {r.slot: r for r in live if r.memdev.index == mem.index}
        for slot in range(HDM_DECODERS):
            write_switch_decoder(tree, mem, slot, slots.get(slot))
        write_committed(tree, mem.port_path, len(slots))
        if (tree.sys / mem.endpoint_path).is_dir():
            for slot in range(HDM_DECODERS):
                write_endpoint_decoder(tree, mem, slot, slots.get(slot))
            write_committed(tree, mem.endpoint_path, len(slots))
        allocated = regions_of(records, memdev)
        memdev.attributes["freeCapacity"] = mem.capacity - sum(
            int(r.attributes["size"]) for r in allocated)
        memdev.attributes["regions"] = ",".join(r.name for r in allocated)
    _seeds(tree, records)


def _seeds(tree: TreeWriter, records: list[DeviceRecord]) -> None:
    """Every root decoder offers the lowest free id (the kernel pre-allocates one id per
    decoder, so on a real machine they differ; the name written back is what counts)."""
    seed = next_region_id(records)
    for memdev in memdevs(records):
        region_seed(tree, MemdevLayout.of(memdev), seed)


def next_region_id(records: list[DeviceRecord]) -> int:
    """The lowest id no region holds, as the kernel's memregion ida hands out."""
    taken = {int(r.name.removeprefix("region")) for r in records if r.kind == REGION}
    return min(n for n in range(len(taken) + 1) if n not in taken)
