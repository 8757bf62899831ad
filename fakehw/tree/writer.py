"""Writing a sysfs and a devfs tree under one root, and remembering what each device owns.

A device's own directory can be moved away and back in one ``rename`` (hot-unplug), but the
symlinks that point at it from ``bus/`` and ``class/`` and its device nodes live elsewhere.
The writer records each of those against the device being written, so unplug and replug can
remove and restore them without knowing the device's kind.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DevNode:
    path: str  # relative to the devfs root, e.g. "dri/card0"
    major: int
    minor: int


@dataclass
class DeviceRecord:
    """What the tree holds for one device: its directory, links pointing at it, its nodes."""

    name: str
    kind: str
    sysfs: str  # relative to the sysfs root
    bdf: str = ""
    links: dict[str, str] = field(default_factory=dict)  # link path -> target, sysfs-relative
    dev_nodes: list[DevNode] = field(default_factory=list)
    dev_links: dict[str, str] = field(default_factory=dict)  # devfs-relative
    attributes: dict[str, str | int | bool] = field(default_factory=dict)
    parent: str = ""  # the device this one hangs off (a VF's PF), unplugged with it


class TreeWriter:
    """Creates files, links and nodes under ``root/sys`` and ``root/dev``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sys = root / "sys"
        self.dev = root / "dev"
        self.mknod_ok = os.geteuid() == 0
        self._owner: DeviceRecord | None = None
        self._folders: set[Path] = set()

    def _folder(self, folder: Path) -> None:
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    @contextlib.contextmanager
    def owned_by(self, record: DeviceRecord) -> Iterator[DeviceRecord]:
        """Record links and nodes made inside the block as belonging to ``record``."""
        previous, self._owner = self._owner, record
        try:
            yield record
        finally:
            self._owner = previous

    def attr(self, path: str, value: str | int | bytes, mode: int = 0o444) -> None:
        target = self.sys / path
        self._folder(target.parent)
        data = value if isinstance(value, bytes) else f"{value}\n".encode()
        handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.write(handle, data)
        finally:
            os.close(handle)

    def mkdir(self, path: str) -> Path:
        target = self.sys / path
        self._folder(target)
        return target

    def link(self, path: str, target: str, *, owned: bool = True) -> None:
        """Make ``path`` a relative symlink to ``target`` (both sysfs-relative), as sysfs does."""
        make_link(self.sys, path, target)
        if owned and self._owner is not None:
            self._owner.links[path] = target

    def link_as_written(self, path: str, relative: str) -> None:
        """A link whose text must be exactly ``relative`` (the kernel does not always take the
        shortest way: a DRM minor's ``device`` is ``../../../<BDF>``, not ``../..``)."""
        where = self.sys / path
        where.parent.mkdir(parents=True, exist_ok=True)
        where.symlink_to(relative)

    def chardev(self, path: str, major: int, minor: int) -> None:
        node = DevNode(path, major, minor)
        make_node(self.dev, node, self.mknod_ok)
        if self._owner is not None:
            self._owner.dev_nodes.append(node)

    def dev_link(self, path: str, target: str) -> None:
        make_link(self.dev, path, target)
        if self._owner is not None:
            self._owner.dev_links[path] = target


def make_link(base: Path, path: str, target: str) -> None:
    where = base / path
    where.parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(base / target, where.parent)
    with contextlib.suppress(FileNotFoundError):
        where.unlink()
    where.symlink_to(relative)


def make_node(dev: Path, node: DevNode, mknod_ok: bool) -> None:
    """A character device node where the process may create one, else a described stand-in.

    The stand-in is an empty file next to a ``.fakehw-nodes`` line recording the numbers, so
    tools and CDI specs can still learn the major and minor.
    """
    where = dev / node.path
    where.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        where.unlink()
    if mknod_ok:
        with contextlib.suppress(PermissionError):
            os.mknod(where, 0o666 | stat.S_IFCHR, os.makedev(node.major, node.minor))
            where.chmod(0o666)  # mknod's mode passes through the umask; containers need rw
            return
    where.touch()
    with (dev / ".fakehw-nodes").open("a") as described:
        described.write(f"{node.path} c {node.major} {node.minor}\n")


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
