"""The kernel's side of CXL region writes: what each write to a region attribute does.

A driver makes a RAM region as ``cxl create-region -t ram`` does, one sysfs write at a time
(see ``region_writes`` for the region and decoder attributes); on a real node each write runs
``drivers/cxl/core/region.c`` and either takes effect or fails with an errno. Here the tree's
watcher reads what was written into the (plain) file and calls ``apply``, which makes the
change under the tree's lock, in the records as in the tree, so ``cxl list``, ``daxctl list``
and ``fakehw inventory`` agree at every step.

A plain file cannot fail a ``write()``, so a write the kernel would refuse is shown where the
kernel's state shows: the attribute is put back to the value the kernel holds (``dpa_size``
reads 0, ``commit`` reads 0), the next step's effect never comes (no target, no commit, no
``dax_region``), and the watcher log (``ROOT/.fakehw/watcher.log``) has a line
``<attribute>: write '<value>' refused (<ERRNO>): <why>``. A caller that waits for each
effect, as the kernel's own tools cannot but must here, learns of it by that effect missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fakehw.devices.cxl import dpa, stages
from fakehw.devices.cxl.layout import (
    ACTIVE,
    COMMITTED,
    NEW,
    ONLINE,
    REGION,
    MemdevLayout,
    RegionLayout,
)
from fakehw.devices.cxl.sync import next_region_id, region_state, sync_decoders, sync_numa
from fakehw.devices.cxl.sysfs import discard_scratch, remove_folder, replace_attr
from fakehw.errors import FakeHWError
from fakehw.tree import state as tree_state
from fakehw.tree.state import TreeState
from fakehw.tree.writer import DeviceRecord, TreeWriter

log = logging.getLogger(__name__)


class Refused(FakeHWError):
    """The kernel would fail this write with ``errno``; ``restore`` is what the attribute
    reads afterwards (None: leave the file as it is)."""

    def __init__(self, errno: str, why: str, restore: str | int | None = None) -> None:
        super().__init__(f"({errno}): {why}")
        self.restore = restore


WatchNew = Callable[[str, str, Path], None]  # (region, its sysfs path, where it is built)


@dataclass
class Kernel:
    """One write's view of the tree: its state (saved afterwards) and a writer for it."""

    state: TreeState
    tree: TreeWriter
    watch: WatchNew = lambda _name, _path, _now_at: None

    def region(self, name: str) -> DeviceRecord:
        for record in self.state.devices:
            if record.kind == REGION and record.name == name:
                return record
        raise Refused("ENODEV", f"no region {name!r}")

    def memdev_of(self, region: DeviceRecord) -> DeviceRecord:
        return self.state.find(region.parent)

    def layout(self, region: DeviceRecord) -> RegionLayout:
        return RegionLayout.of(region, MemdevLayout.of(self.memdev_of(region)))

    def sync(self) -> None:
        sync_decoders(self.tree, self.state.devices, self.state.unplugged)
        sync_numa(self.tree, self.state.devices, self.state.unplugged)

    def set_attr(self, path: str, value: str | int) -> None:
        replace_attr(self.tree, path, value, mode=0o644)


Handler = Callable[[Kernel, str, str], None]  # (kernel, object name, value written)


def apply(root: Path, path: str, handler: Handler, name: str,
          watch: WatchNew | None = None) -> None:
    """Carry out the write now in ``root/sys/path`` (``handler`` knows the attribute);
    ``watch`` is told of each region folder before it appears."""
    file = root / "sys" / path
    try:
        value = file.read_text().strip()
    except OSError as exc:
        log.warning("%s: cannot read what was written: %s", path, exc)
        return
    with tree_state.locked(root):
        state = tree_state.load(root)
        tree = TreeWriter(Path(state.root))
        try:
            kernel = Kernel(state, tree) if watch is None else Kernel(state, tree, watch)
            handler(kernel, name, value)
        except Refused as refusal:
            log.warning("%s: write %r refused %s", path, value, refusal)
            if refusal.restore is not None:
                replace_attr(tree, path, refusal.restore, mode=file.stat().st_mode & 0o777)
            return
        finally:
            discard_scratch(tree)
        tree_state.save(state)
    log.info("%s: wrote %r", path, value)


