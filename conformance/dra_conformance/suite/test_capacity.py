"""Consumable capacity: the shareID of an allocation comes back in the v1 prepare answer."""

from __future__ import annotations

import pytest

from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket
SHARE_ID = "a1b2c3d4-0000-4000-8000-5ba5eba11000"


@pytest.mark.requirement("DRA-FEAT-CAP-001")
def test_share_id_round_trip(sock: SocketTier) -> None:
    result = sock.prepare(sock.claim(share_id=SHARE_ID))
    sock.evidence(f"shareIDs answered: {[d.share_id for d in result.devices]}")
    assert result.error == "", f"prepare failed: {result.error}"
    assert [d.share_id for d in result.devices] == [SHARE_ID]
