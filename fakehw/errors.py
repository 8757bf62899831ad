"""Every error fakehw raises, under one root so callers can catch the project's failures alone.

    FakeHWError
     +-- ProfileError (ValueError)       a hardware profile is invalid; names the field and the fix
     +-- DeviceError                     an operation on an emulated device failed
     |    +-- UnknownDeviceError (ValueError)   no such device in the running tree
     |    +-- DeviceStateError              the device is not in a state that allows it
     +-- TreeError                       a tree cannot be created, found or removed
     +-- CameraError                     the RTSP camera cannot start or be controlled
     +-- ClusterError                    a cluster cannot be built, started or stopped

Device kinds and parts extend the tree where they live: ``fakehw.devices.fpga.errors``
(``BitstreamError``, ``IncompatibleBitstreamError``, ``FPGABusyError``),
``fakehw.camera.marks.MarksError`` and ``fakehw.cluster.errors``.
"""

from __future__ import annotations


class FakeHWError(Exception):
    """Root of every error raised by fakehw."""


class ProfileError(FakeHWError, ValueError):
    """A hardware profile is invalid. The message names the field and how to fix it."""

    def __init__(self, source: str, field: str, problem: str, fix: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(f"{source}: {field}: {problem}; {fix}")


class DeviceError(FakeHWError):
    """An operation on an emulated device failed."""


class UnknownDeviceError(DeviceError, ValueError):
    """No device of that name exists in the running tree."""


class DeviceStateError(DeviceError):
    """The device is not in a state that allows the operation (e.g. unplugging it twice)."""


class TreeError(FakeHWError):
    """A tree cannot be created, found or removed."""


class CameraError(FakeHWError):
    """An emulated camera cannot start or be controlled."""


class ClusterError(FakeHWError):
    """A cluster cannot be built, started or stopped."""
