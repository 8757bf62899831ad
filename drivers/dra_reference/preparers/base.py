"""What a per-kind preparer is given and must provide, and the errors it raises.

A kind preparer turns one allocated device into container edits. Whatever it changes on the
device (a credential minted, a region created) it reports through ``note`` *before or as* it
changes it, so the dispatcher can journal it and undo it after a failure or a crash; the same
notes come back to ``undo`` on unprepare. ``undo`` must be idempotent and must accept notes of
work that was only partly done.

    DriverError (dra_reference.errors)
    ├── TemporaryError
    │   └── DeviceUnavailableError     the allocated device is not on the node now
    └── PermanentError
        └── DeviceSetupError           the hardware refused the configuration
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from dra_reference.cdi import ContainerEdits
from dra_reference.cdi import DeviceNode as CDINode
from dra_reference.discovery.model import Device, DeviceNode
from dra_reference.errors import PermanentError, TemporaryError
from dra_reference.plugin.model import JSON, AllocatedDevice, ClaimRef

Note = Callable[[Mapping[str, JSON]], None]


class DeviceUnavailableError(TemporaryError):
    """The allocated device is not on this node now (unplugged, driver unbound)."""


class DeviceSetupError(PermanentError):
    """The device refused the requested setup (an incompatible bitstream, say)."""


@dataclass(frozen=True)
class DeviceJob:
    """One allocated device to prepare, with what is known about it."""

    claim: ClaimRef
    allocated: AllocatedDevice
    device: Device
    config: Any  # the kind's parameter type (GpuConfig, ...), validated
    peers: tuple[str, ...]  # this kind's devices in the same request, this one included


class KindPreparer(Protocol):
    kind: str
    # False only if ``prepare`` never changes anything on the device (so ``undo`` has
    # nothing to do): then no journal and no "preparing" record are written for it.
    changes_devices: bool

    def prepare(self, job: DeviceJob, note: Note) -> ContainerEdits:
        """Set the device up for the claim; report undoable changes through ``note``."""
        ...

    def undo(self, notes: Mapping[str, JSON]) -> None:
        """Reverse what the notes say was done; done already or never done is fine."""
        ...


def cdi_node(node: DeviceNode) -> CDINode:
    """A character device for the container with the host's real numbers."""
    return CDINode(path=node.path, host_path=node.host_path, type="c", major=node.major,
                   minor=node.minor, permissions="rw")


def env_name(text: str) -> str:
    """``front-door`` -> ``FRONT_DOOR``: a device name as part of a variable name."""
    return "".join(c if c.isalnum() else "_" for c in text).upper()
