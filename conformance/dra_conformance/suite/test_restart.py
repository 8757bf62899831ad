"""Driver restarts: registration comes back and prepared claims survive (the checkpoint)."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from dra_conformance.fixtures import Connect
from dra_conformance.profiles.model import DriverProfile
from dra_conformance.suite import kit
from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket
Evidence = Callable[[str], None]


@pytest.mark.requirement("DRA-REG-004")
def test_registers_again_after_restart(dra_connect: Connect, dra_restart: Callable[[], None],
                                       dra_profile: DriverProfile,
                                       dra_evidence: Evidence) -> None:
    before = dra_connect().get_info()
    dra_restart()
    after = dra_connect().get_info()
    dra_evidence(f"endpoint before {before.endpoint}, after {after.endpoint}")
    assert after.name == dra_profile.driver
    assert stat.S_ISSOCK(Path(after.endpoint).stat().st_mode)


@pytest.mark.requirement("DRA-RST-001")
def test_prepared_claim_survives_restart(sock: SocketTier, dra_connect: Connect,
                                         dra_restart: Callable[[], None]) -> None:
    ref = sock.claim()
    before = sock.prepare(ref)
    assert before.error == "", f"prepare failed: {before.error}"
    dra_restart()
    kubelet = dra_connect()
    sock.kubelet = kubelet  # the teardown unprepares through the new instance
    after = kubelet.prepare([ref])[ref.uid]
    sock.evidence(f"before restart: {kit.describe(before)}; after: {kit.describe(after)}")
    assert kit.summary(after) == kit.summary(before), "a restart changed a prepared claim"
    assert kubelet.unprepare([ref]) == {ref.uid: ""}