def create_ram_region(kernel: Kernel, memdev: str, value: str) -> None:
    """Writing back the offered name creates that region, bare; any other name is EBUSY."""
    seed = f"region{next_region_id(kernel.state.devices)}"
    if value != seed:
        raise Refused("EBUSY", f"this decoder offers {seed}; read create_ram_region and write "
                      "back what it holds", restore=seed)
    record = kernel.state.find(memdev)
    if record.name in kernel.state.unplugged:
        raise Refused("ENXIO", f"{memdev} is unplugged", restore=seed)

    def before_visible(region: DeviceRecord, now_at: Path) -> None:
        kernel.state.devices.append(region)
        # offer the next id before a writer, seeing the region, writes on (the memory is
        # untouched, and syncing it would clear the area this folder is built in)
        sync_decoders(kernel.tree, kernel.state.devices, kernel.state.unplugged)
        kernel.watch(region.name, region.sysfs, now_at)

    region = stages.new_region(kernel.tree, MemdevLayout.of(record), int(seed[6:]), record,
                               before_visible)
    log.info("created %s under %s", region.name, MemdevLayout.of(record).root_decoder)


def delete_region(kernel: Kernel, memdev: str, value: str) -> None:
    """Unregister the region: unbind, reset and detach whatever it still has, then remove
    it. DPA its decoder holds stays held until that decoder's ``dpa_size`` is set to 0."""
    region = kernel.region(value)
    if region.parent != memdev:
        raise Refused("ENODEV", f"{value} is not a region of this root decoder")
    if region_state(region) == ONLINE:
        unbind_region(kernel, "", value)
    if region_state(region) == COMMITTED:
        region.attributes["state"] = ACTIVE
    detach(kernel, region)
    stages.unbind(kernel.tree, kernel.layout(region), region)  # drops bus links with the rest
    (kernel.tree.sys / f"bus/cxl/devices/{region.name}").unlink(missing_ok=True)
    kernel.state.devices.remove(region)
    remove_folder(kernel.tree, region.sysfs)
    kernel.sync()


def detach(kernel: Kernel, region: DeviceRecord) -> None:
    """Take the region's target away; its decoder keeps the DPA, held, and its region name."""
    slot = int(region.attributes["slot"])
    if slot < 0:
        return
    memdev = kernel.memdev_of(region)
    dpa.set_held(memdev, {**dpa.held(memdev), slot: int(region.attributes["size"])})
    region.attributes.update(slot=-1, state=NEW)
    kernel.set_attr(f"{region.sysfs}/target0", "")


def bind_region(kernel: Kernel, _driver: str, value: str) -> None:
    """``cxl_region`` probes only a committed region; its DAX device is then onlined."""
    if not value.startswith("region"):
        return  # drivers_probe for some other cxl device: nothing changes here
    region = kernel.region(value)
    current = region_state(region)
    if current == ONLINE:
        raise Refused("EBUSY", f"{value} is bound already")
    if current != COMMITTED:
        raise Refused("ENXIO", f"{value} is not committed (state {current}); cxl_region "
                      "probes only committed regions")
    stages.bind(kernel.tree, kernel.layout(region), region)
    region.attributes["state"] = ONLINE
    kernel.sync()


def unbind_region(kernel: Kernel, _driver: str, value: str) -> None:
    region = kernel.region(value)
    if region_state(region) != ONLINE:
        raise Refused("ENODEV", f"{value} is not bound to cxl_region")
    region.attributes["state"] = COMMITTED
    kernel.sync()  # offline the memory before the DAX device goes
    stages.unbind(kernel.tree, kernel.layout(region), region)
