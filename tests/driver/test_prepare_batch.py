"""Several claims in one NodePrepareResources / NodeUnprepareResources call, as the kubelet
sends all claims of a pod: read concurrently, recorded in one durable write per step, and
each claim answered on its own."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from dra_reference import cdi
from dra_reference.plugin.memory import MemoryClaimSource

from .conftest import FakePreparer, Plugin, devices_of

pytestmark = pytest.mark.socket
CLAIMS = 6


def uid(n: int) -> str:
    return f"5e0c9a1d-4b7f-4d2e-8a61-3c9f0b2e7d{n:02d}"


def add_claims(plugin: Plugin) -> list[tuple[str, str, str]]:
    return [plugin.add_claim(f"claim-{n}", uid(n), devices=[f"gpu-{n}"]) for n in range(CLAIMS)]


class CheckpointWrites:
    """Counts the atomic writes of one file made through ``cdi.write_atomically``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
        self.count = 0
        write = cdi.write_atomically

        def counted(target: Path, text: str, **kwargs: Any) -> None:
            if target == path:
                self.count += 1
            write(target, text, **kwargs)

        monkeypatch.setattr("dra_reference.checkpoint.write_atomically", counted)


@pytest.mark.parametrize("changes", [False, True], ids=["devices-untouched", "devices-changed"])
def test_a_batch_costs_one_durable_write_per_step(short_dir: Path, changes: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = Plugin(short_dir, preparer=FakePreparer(changes=changes)).start()
    try:
        claims = add_claims(plugin)
        writes = CheckpointWrites(monkeypatch, plugin.checkpoint_path)
        response = plugin.kubelet.prepare(*claims)
        assert all(devices_of(response, ref[2]) for ref in claims)
        # "preparing" (only when the Preparer changes devices), then "prepared"
        assert writes.count == (2 if changes else 1)
        recorded = json.loads(plugin.checkpoint_path.read_text())["claims"]
        assert {entry["status"] for entry in recorded.values()} == {"prepared"}
        assert sorted(recorded) == sorted(ref[2] for ref in claims)

        writes.count = 0
        response = plugin.kubelet.unprepare(*claims)
        assert all(response.claims[ref[2]].error == "" for ref in claims)
        assert writes.count == (2 if changes else 1)  # "unpreparing", then removed
        assert json.loads(plugin.checkpoint_path.read_text())["claims"] == {}
        assert plugin.cdi_files() == []
        assert len(plugin.preparer.unprepared) == CLAIMS
    finally:
        plugin.stop()


class GatheringClaims(MemoryClaimSource):
    """Answers no read until ``parties`` reads are waiting at once: serial reads time out."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.gate = threading.Barrier(parties, timeout=10)

    def get(self, namespace: str, name: str) -> Any:
        self.gate.wait()
        return super().get(namespace, name)


def test_the_claims_of_a_call_are_read_concurrently(short_dir: Path) -> None:
    plugin = Plugin(short_dir, claims=GatheringClaims(CLAIMS)).start()
    try:
        claims = add_claims(plugin)
        response = plugin.kubelet.prepare(*claims)
        assert [devices_of(response, ref[2])[0][2] for ref in claims] == [
            f"gpu-{n}" for n in range(CLAIMS)]
    finally:
        plugin.stop()


def test_a_failing_claim_fails_alone(plugin: Plugin) -> None:
    claims = add_claims(plugin)
    missing = ("default", "gone", uid(90))
    plugin.preparer.failing.add("gpu-2")
    response = plugin.kubelet.prepare(*claims, missing)
    assert "on fire" in response.claims[uid(2)].error
    assert "does not exist" in response.claims[uid(90)].error
    good = [ref for ref in claims if ref[2] != uid(2)]
    assert all(devices_of(response, ref[2]) for ref in good)
    recorded = json.loads(plugin.checkpoint_path.read_text())["claims"]
    assert sorted(recorded) == sorted(ref[2] for ref in good)
    assert [entry.claim.uid for entry in plugin.preparer.rolled_back] == [uid(2)]
    assert len(plugin.cdi_files()) == len(good)

    plugin.preparer.failing.clear()  # the kubelet's retry of the whole pod
    again = plugin.kubelet.prepare(*claims)
    assert all(devices_of(again, ref[2]) for ref in claims)
    assert len(plugin.preparer.prepared) == CLAIMS + 1  # the five good ones not again


def test_a_claim_twice_in_one_call_is_prepared_once(plugin: Plugin) -> None:
    [claim, *_] = add_claims(plugin)
    response = plugin.kubelet.prepare(claim, claim)
    assert devices_of(response, claim[2])
    assert len(plugin.preparer.prepared) == 1
