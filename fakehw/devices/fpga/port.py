"""The port (``dfl-port.N``): the FPGA's accelerator slot, and the AFU loaded into it.

dfl-afu-main.c shows the port header (``id``, ``ltr``, ``ap1_event``, ``ap2_event``,
``power_state``) and the loaded AFU's id as ``afu_id`` (``%016llx%016llx``: 32 hex digits, no
dashes); dfl-afu-error.c adds ``errors/``. ``/dev/dfl-port.N`` is what a container is given to
use the accelerator, so the DRA driver's CDI spec names it.
"""

from __future__ import annotations

from fakehw.devices.fpga.devmodel import dfl_device, platform_device
from fakehw.devices.fpga.layout import PORT_MAJOR, PORT_TYPE, FPGALayout
from fakehw.profiles.model import FPGA
from fakehw.tree.writer import TreeWriter

PORT_ID = 0  # single-port cards: the port's number within its card
USRCLK_FEATURE, USRCLK_DRIVER = 0x14, "uio_dfl"  # the port's private feature on the DFL bus


def write_port(tree: TreeWriter, layout: FPGALayout, fpga: FPGA) -> None:
    path = layout.port_path
    platform_device(tree, path, "dfl-port", (PORT_MAJOR, layout.index))
    for name, value, mode in (("id", PORT_ID, 0o444), ("ltr", "0", 0o644),
                              ("ap1_event", "0", 0o644), ("ap2_event", "0", 0o644),
                              ("power_state", "0x0", 0o444), ("afu_id", fpga.afu_id, 0o444)):
        tree.attr(f"{path}/{name}", value, mode=mode)
    write_port_errors(tree, layout, errors=0)
    dfl_device(tree, layout.dfl_dev_path(PORT_TYPE), PORT_TYPE, USRCLK_FEATURE, USRCLK_DRIVER)


def write_port_errors(tree: TreeWriter, layout: FPGALayout, errors: int) -> None:
    """The port error register; the first error latches the same bits."""
    folder = f"{layout.port_path}/errors"
    tree.attr(f"{folder}/errors", f"0x{errors:x}", mode=0o644)
    tree.attr(f"{folder}/first_error", f"0x{errors:x}")
    tree.attr(f"{folder}/first_malformed_req", f"0x{0:016x}{0:016x}")
