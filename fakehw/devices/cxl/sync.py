"""Everything in the tree that follows from which regions exist and are plugged in.

Host-bridge and endpoint decoders commit in slot order as regions are made and reset as they
go (``decoders_committed`` counts them), root decoders offer the next free region id in
``create_ram_region``, and onlined memory shows as NUMA nodes. Deriving all of it from the
records in one place lets region creation, deletion and hot-plug share one code path and
leaves nothing stale when a memdev vanishes with its regions.
"""

from __future__ import annotations

from fakehw.devices.cxl import dpa
from fakehw.devices.cxl.layout import (
    COMMITTED,
    ENDPOINT,
    HDM_DECODERS,
    MEMDEV,
    ONLINE,
    REGION,
    MemdevLayout,
    RegionLayout,
)
from fakehw.devices.cxl.memory import sync_memory
from fakehw.devices.cxl.ports import (
    region_seed,
    write_committed,
    write_endpoint_decoder,
    write_switch_decoder,
)
from fakehw.tree.writer import DeviceRecord, TreeWriter

__all__ = ["ENDPOINT", "MEMDEV", "REGION", "memdevs", "next_region_id", "plugged_regions",
           "region_state", "regions_of", "sync", "sync_decoders", "sync_numa"]


def memdevs(records: list[DeviceRecord]) -> list[DeviceRecord]:
    return [r for r in records if r.kind == MEMDEV]


def region_state(record: DeviceRecord) -> str:
    return str(record.attributes.get("state", ONLINE))


def regions_of(records: list[DeviceRecord], memdev: DeviceRecord) -> list[DeviceRecord]:
    """The memdev's regions with a target decoder, plugged or not, in slot (allocation) order;
    a region still being configured (no ``target0`` yet) holds no decoder and is left out."""
    mine = [r for r in records if r.kind == REGION and r.parent == memdev.name
            and int(r.attributes["slot"]) >= 0]
    return sorted(mine, key=lambda r: int(r.attributes["slot"]))


def plugged_regions(records: list[DeviceRecord], unplugged: list[str],
                    states: tuple[str, ...] = ()) -> list[RegionLayout]:
    """Plugged regions with a target, only those in ``states`` if given."""
    found = []
    for memdev in memdevs(records):
        mem = MemdevLayout.of(memdev)
        found += [RegionLayout.of(r, mem) for r in regions_of(records, memdev)
                  if r.name not in unplugged and memdev.name not in unplugged
                  and (not states or region_state(r) in states)]
    return found


def sync(tree: TreeWriter, records: list[DeviceRecord], unplugged: list[str]) -> None:
    sync_decoders(tree, records, unplugged)
    sync_numa(tree, records, unplugged)


def sync_numa(tree: TreeWriter, records: list[DeviceRecord], unplugged: list[str]) -> None:
    nodes = sorted(int(r.attributes["targetNode"]) for r in memdevs(records))
    sync_memory(tree, plugged_regions(records, unplugged, (ONLINE,)), nodes)


def sync_decoders(tree: TreeWriter, records: list[DeviceRecord], unplugged: list[str]) -> None:
    """Decoder state and each memdev record's ``freeCapacity`` and ``regions``: decoders
    carry the regions attached to them, committed or not, and held DPA reservations;
    ``decoders_committed`` counts the committed ones."""
    live = plugged_regions(records, unplugged)
    committed = {r.name for r in plugged_regions(records, unplugged, (COMMITTED, ONLINE))}
    for memdev in memdevs(records):
        mem = MemdevLayout.of(memdev)
        slots = {r.slot: r for r in live if r.memdev.index == mem.index}
        count = len([r for r in slots.values() if r.name in committed])
        reserved = {s: (dpa.offset(records, memdev, s), n) for s, n in dpa.held(memdev).items()}
        for slot in range(HDM_DECODERS):
            write_switch_decoder(tree, mem, slot, slots.get(slot))
        write_committed(tree, mem.port_path, count)
        if (tree.sys / mem.endpoint_path).is_dir():
            for slot in range(HDM_DECODERS):
                write_endpoint_decoder(tree, mem, slot, slots.get(slot), reserved.get(slot))
            write_committed(tree, mem.endpoint_path, count)
        memdev.attributes["freeCapacity"] = mem.capacity - dpa.in_use(records, memdev)
        memdev.attributes["regions"] = ",".join(r.name for r in regions_of(records, memdev))
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
