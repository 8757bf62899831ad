"""A pytest plugin (``-p tests.conformance.harness_plugin``) that hands the suite the
in-process reference driver: its claim store, devices and restart, through the suite's hooks.

The outer test sets ``CURRENT`` before running the suite in-process with pytester.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from dra_conformance.claims.model import DeviceRef

from tests.conformance.harness import DEVICES, Harness

CURRENT: list[Any] = []  # [Harness] or [Harness, restart callable]


def harness() -> Harness:
    if not CURRENT:
        raise RuntimeError("no harness running: set tests.conformance.harness_plugin.CURRENT")
    found: Harness = CURRENT[0]
    return found


def pytest_dra_claim_store(config: pytest.Config, profile: object) -> object:
    return harness().store()


def pytest_dra_devices(config: pytest.Config, profile: object,
                       node: str | None) -> Sequence[DeviceRef]:
    return DEVICES


def pytest_dra_restart(config: pytest.Config, profile: object) -> Callable[[], None]:
    restart: Callable[[], None] = CURRENT[1] if len(CURRENT) > 1 else harness().restart
    return restart
