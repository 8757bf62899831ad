"""Noticing hardware changes as they happen: inotify on the folders where they show.

inotify is not recursive, so the watcher follows what the tree shows: the bus and class
folders where devices appear and vanish (hot-plug removes their links), the device nodes'
folders, and each known device's own folders, where health counters and the loaded AFU are
rewritten. The set is recomputed after every scan. It only says *that* something changed;
the scan says what, and the periodic resync covers anything inotify cannot see (a real
kernel does not send inotify events for most sysfs attribute changes).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path

from inotify_simple import INotify, flags  # type: ignore[import-untyped]

from dra_reference.discovery.model import Device

log = logging.getLogger(__name__)
SYSFS_FOLDERS = ("bus/pci/devices", "class/drm", "class/fpga_region", "class/fpga_manager",
                 "bus/cxl/devices")
DEVFS_FOLDERS = (".", "dri", "cxl")
DEVICE_SUBFOLDERS = ("", "errors")  # a folder and its error counters
MASK = (flags.CREATE | flags.DELETE | flags.MOVED_FROM | flags.MOVED_TO | flags.CLOSE_WRITE
        | flags.ATTRIB | flags.DELETE_SELF | flags.MOVE_SELF)
DEBOUNCE_MS = 50  # changes come in bursts (an unplug removes many links); take them at once


class TreeWatcher:
    """inotify watches on the folders of a sysfs and a devfs root; ``close`` drops them."""

    def __init__(self, sysfs_root: Path, devfs_root: Path) -> None:
        self.sysfs_root = sysfs_root
        self.devfs_root = devfs_root
        self._inotify = INotify()
        self._watches: dict[Path, int] = {}

    def follow(self, devices: Iterable[Device]) -> None:
        """Watch the fixed folders plus every folder of ``devices``; drop the rest."""
        wanted = {self.sysfs_root / folder for folder in SYSFS_FOLDERS}
        wanted |= {self.devfs_root / folder for folder in DEVFS_FOLDERS}
        for device in devices:
            for folder in (device.sysfs_path, *device.paths.values()):
                if folder:
                    wanted |= {self.sysfs_root / folder / sub for sub in DEVICE_SUBFOLDERS}
        for path in set(self._watches) - wanted:
            self._drop(path)
        for path in sorted(wanted - set(self._watches)):
            if path.is_dir():
                self._add(path)

    def wait(self, timeout: float) -> bool:
        """Whether anything changed within ``timeout`` seconds."""
        events = self._inotify.read(timeout=int(timeout * 1000), read_delay=DEBOUNCE_MS)
        gone = {event.wd for event in events if event.mask & flags.IGNORED}
        if gone:  # the folder itself went; watch it again when it is back
            self._watches = {p: wd for p, wd in self._watches.items() if wd not in gone}
        return bool(events)

    def close(self) -> None:
        self._inotify.close()

    def _add(self, path: Path) -> None:
        try:
            self._watches[path] = self._inotify.add_watch(path, MASK)
        except OSError as exc:  # vanished meanwhile, or out of watches
            log.debug("cannot watch %s: %s", path, exc)

    def _drop(self, path: Path) -> None:
        wd = self._watches.pop(path)
        with contextlib.suppress(OSError):  # the kernel dropped it already (the folder went)
            self._inotify.rm_watch(wd)
