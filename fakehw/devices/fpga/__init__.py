"""Intel DFL FPGA cards: their sysfs and devfs trees, and partial reconfiguration.

``FPGAKind`` writes each card the way dfl-pci and the DFL drivers show it; ``program`` loads
a GBS bitstream into a card's port, walking the FPGA manager through the states the kernel
shows; ``watch_firmware_requests`` lets a driver that only sees files trigger the same by
writing a bitstream path to ``fpga_manager/fpgaN/firmware``; ``make_bitstream`` and
``write_bitstream`` build GBS images for tests and the CLI.
"""

from __future__ import annotations

from fakehw.devices.fpga.errors import (
    BitstreamError,
    FPGABusyError,
    FPGAError,
    IncompatibleBitstreamError,
)
from fakehw.devices.fpga.firmware import watch_firmware_requests
from fakehw.devices.fpga.gbs import Bitstream, make_bitstream, read_bitstream, write_bitstream
from fakehw.devices.fpga.kind import FPGAKind
from fakehw.devices.fpga.programming import ProgramResult, program

__all__ = ["Bitstream", "BitstreamError", "FPGABusyError", "FPGAError", "FPGAKind",
           "IncompatibleBitstreamError", "ProgramResult", "make_bitstream", "program",
           "read_bitstream", "watch_firmware_requests", "write_bitstream"]
