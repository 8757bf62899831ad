"""How the driver core shows a device in sysfs: platform devices, class devices, DFL devices.

A DFL card is mostly software devices the kernel hangs under the PCI function: platform devices
bound to platform drivers, class devices (``fpga_region``, ``fpga_manager``, ``fpga_bridge``)
and devices on the ``dfl`` bus. Each kind has the same few files and links wherever it sits,
so they are written by these helpers rather than by hand at every place.

Link text matters to tools that ``readlink``: kernfs spells a link by climbing to the nearest
folder holding the target and descending from there, so a class device's ``device`` link to
its parent reads ``../../../dfl-fme-mgr.0``, never ``../..``. ``kernfs_link`` writes it so.
"""

from __future__ import annotations

import contextlib
from pathlib import PurePosixPath

from fakehw.devices.pci import bind_driver
from fakehw.tree.writer import TreeWriter


def kernfs_text(path: str, target: str) -> str:
    """The text kernfs gives a link at ``path`` to ``target`` (both sysfs-relative)."""
    base, goal = PurePosixPath(path).parent, PurePosixPath(target)
    ups = 0
    while base != goal.parent and base not in goal.parent.parents:
        base, ups = base.parent, ups + 1
    return "../" * ups + str(goal.relative_to(base))


def kernfs_link(tree: TreeWriter, path: str, target: str) -> None:
    """A link inside a device's own folder (it moves with the folder, so nobody records it)."""
    where = tree.sys / path
    where.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        where.unlink()
    where.symlink_to(kernfs_text(path, target))


def empty(tree: TreeWriter, path: str, mode: int = 0o444) -> None:
    """An attribute that reads as nothing at all, as ``status`` does without errors."""
    tree.attr(path, b"", mode=mode)


def platform_device(tree: TreeWriter, path: str, driver: str,
                    devt: tuple[int, int] | None = None) -> None:
    """A platform device bound to ``driver``; with ``devt`` it also owns a character device."""
    name = PurePosixPath(path).name
    base_name = name.removesuffix(".auto").rsplit(".", 1)[0]  # pdev->name, without the id
    lines = [f"MAJOR={devt[0]}", f"MINOR={devt[1]}", f"DEVNAME={name}"] if devt else []
    lines += [f"DRIVER={driver}", f"MODALIAS=platform:{base_name}"]
    tree.attr(f"{path}/uevent", "\n".join(lines), mode=0o644)
    tree.attr(f"{path}/modalias", f"platform:{base_name}")
    tree.attr(f"{path}/driver_override", "(null)", mode=0o644)
    if devt:
        tree.attr(f"{path}/dev", f"{devt[0]}:{devt[1]}")
        tree.link(f"dev/char/{devt[0]}:{devt[1]}", path)
        tree.chardev(name, *devt)
        tree.dev_link(f"char/{devt[0]}:{devt[1]}", name)
    tree.link(f"{path}/subsystem", "bus/platform", owned=False)
    tree.link(f"bus/platform/devices/{name}", path)
    bind_driver(tree, path, name, driver, bus="platform")


def class_device(tree: TreeWriter, path: str, parent: str) -> None:
    """A device of class ``<path>/../..``'s name (e.g. ``fpga_manager``) hanging off ``parent``.

    ``class/<class>/<name>`` links to it; its ``device`` link names the parent, which is how
    OPAE and Intel's plugin climb from ``class/fpga_region/regionN`` to the PCI function.
    """
    folder = PurePosixPath(path)
    device_class = folder.parent.name
    tree.attr(f"{path}/uevent", b"", mode=0o644)
    kernfs_link(tree, f"{path}/device", parent)
    tree.link(f"{path}/subsystem", f"class/{device_class}", owned=False)
    tree.link(f"class/{device_class}/{folder.name}", path)


def dfl_device(tree: TreeWriter, path: str, fiu_type: int, feature_id: int, driver: str) -> None:
    """A device on the DFL bus: one private feature of an FME or a port, with its own driver."""
    name = PurePosixPath(path).name
    tree.attr(f"{path}/type", f"0x{fiu_type:x}")
    tree.attr(f"{path}/feature_id", f"0x{feature_id:x}")
    tree.attr(f"{path}/uevent", f"DRIVER={driver}\nMODALIAS=dfl:t{fiu_type:04X}f{feature_id:04X}",
              mode=0o644)
    tree.link(f"{path}/subsystem", "bus/dfl", owned=False)
    tree.link(f"bus/dfl/devices/{name}", path)
    bind_driver(tree, path, name, driver, bus="dfl")


def write_dfl_bus(tree: TreeWriter) -> None:
    """The files every kernel with the DFL bus registered has, whatever devices sit on it."""
    tree.mkdir("bus/dfl/devices")
    tree.attr("bus/dfl/drivers_autoprobe", 1, mode=0o644)
    tree.attr("bus/dfl/drivers_probe", "", mode=0o200)
    tree.attr("bus/dfl/uevent", "", mode=0o200)
