"""Writes to a region's geometry and to an endpoint decoder, with the kernel's checks.

The order ``cxl create-region`` writes them in, and what each does (``drivers/cxl/core``):
``interleave_granularity`` and ``interleave_ways`` set the geometry while the region has no
target; ``mode`` then ``dpa_size`` on the memdev's next endpoint decoder reserve device
memory (``hdm_end + 1`` only, ENOSPC past the free DPA); ``size`` takes HPA space in the
window; ``target0`` attaches the decoder, whose reservation must equal the region's size;
``commit`` programs the decoders in order. Tearing down is the reverse: ``commit`` 0 resets
(top first), an empty ``target0`` detaches, ``dpa_size`` 0 frees the top reservation only.
"""

from __future__ import annotations

from fakehw.devices.cxl import dpa
from fakehw.devices.cxl.layout import (
    ACTIVE,
    COMMITTED,
    GRANULE,
    HDM_DECODERS,
    NEW,
    ONLINE,
    REGION,
    MemdevLayout,
)
from fakehw.devices.cxl.sync import region_state
from fakehw.devices.cxl.sysfs_writes import Kernel, Refused, detach, unbind_region
from fakehw.tree.writer import DeviceRecord

GRANULARITIES = tuple(256 << n for n in range(7))  # 256 B .. 16 KiB


def _number(value: str, restore: str | int) -> int:
    try:
        return int(value, 0)
    except ValueError:
        raise Refused("EINVAL", f"{value!r} is not a number", restore) from None


def _unconfigured(region: DeviceRecord, attribute: str, restore: str | int) -> None:
    if region_state(region) != NEW:
        raise Refused("EBUSY", f"{region.name} has a target; {attribute} is fixed until it is "
                      "detached", restore)


def interleave_granularity(kernel: Kernel, name: str, value: str) -> None:
    region = kernel.region(name)
    current = region.attributes.get("granularity", GRANULARITIES[0])
    _unconfigured(region, "the geometry", current)
    granularity = _number(value, current)
    if granularity not in GRANULARITIES:
        raise Refused("EINVAL", f"granularity {granularity} is not one of {GRANULARITIES}",
                      current)
    region.attributes["granularity"] = granularity
    kernel.set_attr(f"{region.sysfs}/interleave_granularity", granularity)


def interleave_ways(kernel: Kernel, name: str, value: str) -> None:
    region = kernel.region(name)
    current = region.attributes.get("ways", 1)
    _unconfigured(region, "the geometry", current)
    if _number(value, current) != 1:
        raise Refused("EINVAL", "this window spans one host bridge with one memdev, so a "
                      "region interleaves 1 way", current)
    region.attributes["ways"] = 1
    kernel.set_attr(f"{region.sysfs}/interleave_ways", 1)


def size(kernel: Kernel, name: str, value: str) -> None:
    """HPA space for the region in its window; 0 gives it back."""
    region = kernel.region(name)
    current = f"{int(region.attributes['size']):#x}"
    _unconfigured(region, "size", current)
    if not region.attributes.get("ways") or not region.attributes.get("granularity"):
        raise Refused("ENXIO", "set interleave_granularity and interleave_ways first", current)
    wanted = _number(value, current)
    if wanted % GRANULE:
        raise Refused("EINVAL", f"{wanted:#x} is not a multiple of 256 MiB", current)
    memdev = kernel.memdev_of(region)
    mem = MemdevLayout.of(memdev)
    others = sum(int(r.attributes["size"]) for r in kernel.state.children(memdev.name)
                 if r.name != name and r.kind == REGION)
    if wanted > mem.capacity - others:
        raise Refused("ENOSPC", f"{wanted:#x} bytes do not fit in {mem.root_decoder}: "
                      f"{mem.capacity - others:#x} of its window is free", current)
    resource = mem.window_start + dpa.in_use(kernel.state.devices, memdev) if wanted else -1
    region.attributes.update(size=wanted, resource=resource)
    kernel.set_attr(f"{region.sysfs}/size", f"{wanted:#x}")
    kernel.set_attr(f"{region.sysfs}/resource", f"{resource % 2**64:#x}")


def target0(kernel: Kernel, name: str, value: str) -> None:
    """Attach an endpoint decoder holding exactly the region's size of DPA, or (empty) detach."""
    region = kernel.region(name)
    memdev = kernel.memdev_of(region)
    mem = MemdevLayout.of(memdev)
    slot = int(region.attributes["slot"])
    current = mem.endpoint_decoder(slot) if slot >= 0 else ""
    if region_state(region) in (COMMITTED, ONLINE):
        raise Refused("EBUSY", f"{name} is committed; write 0 to commit first", current)
    if not value:
        detach(kernel, region)
        kernel.sync()
        return
    _unconfigured(region, "target0", current)
    slots = [s for s in range(HDM_DECODERS) if mem.endpoint_decoder(s) == value]
    if not slots:
        raise Refused("ENXIO", f"{value} is not an endpoint decoder of {mem.memdev}, the "
                      f"memdev below {mem.root_decoder}", current)
    reserved = dpa.held(memdev).get(slots[0], 0)
    wanted = int(region.attributes["size"])
    if not wanted:
        raise Refused("ENXIO", f"{name} has no size yet; write its size first", current)
    if reserved != wanted:
        raise Refused("EINVAL", f"{value} holds {reserved:#x} bytes of DPA, but {name} is "
                      f"{wanted:#x}; set the decoder's dpa_size to the region's size", current)
    held = dpa.held(memdev)
    del held[slots[0]]
    dpa.set_held(memdev, held)
    offset = dpa.offset(kernel.state.devices, memdev, slots[0])
    region.attributes.update(slot=slots[0], dpa=offset, state=ACTIVE,
                             resource=mem.window_start + offset)
    kernel.set_attr(f"{region.sysfs}/resource", f"{mem.window_start + offset:#x}")
    kernel.set_attr(f"{region.sysfs}/target0", value)
    kernel.sync()


def commit(kernel: Kernel, name: str, value: str) -> None:
    """1 commits the decoders (in slot order); 0 unbinds if bound, then resets (top first)."""
    region = kernel.region(name)
    state = region_state(region)
    current = int(state in (COMMITTED, ONLINE))
    want = _number(value, current)
    siblings = [r for r in kernel.state.children(region.parent) if r.kind == REGION
                and int(r.attributes["slot"]) >= 0 and r.name != name]
    slot = int(region.attributes["slot"])
    if want and state == NEW:
        raise Refused("ENXIO", f"{name} has no target; attach one with target0", 0)
    if want and state == ACTIVE:
        if lower := [r.name for r in siblings if int(r.attributes["slot"]) < slot
                     and region_state(r) == ACTIVE]:
            raise Refused("EBUSY", f"decoders commit in order; commit {lower[0]} first", 0)
        region.attributes["state"] = COMMITTED
    elif not want and state in (COMMITTED, ONLINE):
        if higher := [r.name for r in siblings if int(r.attributes["slot"]) > slot
                      and region_state(r) in (COMMITTED, ONLINE)]:
            raise Refused("EBUSY", f"decoders reset from the top; reset {higher[-1]} first",
                          current)
        if state == ONLINE:
            unbind_region(kernel, "", name)
        region.attributes["state"] = ACTIVE
    kernel.set_attr(f"{region.sysfs}/commit", int(region_state(region) in (COMMITTED, ONLINE)))
    kernel.sync()
