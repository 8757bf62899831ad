"""Writes to an endpoint decoder: ``mode`` then ``dpa_size`` reserve device memory (DPA).

As ``cxl_dpa_alloc`` and ``cxl_dpa_free`` decide: the mode is set while the decoder holds
nothing; a reservation is made on the next decoder only (``hdm_end + 1``), in 256 MiB units,
within the free DPA (else ENOSPC, the refusal a too-large region meets); it is freed with 0,
only on the top decoder and only once no region uses it (EBUSY). The value ends up in the
memdev record (``heldDpa``) and is shown by ``sync_decoders``.
"""

from __future__ import annotations

from fakehw.devices.cxl import dpa
from fakehw.devices.cxl.layout import GRANULE, MemdevLayout
from fakehw.devices.cxl.sysfs_writes import Kernel, Refused
from fakehw.tree.writer import DeviceRecord

MODES = ("ram", "pmem")


def _decoder(kernel: Kernel, key: str) -> tuple[MemdevLayout, int, str]:
    memdev, _, slot = key.partition("/")
    mem = MemdevLayout.of(kernel.state.find(memdev))
    return mem, int(slot), f"{mem.endpoint_path}/{mem.endpoint_decoder(int(slot))}"


def mode(kernel: Kernel, key: str, value: str) -> None:
    mem, slot, path = _decoder(kernel, key)
    memdev = kernel.state.find(mem.record)
    current = "ram" if slot in dpa.allocations(kernel.state.devices, memdev) else "none"
    if value not in MODES:
        raise Refused("EINVAL", f"mode {value!r} is not one of {', '.join(MODES)}", current)
    if current not in ("none", value):
        raise Refused("EBUSY", "the decoder holds DPA; set dpa_size to 0 first", current)
    kernel.set_attr(f"{path}/mode", value)


def dpa_size(kernel: Kernel, key: str, value: str) -> None:
    mem, slot, path = _decoder(kernel, key)
    memdev = kernel.state.find(mem.record)
    records = kernel.state.devices
    held, used = dpa.held(memdev), dpa.attached(records, memdev)
    current = f"0x{held.get(slot, used.get(slot, 0)):016x}"
    try:
        wanted = int(value, 0)
    except ValueError:
        raise Refused("EINVAL", f"{value!r} is not a number", current) from None
    if slot in used:
        if wanted != used[slot]:
            raise Refused("EBUSY", "a region uses this decoder; clear its target0 first",
                          current)
        return
    if wanted == held.get(slot, 0):
        kernel.set_attr(f"{path}/dpa_size", current)  # a repeated write: nothing changes
        return
    if slot in held:
        _free(kernel, memdev, slot, wanted, current)
    else:
        _reserve(kernel, mem, slot, wanted, current=current, path=path)
    kernel.sync()
    kernel.set_attr(f"{path}/dpa_size", f"0x{wanted:016x}")  # sync keeps written files


def _free(kernel: Kernel, memdev: DeviceRecord, slot: int, wanted: int, current: str) -> None:
    if wanted:
        raise Refused("EBUSY", "the decoder holds DPA already; set dpa_size to 0 first",
                      current)
    if slot != max(dpa.allocations(kernel.state.devices, memdev)):
        raise Refused("EBUSY", "the kernel frees DPA from the top decoder only", current)
    held = dpa.held(memdev)
    del held[slot]
    dpa.set_held(memdev, held)


def _reserve(kernel: Kernel, mem: MemdevLayout, slot: int, wanted: int, *, current: str,
             path: str) -> None:
    memdev = kernel.state.find(mem.record)
    records = kernel.state.devices
    mode_now = (kernel.tree.sys / path / "mode").read_text().strip()
    if mode_now not in ("ram", "pmem"):
        raise Refused("EINVAL", "set the decoder's mode first", current)
    free = mem.capacity - dpa.in_use(records, memdev) if mode_now == "ram" else 0
    if wanted % GRANULE:
        raise Refused("EINVAL", f"{wanted:#x} is not a multiple of 256 MiB", current)
    if slot != dpa.next_slot(records, memdev):
        raise Refused("EBUSY", f"decoders allocate in order: expected "
                      f"{mem.endpoint_decoder(dpa.next_slot(records, memdev))}", current)
    if wanted > free:
        raise Refused("ENOSPC", f"{wanted:#x} bytes of {mode_now} do not fit on "
                      f"{mem.memdev}: {free:#x} are free", current)
    dpa.set_held(memdev, {**dpa.held(memdev), slot: wanted})
