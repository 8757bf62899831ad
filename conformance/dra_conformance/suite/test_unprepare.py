"""NodeUnprepareResources: idempotent, tolerant of unknown and deleted claims, and clean."""

from __future__ import annotations

import pytest

from dra_conformance.cdi import CdiRegistry
from dra_conformance.claims.model import ClaimRef
from dra_conformance.suite import kit
from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket


def prepared_ids(sock: SocketTier, ref: ClaimRef) -> list[str]:
    result = sock.prepare(ref)
    assert result.error == "", f"prepare of {ref} failed: {result.error}"
    return [i for d in result.devices for i in d.cdi_ids]


@pytest.mark.requirement("DRA-UNPREP-001")
def test_unprepare_is_idempotent(sock: SocketTier) -> None:
    ref = sock.claim()
    prepared_ids(sock, ref)
    first = sock.kubelet.unprepare([ref])
    second = sock.kubelet.unprepare([ref])
    sock.evidence(f"unprepare twice: {first.get(ref.uid)!r}, {second.get(ref.uid)!r}")
    assert first == {ref.uid: ""}, f"first unprepare answered {first}"
    assert second == {ref.uid: ""}, f"repeated unprepare answered {second}"


@pytest.mark.requirement("DRA-UNPREP-002")
def test_unprepare_of_unknown_claim_succeeds(sock: SocketTier) -> None:
    ref = ClaimRef("default", kit.name("never"), "00000000-0000-4000-8000-00000000abcd")
    answer = sock.kubelet.unprepare([ref])
    sock.evidence(f"unprepare of a never prepared claim: {answer}")
    assert answer == {ref.uid: ""}


@pytest.mark.requirement("DRA-UNPREP-003")
def test_unprepare_removes_cdi_devices(sock: SocketTier, dra_cdi: CdiRegistry) -> None:
    """A device defined before the claim was prepared (a node-wide one many claims name)
    is not the claim's: only the others must be gone."""
    before = set(dra_cdi.refresh().devices)
    ref = sock.claim()
    answered = prepared_ids(sock, ref)
    ids = [i for i in answered if i not in before]
    assert sock.kubelet.unprepare([ref]) == {ref.uid: ""}
    left = [i for i in ids if dra_cdi.refresh().resolve(i) is not None]
    sock.evidence(f"CDI IDs {ids} (defined before the claim, so not its own: "
                  f"{sorted(set(answered) - set(ids))}); still resolvable after unprepare: "
                  f"{left}")
    assert not left, f"CDI devices still defined after unprepare: {left} in " + ", ".join(
        sorted({str(dra_cdi.files[i]) for i in left}))


@pytest.mark.requirement("DRA-UNPREP-004")
def test_unprepare_after_claim_deleted(sock: SocketTier) -> None:
    ref = sock.claim()
    prepared_ids(sock, ref)
    sock.claims.delete(ref)
    answer = sock.kubelet.unprepare([ref])
    sock.evidence(f"claim deleted before unprepare; unprepare answered {answer}")
    assert answer == {ref.uid: ""}, f"unprepare of a deleted claim failed: {answer}"
