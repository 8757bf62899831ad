"""Watching the CXL attributes whose writes have an effect, for the tree's watcher process.

Every folder with such an attribute is watched for ``IN_CLOSE_WRITE``: root decoders
(``create_ram_region``, ``delete_region``), endpoint decoders (``mode``, ``dpa_size``),
regions (geometry, ``target0``, ``commit``), ``bus/cxl`` (``drivers_probe``) and the
``cxl_region`` driver (``bind``, ``unbind``). Region folders come and go, so root decoders
are also watched for folders moved in (fakehw builds every folder aside and renames it in).
One inotify instance keeps the writes in the order they were made; each is carried out
before the next is read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from fakehw.devices.cxl import decoder_writes, region_writes
from fakehw.devices.cxl.layout import HDM_DECODERS, MEMDEV, REGION, MemdevLayout
from fakehw.devices.cxl.sysfs import remember
from fakehw.devices.cxl.sysfs_writes import (
    Handler,
    apply,
    bind_region,
    create_ram_region,
    delete_region,
    unbind_region,
)
from fakehw.tree import state as tree_state
from fakehw.tree.inotify import IN_CLOSE_WRITE, Inotify

log = logging.getLogger(__name__)
IN_MOVED_TO, IN_CREATE = 0x00000080, 0x00000100
HANDLERS: dict[str, dict[str, Handler]] = {
    "root": {"create_ram_region": create_ram_region, "delete_region": delete_region},
    "decoder": {"mode": decoder_writes.mode, "dpa_size": decoder_writes.dpa_size},
    "region": {"interleave_granularity": region_writes.interleave_granularity,
               "interleave_ways": region_writes.interleave_ways, "size": region_writes.size,
               "target0": region_writes.target0, "commit": region_writes.commit},
    "driver": {"bind": bind_region, "unbind": unbind_region},
    "bus": {"drivers_probe": bind_region},
}


class _Watches:
    """inotify watch -> (what the folder is, its key for the handler, its sysfs path)."""

    def __init__(self, root: Path, notify: Inotify) -> None:
        self.root, self.notify = root, notify
        self.folders: dict[int, tuple[str, str, str]] = {}

    def add(self, kind: str, key: str, path: str, mask: int = IN_CLOSE_WRITE, *,
            now_at: Path | None = None) -> None:
        """Watch the folder that will be (or is) ``path``; ``now_at`` is where it is now."""
        folder = now_at or self.root / "sys" / path
        if folder.is_dir():
            self.folders[self.notify.add_watch(folder, mask)] = (kind, key, path)

    def region(self, name: str, path: str, now_at: Path) -> None:
        """A region built aside: watched before it is renamed in, so no write is missed."""
        self.add("region", name, path, now_at=now_at)

    def everything(self) -> None:
        with tree_state.locked(self.root):
            state = tree_state.load(self.root)
        if not any(r.kind == MEMDEV for r in state.devices):
            return
        self.add("bus", "cxl", "bus/cxl")
        self.add("driver", "cxl_region", "bus/cxl/drivers/cxl_region")
        for record in state.devices:
            if record.kind == MEMDEV:
                mem = MemdevLayout.of(record)
                self.add("root", record.name, mem.root_decoder_path,
                         IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)
                for slot in range(HDM_DECODERS):
                    path = f"{mem.endpoint_path}/{mem.endpoint_decoder(slot)}"
                    self.add("decoder", f"{record.name}/{slot}", path)
                    for name in HANDLERS["decoder"]:
                        remember(self.root / "sys" / path / name)
            elif record.kind == REGION:
                self.add("region", record.name, record.sysfs)


def watch_region_writes(root: Path, stop_event: threading.Event, *, tick: float = 0.1,
                        ready: Callable[[], None] | None = None) -> None:
    """Carry out CXL region writes in the tree at ``root`` until ``stop_event`` is set;
    ``ready`` is called once every folder is watched."""
    root = Path(root).absolute()
    with Inotify() as notify:
        watches = _Watches(root, notify)
        watches.everything()
        if ready is not None:
            ready()
        while not stop_event.is_set():
            for event in notify.read(tick):
                if event.wd not in watches.folders:
                    continue
                kind, key, path = watches.folders[event.wd]
                if event.mask & (IN_MOVED_TO | IN_CREATE) and event.name.startswith("region"):
                    if not any(f[2] == f"{path}/{event.name}" for f in watches.folders.values()):
                        watches.add("region", event.name, f"{path}/{event.name}")
                elif event.mask & IN_CLOSE_WRITE and event.name in HANDLERS[kind]:
                    apply(root, f"{path}/{event.name}", HANDLERS[kind][event.name], key,
                          watches.region)
