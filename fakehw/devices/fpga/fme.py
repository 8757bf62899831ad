"""The FPGA Management Engine (``dfl-fme.N``) and the PR machinery its driver creates.

dfl-fme-main.c shows the static region's identity (``bitstream_id``, ``bitstream_metadata``)
and the card's capabilities; dfl-fme-error.c adds an ``errors/`` group; dfl-fme-pr.c creates an
FPGA manager (``dfl-fme-mgr.N``), one bridge and one region per port. The region's ``compat_id``
is the PR interface id a bitstream must be built for, which is what DRA drivers and Intel's
plugin match bitstreams against.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakehw.devices.fpga.devmodel import class_device, dfl_device, empty, platform_device
from fakehw.devices.fpga.layout import FME_MAJOR, FME_TYPE, FPGALayout
from fakehw.profiles.model import FPGA
from fakehw.tree.writer import TreeWriter

MANAGER_NAME = "DFL FME FPGA Manager"
BRIDGE_NAME = "DFL FPGA FME Bridge"
INITIAL_STATE = "unknown"  # dfl-fme-mgr reports no state of its own until it programs
FME_ERROR_FILES = ("pcie0_errors", "pcie1_errors", "nonfatal_errors", "catfatal_errors",
                   "inject_errors", "fme_errors", "first_error", "next_error")
WRITABLE_ERRORS = ("pcie0_errors", "pcie1_errors", "inject_errors", "fme_errors")


@dataclass(frozen=True)
class FMEFacts:
    """What a card's static region (FIM) reports; plausible values of the real cards' shape."""

    bitstream_id: int
    bitstream_metadata: int
    feature_id: int  # the private feature the FME exposes on the DFL bus
    feature_driver: str


FACTS = {
    "intel-pac-n3000": FMEFacts(0x23000410010309, 0x1904092, 0xD, "dfl-n3000-nios"),
    "intel-pac-d5005": FMEFacts(0x40100022C164DB1, 0x1908290, 0x9, "dfl-emif"),
}
DEFAULT_FACTS = FACTS["intel-pac-n3000"]


def write_fme(tree: TreeWriter, layout: FPGALayout, fpga: FPGA) -> None:
    facts = FACTS.get(fpga.model.key, DEFAULT_FACTS)
    path = layout.fme_path
    platform_device(tree, path, "dfl-fme", (FME_MAJOR, layout.index))
    for name, value in (("ports_num", 1), ("bitstream_id", f"0x{facts.bitstream_id:x}"),
                        ("bitstream_metadata", f"0x{facts.bitstream_metadata:x}"),
                        ("cache_size", 0), ("fabric_version", 0),
                        ("socket_id", max(fpga.numa_node, 0))):
        tree.attr(f"{path}/{name}", value)
    write_fme_errors(tree, layout, catfatal=0)
    dfl_device(tree, layout.dfl_dev_path(FME_TYPE), FME_TYPE, facts.feature_id,
               facts.feature_driver)
    _write_manager(tree, layout)
    _write_bridge(tree, layout)
    _write_compat_region(tree, layout, fpga.compat_id)


def write_fme_errors(tree: TreeWriter, layout: FPGALayout, catfatal: int) -> None:
    """The global error registers as ``0x%llx``; a catastrophic error also becomes the first."""
    values = dict.fromkeys(FME_ERROR_FILES, 0)
    values.update(catfatal_errors=catfatal, first_error=catfatal)
    for name, value in values.items():
        mode = 0o644 if name in WRITABLE_ERRORS else 0o444
        tree.attr(f"{layout.fme_path}/errors/{name}", f"0x{value:x}", mode=mode)


def _write_manager(tree: TreeWriter, layout: FPGALayout) -> None:
    device = f"{layout.fme_path}/{layout.manager_device}"
    platform_device(tree, device, "dfl-fme-mgr")
    path = layout.manager_path
    class_device(tree, path, device)
    tree.attr(f"{path}/name", MANAGER_NAME)
    tree.attr(f"{path}/state", INITIAL_STATE)
    empty(tree, f"{path}/status")
    # Not in mainline: the Xilinx kernel's trigger, so a driver that only sees files can program.
    empty(tree, f"{path}/firmware", mode=0o200)


def _write_bridge(tree: TreeWriter, layout: FPGALayout) -> None:
    device = f"{layout.fme_path}/{layout.bridge_device}"
    platform_device(tree, device, "dfl-fme-bridge")
    class_device(tree, layout.bridge_path, device)
    tree.attr(f"{layout.bridge_path}/name", BRIDGE_NAME)
    tree.attr(f"{layout.bridge_path}/state", "enabled")


def _write_compat_region(tree: TreeWriter, layout: FPGALayout, compat_id: str) -> None:
    device = f"{layout.fme_path}/{layout.region_device}"
    platform_device(tree, device, "dfl-fme-region")
    class_device(tree, layout.compat_path, device)
    tree.attr(f"{layout.compat_path}/compat_id", compat_id)
