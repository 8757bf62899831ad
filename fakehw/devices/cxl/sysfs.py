"""How CXL and DAX bus devices look in sysfs, and how to change a live tree without tearing.

Every device on the ``cxl`` bus has the same few files whatever it is (``devtype``,
``modalias``, ``uevent``, ``subsystem``) and a link in ``bus/cxl/devices``; bound ones also
link to their driver. Regions, NUMA nodes and memory blocks appear and vanish while tools
and drivers watch the tree, so those folders are built aside and renamed into place whole,
and attributes that change are replaced by a rename, never truncated and rewritten.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from fakehw.tree.state import state_dir
from fakehw.tree.writer import TreeWriter

# cxl_device_id() values, which the bus puts in MODALIAS as cxl:t<id>
CXL_DECODER, CXL_PORT, CXL_ROOT, CXL_MEMORY_EXPANDER, CXL_REGION, CXL_DAX_REGION = 0, 3, 4, 5, 6, 8


def name_of(path: str) -> str:
    return PurePosixPath(path).name


def bus_files(tree: TreeWriter, path: str, bus: str, driver: str = "") -> None:
    """The links inside a bus device's folder: they move with it, so nobody records them."""
    tree.link(f"{path}/subsystem", f"bus/{bus}", owned=False)
    if driver:
        tree.link(f"{path}/driver", f"bus/{bus}/drivers/{driver}", owned=False)


def bus_register(tree: TreeWriter, path: str, bus: str, driver: str = "") -> None:
    """The links into a bus device from its bus and driver folders, owned by the writer's owner."""
    name = name_of(path)
    tree.link(f"bus/{bus}/devices/{name}", path)
    if driver:
        tree.link(f"bus/{bus}/drivers/{driver}/{name}", path)


def cxl_files(tree: TreeWriter, path: str, devtype: str, type_id: int, driver: str = "",
              *, base_attributes: bool = True) -> None:
    """The files every device on the cxl bus has; ``driver`` binds it.

    Memdevs lack the ``devtype``/``modalias`` attribute group, hence ``base_attributes``.
    """
    uevent = [f"DEVTYPE={devtype}", *([f"DRIVER={driver}"] if driver else []),
              f"MODALIAS=cxl:t{type_id}"]
    tree.attr(f"{path}/uevent", "\n".join(uevent), mode=0o644)
    if base_attributes:
        tree.attr(f"{path}/devtype", devtype)
        tree.attr(f"{path}/modalias", f"cxl:t{type_id}")
    bus_files(tree, path, "cxl", driver)


def cxl_device(tree: TreeWriter, path: str, devtype: str, type_id: int, driver: str = "",
               *, base_attributes: bool = True) -> None:
    """A cxl bus device written in place: its files and its links from ``bus/cxl``."""
    cxl_files(tree, path, devtype, type_id, driver, base_attributes=base_attributes)
    bus_register(tree, path, "cxl", driver)


def write_buses(tree: TreeWriter) -> None:
    """``bus/cxl`` and ``bus/dax`` as a kernel with the CXL and DAX drivers loaded has them.

    libcxl writes ``bus/cxl/flush`` before it lists anything, so it must be writable.
    """
    for bus in ("cxl", "dax"):
        tree.mkdir(f"bus/{bus}/devices")
        tree.attr(f"bus/{bus}/drivers_autoprobe", 1, mode=0o644)
        tree.attr(f"bus/{bus}/drivers_probe", "", mode=0o200)
        tree.attr(f"bus/{bus}/uevent", "", mode=0o200)
    tree.attr("bus/cxl/flush", "", mode=0o200)
    for driver in ("cxl_mem", "cxl_port", "cxl_region", "cxl_dax_region"):
        _driver_folder(tree, "cxl", driver)
    for driver in ("device_dax", "kmem"):
        _driver_folder(tree, "dax", driver)
        for control in ("new_id", "remove_id"):
            tree.attr(f"bus/dax/drivers/{driver}/{control}", "", mode=0o200)


def _driver_folder(tree: TreeWriter, bus: str, driver: str) -> None:
    for control in ("bind", "unbind", "uevent"):
        tree.attr(f"bus/{bus}/drivers/{driver}/{control}", "", mode=0o200)


def char_device(tree: TreeWriter, path: str, node: str, major: int, minor: int) -> None:
    """``/dev/<node>`` and the ``dev/char/M:m`` links (sysfs and udev's) libraries resolve a
    node's device folder by; daxctl, for one, finds a DAX device's bus that way."""
    tree.link(f"dev/char/{major}:{minor}", path)
    tree.chardev(node, major, minor)
    tree.dev_link(f"char/{major}:{minor}", node)


