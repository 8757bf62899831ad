"""Consumable capacity: the shareID of an allocation comes back in the v1 prepare answer.

A shareID belongs to a device that allows multiple allocations, each consuming part of its
capacity; the scheduler only ever writes one with such a device. So the claim gets one of the
node's shareable devices, consuming what the device's request policy gives by default.
"""

from __future__ import annotations

from typing import Any

import pytest

from dra_conformance import slices
from dra_conformance.claims.model import AllocatedDevice, ClaimSpec, DeviceRef
from dra_conformance.suite import kit
from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket
SHARE_ID = "a1b2c3d4-0000-4000-8000-5ba5eba11000"


def shareable(published: list[dict[str, Any]],
              node: str | None) -> tuple[DeviceRef, dict[str, str]] | None:
    """A device of ``node`` that allows multiple allocations, and its default consumption."""
    for item in published:
        spec = item.get("spec", {})
        if node is not None and spec.get("nodeName") != node:
            continue
        for device in spec.get("devices") or ():
            if not device.get("allowMultipleAllocations"):
                continue
            consumed = {name: str((value.get("requestPolicy") or {}).get("default")
                                  or value["value"])
                        for name, value in (device.get("capacity") or {}).items()}
            return DeviceRef(spec["pool"]["name"], device["name"]), consumed
    return None


@pytest.fixture
def shared_device(request: pytest.FixtureRequest, sock: SocketTier,
                  dra_node: str | None) -> tuple[DeviceRef, dict[str, str] | None]:
    try:
        api_client = request.getfixturevalue("dra_api_client")
    except pytest.skip.Exception:  # devices come from a harness: trust its first one
        return sock.devices[0], None
    found = shareable(slices.fetch(api_client, sock.driver), dra_node)
    if found is None:
        pytest.fail(f"consumableCapacity is claimed, but no device of node {dra_node} in "
                    f"{sock.driver}'s ResourceSlices sets allowMultipleAllocations")
    return found


@pytest.mark.requirement("DRA-FEAT-CAP-001")
def test_share_id_round_trip(sock: SocketTier,
                             shared_device: tuple[DeviceRef, dict[str, str] | None]) -> None:
    device, consumed = shared_device
    ref = sock.claims.create(ClaimSpec(kit.name("share"), (AllocatedDevice(
        kit.REQUEST, sock.driver, device.pool, device.device, share_id=SHARE_ID,
        consumed_capacity=consumed),)))
    result = sock.prepare(ref)
    sock.evidence(f"{device.pool}/{device.device} consuming {consumed}: shareIDs answered "
                  f"{[d.share_id for d in result.devices]}")
    assert result.error == "", f"prepare failed: {result.error}"
    assert [d.share_id for d in result.devices] == [SHARE_ID]
