"""Driver restarts: registration comes back and prepared claims survive (the checkpoint)."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dra_conformance.fixtures import Connect
from dra_conformance.kubelet.discovery import find_registration_socket
from dra_conformance.profiles.model import DriverProfile
from dra_conformance.suite import kit
from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket
STOP_GRACE = 30.0  # seconds a stopped pod gets by default (terminationGracePeriodSeconds)
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


@pytest.mark.requirement("DRA-REG-006")
def test_a_stopped_instance_leaves_no_socket_behind(
        dra_connect: Connect, dra_restart: Callable[[], None], dra_profile: DriverProfile,
        dra_registration_path: Path, dra_evidence: Evidence) -> None:
    """The restartCommand stops the running instance the way the kubelet stops a pod (a
    signal, then time to exit); the stopped instance's registration socket and DRA socket
    must be gone, or the plugin watcher keeps finding a socket nobody serves."""
    timeout = dra_profile.deployment.ready_timeout_seconds
    old_endpoint = Path(dra_connect().get_info().endpoint)  # fails at once if it never showed
    old_registration = find_registration_socket(dra_registration_path, dra_profile.driver,
                                                timeout)
    dra_restart()
    new_registration = find_registration_socket(dra_registration_path, dra_profile.driver,
                                                timeout)
    new_endpoint = Path(dra_connect().get_info().endpoint)
    old = {p for p in (old_registration, old_endpoint) if p is not None}
    if old & {new_registration, new_endpoint}:
        pytest.skip("the new instance serves on the old instance's socket paths, so whether "
                    "the old one removed them cannot be seen: name sockets per instance "
                    "(e.g. by pod UID), as a rolling update needs anyway")
    deadline = time.monotonic() + min(timeout, STOP_GRACE)
    while any(p.exists() for p in old) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = sorted(str(p) for p in old if p.exists())
    dra_evidence(f"stopped instance's sockets {sorted(map(str, old))}: "
                 f"{'left behind: ' + ', '.join(left) if left else 'removed'}; "
                 f"new instance at {new_registration} and {new_endpoint}")
    assert not left, f"the stopped instance left {', '.join(left)} behind"


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
