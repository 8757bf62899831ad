"""Device memory (DPA) as the kernel allocates it: per endpoint decoder, in decoder order.

Writing an endpoint decoder's ``dpa_size`` reserves device memory before any region uses it,
and detaching a decoder from a region (or deleting the region) leaves that reservation in
place until ``dpa_size`` is set to 0. Such reservations without a region are *held*; the
memdev record keeps them (``heldDpa``: ``slot:size`` pairs) so every process sees them and
``freeCapacity`` counts them. The kernel hands out decoders in order (``hdm_end + 1``) and
frees only the top one, so allocations stay contiguous: a decoder's DPA offset is the sum of
the sizes below it.
"""

from __future__ import annotations

from fakehw.devices.cxl.layout import REGION
from fakehw.tree.writer import DeviceRecord

HELD = "heldDpa"


def held(memdev: DeviceRecord) -> dict[int, int]:
    """Slot -> bytes for the memdev's reservations that no region uses."""
    text = str(memdev.attributes.get(HELD, ""))
    pairs = (part.split(":") for part in filter(None, text.split(",")))
    return {int(slot): int(size) for slot, size in pairs}


def set_held(memdev: DeviceRecord, reservations: dict[int, int]) -> None:
    memdev.attributes[HELD] = ",".join(f"{s}:{n}" for s, n in sorted(reservations.items()))


def attached(records: list[DeviceRecord], memdev: DeviceRecord) -> dict[int, int]:
    """Slot -> bytes for decoders a region uses (records of regions with a target)."""
    return {int(r.attributes["slot"]): int(r.attributes["size"]) for r in records
            if r.kind == REGION and r.parent == memdev.name and int(r.attributes["slot"]) >= 0}


def allocations(records: list[DeviceRecord], memdev: DeviceRecord) -> dict[int, int]:
    return {**attached(records, memdev), **held(memdev)}


def in_use(records: list[DeviceRecord], memdev: DeviceRecord) -> int:
    return sum(allocations(records, memdev).values())


def next_slot(records: list[DeviceRecord], memdev: DeviceRecord) -> int:
    """``hdm_end + 1``: the only decoder the kernel lets allocate next."""
    return max(allocations(records, memdev), default=-1) + 1


def offset(records: list[DeviceRecord], memdev: DeviceRecord, slot: int) -> int:
    """Where decoder ``slot``'s DPA starts: after everything allocated below it."""
    return sum(size for s, size in allocations(records, memdev).items() if s < slot)
