"""NodePrepareResources as the kubelet calls it, with claims allocated by the suite."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from dra_conformance.cdi import CdiRegistry, is_valid_id
from dra_conformance.claims.model import AllocatedDevice, ClaimRef, ClaimSpec
from dra_conformance.suite import kit
from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket
OTHER_DRIVER = "other-driver.conformance.fakehw.dev"


def devices_of(result: kit.PrepareResult) -> list[tuple[str, str]]:
    return [(d.pool, d.device) for d in result.devices]


@pytest.mark.requirement("DRA-PREP-001", "DRA-GRPC-001")
def test_prepare_answers_allocated_devices(sock: SocketTier) -> None:
    device = sock.devices[0]
    ref = sock.claim([device])
    result = sock.prepare(ref)
    sock.evidence(f"claim {ref}: {kit.describe(result)}")
    assert result.error == "", f"prepare of claim {ref} failed: {result.error}"
    assert devices_of(result) == [(device.pool, device.device)], (
        f"prepared {kit.describe(result)}, allocated {device.pool}/{device.device}")
    assert all(d.request_names == (kit.REQUEST,) for d in result.devices), (
        f"request names {[d.request_names for d in result.devices]}, want {kit.REQUEST!r}")
    ids = [cdi_id for d in result.devices for cdi_id in d.cdi_ids]
    assert ids, "no CDI device IDs: the runtime would inject nothing"
    assert all(is_valid_id(i) for i in ids), f"malformed CDI device IDs: {ids}"


@pytest.mark.requirement("DRA-PREP-002")
def test_prepare_twice_answers_the_same(sock: SocketTier) -> None:
    ref = sock.claim()
    first = sock.prepare(ref)
    second = sock.prepare(ref)
    sock.evidence(f"first: {kit.describe(first)}; second: {kit.describe(second)}")
    assert first.error == "", f"prepare failed: {first.error}"
    assert second.error == "", f"repeated prepare failed: {second.error}"
    assert kit.summary(second) == kit.summary(first), "a repeated prepare answered differently"


UNUSABLE = ["missing", "unallocated", "no-uid", "bad-uid"]


def _unusable(case: str, sock: SocketTier) -> ClaimRef:
    if case == "unallocated":
        return sock.claims.create(ClaimSpec(kit.name("unalloc"), None))
    uid = {"missing": "0f0e0d0c-0000-4000-8000-00000000beef", "no-uid": "",
           "bad-uid": "../../etc/passwd"}[case]
    return ClaimRef("default", kit.name("ghost"), uid)


@pytest.mark.requirement("DRA-PREP-012")
@pytest.mark.parametrize("case", UNUSABLE)
def test_unusable_claim_is_never_prepared(case: str, sock: SocketTier) -> None:
    how = sock.refusal(_unusable(case, sock))
    sock.evidence(f"{case} claim refused: {how}")


@pytest.mark.requirement("DRA-PREP-003")
@pytest.mark.parametrize("case", UNUSABLE)
def test_unusable_claim_gets_its_own_error(case: str, sock: SocketTier) -> None:
    ref = _unusable(case, sock)
    result = sock.prepare(ref)
    sock.evidence(f"{case} claim answered {kit.describe(result)}")
    assert result.error, f"a {case} claim was prepared: {kit.describe(result)}"
    assert not result.devices, "an error entry also carries devices"


@pytest.mark.requirement("DRA-PREP-004")
def test_replaced_claim_gets_a_fresh_preparation(sock: SocketTier) -> None:
    first_device, second_device = sock.devices[0], sock.devices[-1]
    old = sock.claim([first_device])
    assert sock.prepare(old).error == ""
    spec = kit.allocated(sock.driver, [second_device])
    new = sock.claims.replace(old, ClaimSpec(old.name, spec.results))
    result = sock.prepare(new)
    sock.evidence(f"old {old.uid} -> {first_device.device}; new {new.uid}: "
                  f"{kit.describe(result)}")
    assert result.error == "", f"the re-created claim was refused: {result.error}"
    assert devices_of(result) == [(second_device.pool, second_device.device)], (
        "the re-created claim was served with the old claim's preparation")


@pytest.mark.requirement("DRA-PREP-004")
def test_stale_uid_is_refused(sock: SocketTier) -> None:
    current = sock.claim()
    stale = ClaimRef(current.namespace, current.name, "5a1e0000-0000-4000-8000-00000000dead")
    how = sock.refusal(stale)
    sock.evidence(f"claim {current.name} has UID {current.uid}; asked for {stale.uid}: "
                  f"refused, {how}")


@pytest.mark.requirement("DRA-PREP-005")
def test_bad_claim_does_not_fail_the_others(sock: SocketTier) -> None:
    good = sock.claim()
    bad = ClaimRef(good.namespace, kit.name("ghost"), "0badc1a1-0000-4000-8000-000000000000")
    sock.prepared.extend([good, bad])
    answer = sock.kubelet.prepare([bad, good])
    sock.evidence(", ".join(f"{which}: {kit.describe(answer[r.uid])}" for which, r in
                            (("good", good), ("bad", bad)) if r.uid in answer))
    assert set(answer) == {good.uid, bad.uid}, f"answered {sorted(answer)}"
    assert answer[good.uid].error == "", f"the good claim failed: {answer[good.uid].error}"
    assert answer[good.uid].devices, "the good claim got no devices"
    assert answer[bad.uid].error, "the bad claim got no error"


@pytest.mark.requirement("DRA-PREP-006")
def test_other_drivers_results_are_left_alone(sock: SocketTier) -> None:
    mine = sock.devices[0]
    ref = sock.claims.create(ClaimSpec(kit.name("mixed"), (
        AllocatedDevice("mine", sock.driver, mine.pool, mine.device),
        AllocatedDevice("theirs", OTHER_DRIVER, "elsewhere", "not-yours-0"))))
    result = sock.prepare(ref)
    sock.evidence(f"claim with results of two drivers: {kit.describe(result)}")
    assert result.error == "", f"prepare failed: {result.error}"
    assert [(d.request_names, d.device) for d in result.devices] == [(("mine",), mine.device)]


@pytest.mark.requirement("DRA-PREP-007")
def test_subrequest_answered_under_its_request(sock: SocketTier) -> None:
    device = sock.devices[0]
    ref = sock.claims.create(ClaimSpec(kit.name("sub"), (
        AllocatedDevice("main/fallback", sock.driver, device.pool, device.device),)))
    result = sock.prepare(ref)
    sock.evidence(f"result for main/fallback: {[d.request_names for d in result.devices]}")
    assert result.error == "", f"prepare failed: {result.error}"
    assert [d.request_names for d in result.devices] == [("main",)]


@pytest.mark.requirement("DRA-PREP-011")
def test_cdi_ids_resolve(sock: SocketTier, dra_cdi: CdiRegistry) -> None:
    result = sock.prepare(sock.claim())
    ids = [i for d in result.devices for i in d.cdi_ids]
    dra_cdi.refresh()
    unresolved = [i for i in ids if dra_cdi.resolve(i) is None]
    sock.evidence(f"{len(ids)} CDI IDs in "
                  f"{sorted({str(dra_cdi.files[i]) for i in ids if i in dra_cdi.files})}")
    assert ids, "no CDI device IDs"
    assert not unresolved, f"CDI IDs that no spec defines: {unresolved}"


@pytest.mark.requirement("DRA-GRPC-003")
def test_one_connection_serves_concurrent_calls(sock: SocketTier) -> None:
    refs = [sock.claim([device]) for device in sock.devices[:4]]
    sock.prepared.extend(refs)
    with ThreadPoolExecutor(len(refs)) as pool:
        answers = list(pool.map(lambda ref: sock.kubelet.prepare([ref]), refs))
    errors = [a[r.uid].error for a, r in zip(answers, refs, strict=True) if a[r.uid].error]
    sock.evidence(f"{len(refs)} concurrent prepares on one channel, {len(errors)} errors")
    assert not errors, f"concurrent prepares failed: {errors}"


@pytest.mark.requirement("DRA-PREP-009")
def test_failed_prepare_is_rolled_back(sock: SocketTier, dra_cdi: CdiRegistry) -> None:
    """A claim whose second device does not exist cannot be prepared; whatever was done for
    its first device must be undone: no CDI device left, and the device usable again."""
    real = sock.devices[0]
    before = set(dra_cdi.refresh().devices)
    ref = sock.claims.create(ClaimSpec(kit.name("half"), (
        AllocatedDevice(kit.REQUEST, sock.driver, real.pool, real.device),
        AllocatedDevice(kit.REQUEST, sock.driver, real.pool, "conformance-no-such-device"))))
    failed = sock.prepare(ref)
    left = sorted(set(dra_cdi.refresh().devices) - before)
    again = sock.prepare(sock.claim([real]))
    sock.evidence(f"claim of {real.device} and a missing device: {kit.describe(failed)}; "
                  f"CDI devices left: {left}; {real.device} again: {kit.describe(again)}")
    assert failed.error, f"a claim with a device the driver lacks was prepared: {failed}"
    assert not left, f"the failed prepare left CDI devices: {left}"
    assert again.error == "", f"{real.device} cannot be prepared after the rollback: {again}"