_STAMPS: dict[Path, tuple[int, bytes]] = {}  # file -> (inode, text) as this process left it


def remember(file: Path) -> None:
    """Take ``file`` as this process's own last write, so ``keep_writes`` notices the next
    one by anyone else (the watcher calls it for the files it may rewrite at start).
    Content, not mtime, tells: timestamps are coarse, a write in the same tick keeps it."""
    with contextlib.suppress(FileNotFoundError):
        _STAMPS[file] = (file.stat().st_ino, file.read_bytes())


def replace_attr(tree: TreeWriter, path: str, value: str | int, mode: int = 0o444, *,
                 keep_writes: bool = False) -> None:
    """Change an attribute in one rename, so a reader sees the old or the new value.

    ``keep_writes``: leave the file alone if someone wrote it since this process last did,
    even while it is being replaced; the watcher has yet to act on that write and must read
    what was written.
    """
    target = tree.sys / path
    text = f"{value}\n"
    with _held_open(target if keep_writes else None) as before:
        if before is not None and _STAMPS.get(target, before[:2]) != before[:2]:
            return
        if target.exists() and target.read_text() == text and \
                target.stat().st_mode & 0o777 == mode:
            return  # unchanged: watchers see no event
        _rename_in(tree, target, text, mode)
        remember(target)
        if before is not None and (late := os.pread(before[2], 4096, 0)) != before[1]:
            _rename_in(tree, target, late.decode(), mode)  # written while replaced: put back


@contextlib.contextmanager
def _held_open(target: Path | None) -> Iterator[tuple[int, bytes, int] | None]:
    """(inode, text, fd) of ``target`` kept open, or None."""
    try:
        fd = os.open(target, os.O_RDONLY) if target is not None else -1
    except FileNotFoundError:
        fd = -1
    if fd < 0:
        yield None
        return
    try:
        yield os.fstat(fd).st_ino, os.pread(fd, 4096, 0), fd
    finally:
        os.close(fd)


def _rename_in(tree: TreeWriter, target: Path, text: str, mode: int) -> None:
    scratch = _scratch(tree)
    scratch.mkdir(parents=True, exist_ok=True)
    temporary = scratch / f"attr-{target.name}"
    temporary.write_text(text)
    temporary.chmod(mode)
    os.replace(temporary, target)


def _scratch(tree: TreeWriter) -> Path:
    return state_dir(tree.root) / f"cxl-scratch-{os.getpid()}"


@contextlib.contextmanager
def aside(tree: TreeWriter) -> Iterator[TreeWriter]:
    """A writer for a scratch tree beside ``tree``'s (same filesystem, so renames work),
    removed when the block ends; its layout mirrors the real one, so relative links made in
    it stay right once a folder is moved across."""
    area = _scratch(tree) / "aside"
    shutil.rmtree(area, ignore_errors=True)
    writer = TreeWriter(area)
    writer.mknod_ok = tree.mknod_ok
    try:
        yield writer
    finally:
        shutil.rmtree(_scratch(tree), ignore_errors=True)


@contextlib.contextmanager
def staged(tree: TreeWriter, path: str) -> Iterator[TreeWriter]:
    """A writer for the folder ``path`` built aside; renamed into place when the block ends.

    Links from outside the folder must be made after, on ``tree``.
    """
    with aside(tree) as writer:
        yield writer
        (tree.sys / path).parent.mkdir(parents=True, exist_ok=True)
        os.rename(writer.sys / path, tree.sys / path)


def move_in(tree: TreeWriter, writer: TreeWriter, path: str) -> None:
    """Replace the file ``path`` of ``tree`` with the one ``writer`` (from ``aside``) wrote."""
    os.replace(writer.sys / path, tree.sys / path)


def remove_folder(tree: TreeWriter, path: str) -> None:
    """Make the folder ``path`` vanish at once (rename it out), then delete it."""
    source = tree.sys / path
    if not source.exists():
        return
    graveyard = _scratch(tree) / "removed"
    graveyard.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(graveyard, ignore_errors=True)
    os.rename(source, graveyard)
    shutil.rmtree(_scratch(tree), ignore_errors=True)


def unlink(base: Path, path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        (base / path).unlink()


def discard_scratch(tree: TreeWriter) -> None:
    """Remove what ``replace_attr`` left aside; call when a change to the tree is done."""
    shutil.rmtree(_scratch(tree), ignore_errors=True)
