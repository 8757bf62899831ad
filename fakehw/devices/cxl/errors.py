"""Errors of the CXL emulation, placed under fakehw's own tree so callers catch them as one.

    FakeHWError
     +-- DeviceError
          +-- CXLError                                  a CXL operation failed
          |    +-- RegionSizeError (ValueError)          not a positive multiple of 256 MiB
          |    +-- CapacityError (DeviceStateError)      no free capacity or HDM decoder left
          |    +-- RegionOrderError (DeviceStateError)   a later region on the memdev must go first
          +-- UnknownDeviceError (ValueError)           no such memdev or region (fakehw.errors)
          +-- DeviceStateError                          e.g. the memdev is unplugged or failed

Bad input is a ``ValueError`` as well, so the CLI can tell it from a refusal that depends on
what the tree holds right now.
"""

from __future__ import annotations

from fakehw.errors import DeviceError, DeviceStateError


class CXLError(DeviceError):
    """An operation on emulated CXL memory failed."""


class RegionSizeError(CXLError, ValueError):
    """A region size that HDM decoders cannot map. Names the size and a valid one."""


class CapacityError(CXLError, DeviceStateError):
    """The memdev has too little unallocated capacity, or no free decoder, for the region."""


class RegionOrderError(CXLError, DeviceStateError):
    """The kernel frees device memory in reverse allocation order, so it refuses (EBUSY)."""
