"""Reading sysfs the way a kernel-facing driver does: attributes, links, and nothing else.

Everything takes a sysfs root so the same code reads ``/sys`` on a real node and an emulated
tree in tests. A missing or unreadable attribute is ``None``, not an exception: devices come
and go while a driver scans them.
"""

from __future__ import annotations

import os
from pathlib import Path

from dra_reference.discovery.model import DeviceNode


class SysfsRoot:
    """A sysfs tree at ``root`` (``/sys`` on a real node)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: Path | str) -> str | None:
        try:
            return (self.root / path).read_text().strip()
        except OSError:
            return None

    def read_int(self, path: Path | str, base: int = 10) -> int | None:
        text = self.read(path)
        try:
            return int(text, base) if text is not None else None
        except ValueError:
            return None

    def link_name(self, path: Path | str) -> str | None:
        """The last component of a link's target (a ``driver`` link names the driver)."""
        try:
            return os.path.basename(os.readlink(self.root / path))
        except OSError:
            return None

    def device_path(self, link: Path | str) -> Path | None:
        """Where a ``bus/*/devices`` link points, relative to the root (``devices/...``)."""
        try:
            resolved = (self.root / link).resolve(strict=True)
            return resolved.relative_to(self.root.resolve())
        except (OSError, ValueError):
            return None

    def entries(self, path: Path | str, prefix: str = "") -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.root / path) if n.startswith(prefix))
        except OSError:
            return []

    def aer_fatal(self, device: Path) -> int:
        """The ``TOTAL_ERR_FATAL`` count, how the kernel reports a failed PCIe function."""
        for line in (self.read(device / "aer_dev_fatal") or "").splitlines():
            name, _, count = line.partition(" ")
            if name == "TOTAL_ERR_FATAL" and count.strip().isdigit():
                return int(count)
        return 0


    def dev_numbers(self, path: Path | str) -> tuple[int, int] | None:
        """A ``dev`` attribute (``235:0``) as (major, minor); None if absent or garbled."""
        major, sep, minor = (self.read(path) or "").partition(":")
        if not sep or not major.isdigit() or not minor.isdigit():
            return None
        return int(major), int(minor)


def char_device(sysfs: SysfsRoot, dev_attribute: Path, devfs: Path,
                name: str) -> DeviceNode | None:
    """The node ``/dev/<name>`` for a device whose numbers are in ``dev_attribute``.

    None when the kernel shows no numbers or udev made no node: a device a container cannot
    open is not handed out.
    """
    numbers = sysfs.dev_numbers(dev_attribute)
    host = devfs / name
    if numbers is None or not os.path.exists(host):
        return None
    return DeviceNode(path=f"/dev/{name}", host_path=str(host), major=numbers[0],
                      minor=numbers[1])


def pcie_root(device: Path) -> str:
    """Kubernetes' ``resource.kubernetes.io/pcieRoot``: the ``pci<domain>:<bus>`` component."""
    parts = device.parts
    return parts[1] if len(parts) > 1 and parts[0] == "devices" else ""
