"""The health stream: complete, valid snapshots of the driver's own devices."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from dra_conformance import slices
from dra_conformance.claims.model import DeviceRef
from dra_conformance.kubelet.client import KubeletClient
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.socket
MESSAGE_LIMIT = 1024


@pytest.mark.requirement("DRA-FEAT-HEALTH-001")
def test_health_stream_sends_valid_snapshots(dra_kubelet: KubeletClient,
                                             dra_profile: DriverProfile,
                                             request: pytest.FixtureRequest,
                                             dra_evidence: Callable[[str], None]) -> None:
    versions = dra_kubelet.get_info().supported_versions
    served = [v.split(".")[0] for v in versions if v.endswith(".DRAResourceHealth")]
    assert served, f"healthReporting is claimed but GetInfo lists {list(versions)}"
    version = "v1" if "v1" in served else served[0]
    snapshot = next(iter(dra_kubelet.watch_health(version, timeout=30)))
    dra_evidence(f"{version} health: {len(snapshot)} devices, "
                 f"{sorted({d.health for d in snapshot})} states")
    assert snapshot, "the first health message lists no device"
    now = time.time()
    for device in snapshot:
        assert device.health in (0, 1, 2), f"{device.device}: health {device.health}"
        assert len(device.message) <= MESSAGE_LIMIT, f"{device.device}: message too long"
        assert 0 < device.last_updated <= now + 60, (
            f"{device.device}: last_updated_time {device.last_updated} is not a recent unix time")
    try:
        api_client = request.getfixturevalue("dra_api_client")
    except pytest.skip.Exception:
        return
    # every pool of the driver counts: a node's plugin may serve pools of several nodes
    published: list[DeviceRef] = slices.devices(slices.fetch(api_client, dra_profile.driver))
    unknown = {(d.pool, d.device) for d in snapshot} - {(d.pool, d.device) for d in published}
    assert not unknown, f"health reported for devices the driver does not publish: {unknown}"
