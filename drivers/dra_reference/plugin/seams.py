"""The three things the kubelet-facing layer needs from the rest of the driver.

Discovery, ResourceSlice publishing and per-kind preparation live elsewhere and are written
against these Protocols; tests plug in small implementations of their own. Nothing here knows
about gRPC, so per-kind code never does either.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dra_reference.plugin.model import ClaimJSON, DeviceHealth, PreparedDevice, PrepareRequest

if TYPE_CHECKING:
    from dra_reference.checkpoint import CheckpointEntry


class Preparer(Protocol):
    """Per-kind preparation of allocated devices.

    Calls are serialized by the plugin; each may be repeated after a crash, so each must be
    idempotent. Raise a ``dra_reference.errors.DriverError`` subclass to say what went wrong;
    any other exception is wrapped as a retryable ``PreparerError``.
    """

    def prepare(self, request: PrepareRequest) -> Sequence[PreparedDevice]:
        """Make ``request.devices`` usable; one PreparedDevice per device you set up.

        If this raises, ``rollback`` is called with the claim's ``preparing`` entry.
        """
        ...

    def unprepare(self, entry: CheckpointEntry) -> None:
        """Undo a finished preparation; ``entry.devices`` carry the ``undo`` data you returned.

        Also called to finish an unprepare that a crash interrupted.
        """
        ...

    def rollback(self, entry: CheckpointEntry) -> None:
        """Undo a preparation that may be partial: ``entry.devices`` is empty and
        ``entry.allocated`` says what ``prepare`` was asked to do."""
        ...


@runtime_checkable
class ChangeAware(Protocol):
    """Optional for a Preparer: whether a request would change anything that needs undoing.

    The plugin records a claim as "preparing" before ``prepare`` runs only so that a crash
    can be followed by ``rollback``; a request that changes nothing needs no such record,
    which saves a synchronous checkpoint write. A Preparer without this method is taken to
    change devices on every request.
    """

    def changes_devices(self, request: PrepareRequest) -> bool:
        """True unless preparing ``request`` is sure to leave nothing to undo; must not
        touch the devices itself."""
        ...


class HealthSource(Protocol):
    """Device health, as complete snapshots."""

    def watch(self, stop: threading.Event) -> Iterator[Sequence[DeviceHealth]]:
        """Yield the full list of the driver's devices now and again after every change.

        Return (or notice ``stop``) when ``stop`` is set; block between changes for at most
        about a second so shutdown is prompt.
        """
        ...


class ClaimSource(Protocol):
    """Where ResourceClaims come from: the API server in production."""

    def get(self, namespace: str, name: str) -> ClaimJSON:
        """The claim as the API server has it now, as its JSON.

        Raise ``ClaimNotFoundError`` when it does not exist and ``ClaimFetchError`` when the
        API server could not be asked.
        """
        ...
