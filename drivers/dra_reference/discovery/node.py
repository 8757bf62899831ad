"""One node's hardware: the kinds the driver was asked to serve, scanned from one sysfs root.

The roots are checked when the driver starts, and a wrong one stops it with the reason.
Intel's drivers quietly fall back to ``/sys`` when ``$SYSFS_ROOT/bus/pci`` is missing; on a
test bed that publishes the host's real devices instead of the emulated ones, which is worse
than not starting.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from dra_reference.discovery.cxl import discover_cxl
from dra_reference.discovery.fpga import discover_fpgas
from dra_reference.discovery.gpu import discover_gpus
from dra_reference.discovery.model import Device
from dra_reference.discovery.sysfs import SysfsRoot
from dra_reference.errors import ConfigurationError

KINDS = ("gpu", "fpga", "cxl")
# What each kind needs to exist under the sysfs root before anything can be found.
REQUIRED = {"gpu": ("bus/pci",), "fpga": ("bus/pci", "class"), "cxl": ("bus/pci",)}


def _no_regions() -> Collection[str]:
    return ()


@dataclass(frozen=True)
class NodeHardware:
    """The sysfs, devfs and procfs roots (``/sys``, ``/dev``, ``/proc`` on a real node) and
    the kinds served."""

    sysfs_root: Path
    devfs_root: Path
    kinds: tuple[str, ...] = KINDS
    owned_regions: Callable[[], Collection[str]] = field(default=_no_regions)
    procfs_root: Path | None = None  # None: the proc folder beside the sysfs root (/proc)

    @property
    def procfs(self) -> Path:
        return self.procfs_root or self.sysfs_root.parent / "proc"

    def check(self) -> None:
        """Refuse roots that cannot be right, saying which and what to pass instead."""
        unknown = [kind for kind in self.kinds if kind not in KINDS]
        if unknown:
            raise ConfigurationError(f"unknown device kind {unknown[0]!r}; the kinds are "
                                     f"{', '.join(KINDS)} (cameras come from --cameras-config)")
        if not self.sysfs_root.is_dir():
            raise ConfigurationError(f"sysfs root {self.sysfs_root} is not a directory; "
                                     "pass --sysfs-root /sys or an emulated tree's ROOT/sys")
        for kind in self.kinds:
            for needed in REQUIRED[kind]:
                if not (self.sysfs_root / needed).is_dir():
                    raise ConfigurationError(
                        f"sysfs root {self.sysfs_root} has no {needed}/, so it is not a sysfs "
                        f"tree (needed for {kind}); pass --sysfs-root /sys or the sys folder "
                        "of an emulated tree (fakehw up --root ROOT makes ROOT/sys)")
        if not self.devfs_root.is_dir():
            raise ConfigurationError(f"devfs root {self.devfs_root} is not a directory; "
                                     "pass --devfs-root /dev or an emulated tree's ROOT/dev")

    def scan(self) -> list[Device]:
        """Every device of the configured kinds, as the tree shows it now."""
        sysfs = SysfsRoot(self.sysfs_root)
        found: list[Device] = []
        if "gpu" in self.kinds:
            found += discover_gpus(sysfs, self.devfs_root, self.procfs)
        if "fpga" in self.kinds:
            found += discover_fpgas(sysfs, self.devfs_root)
        if "cxl" in self.kinds:
            found += discover_cxl(sysfs, self.devfs_root, self.owned_regions())
        return found
