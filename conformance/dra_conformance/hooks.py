"""Hooks through which a vendor or a test harness supplies what the suite cannot find itself.

Fixture overriding depends on plugin registration order, which differs between ``-p`` and
entry points, and conftest files next to the caller do not reach tests collected from an
installed package; hooks work wherever they are implemented (a ``-p`` plugin, an entry point,
an initial conftest). Each returns None to leave the default in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dra_conformance.claims.model import DeviceRef
    from dra_conformance.claims.store import ClaimStore
    from dra_conformance.profiles.model import DriverProfile

hookspec = pytest.hookspec


@hookspec(firstresult=True)
def pytest_dra_claim_store(config: pytest.Config,
                           profile: DriverProfile) -> ClaimStore | None:
    """Where allocated claims for the socket tier are written (default: the API server)."""


@hookspec(firstresult=True)
def pytest_dra_devices(config: pytest.Config, profile: DriverProfile,
                       node: str | None) -> Sequence[DeviceRef] | None:
    """Devices to allocate in socket tests (default: the driver's slices on ``node``)."""


@hookspec(firstresult=True)
def pytest_dra_restart(config: pytest.Config,
                       profile: DriverProfile) -> Callable[[], None] | None:
    """A callable that restarts the driver (default: the profile's restartCommand)."""
