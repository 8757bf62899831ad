"""Errors of the FPGA emulation, placed under fakehw's own tree so callers catch them as one.

    FakeHWError
     +-- DeviceError
          +-- FPGAError                                 an FPGA operation failed
          |    +-- BitstreamError (ValueError)           a file is missing or not a valid GBS
          |    +-- IncompatibleBitstreamError (ValueError)
          |    |                                         its interface id is not the region's
          |    +-- FPGABusyError (DeviceStateError)      the port is being programmed already
          +-- UnknownDeviceError (ValueError)           no such FPGA (from fakehw.errors)
          +-- DeviceStateError                          e.g. the FPGA is unplugged

Bad input (a malformed file, a wrong image for the region) is a ``ValueError`` as well, so the
CLI can tell it from a failure of the emulation itself.
"""

from __future__ import annotations

from fakehw.errors import DeviceError, DeviceStateError


class FPGAError(DeviceError):
    """An operation on an emulated FPGA failed."""


class BitstreamError(FPGAError, ValueError):
    """A bitstream cannot be read or is not in Intel's GBS layout. Names the file and the flaw."""


class IncompatibleBitstreamError(FPGAError, ValueError):
    """The bitstream was built for another PR interface than the region's ``compat_id``."""


class FPGABusyError(FPGAError, DeviceStateError):
    """The FPGA's port is being reprogrammed; a second programming must wait for it."""
