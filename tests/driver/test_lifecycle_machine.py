"""Lifecycle properties under random sequences of kubelet calls, failures and restarts.

A real plugin on real sockets; hypothesis picks the order. The model is what the kubelet
was told: for each prepared claim, the answer it got.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from dra_reference.checkpoint import Checkpoint, CheckpointEntry, ClaimStatus
from dra_reference.plugin.model import AllocatedDevice, ClaimRef
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from .conftest import NODE, FakePreparer, Plugin, devices_of

pytestmark = pytest.mark.socket

CLAIMS = {f"{n}a1b2c3-uid-{n}": [f"gpu-{n}", f"gpu-{n + 4}"][: n % 2 + 1] for n in range(4)}
uids = st.sampled_from(sorted(CLAIMS))
versions = st.sampled_from(["v1", "v1beta1"])


class PluginLifecycle(RuleBasedStateMachine):
    changes = True  # the Preparer's answer to changes_devices

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="dra-sm-", dir="/tmp"))
        self.plugin = Plugin(self.root, preparer=FakePreparer(changes=self.changes)).start()
        for uid, devices in CLAIMS.items():
            self.plugin.add_claim(f"claim-{uid[-1]}", uid, devices=devices)
        self.answers: dict[str, list[tuple[Any, ...]]] = {}  # what the kubelet was told

    def ref(self, uid: str) -> tuple[str, str, str]:
        return "default", f"claim-{uid[-1]}", uid

    @rule(uid=uids, version=versions)
    def prepare(self, uid: str, version: str) -> None:
        calls = len(self.plugin.preparer.prepared)
        devices = devices_of(self.plugin.kubelet.prepare(self.ref(uid), version=version), uid)
        answer = [device[:4] for device in devices]  # v1beta1 has no share_id
        if uid in self.answers:
            assert answer == self.answers[uid], "prepare twice must give the same answer"
            assert len(self.plugin.preparer.prepared) == calls, "no second preparation"
        self.answers[uid] = answer

    @rule(uid=uids, version=versions)
    def unprepare(self, uid: str, version: str) -> None:
        response = self.plugin.kubelet.unprepare(self.ref(uid), version=version)
        assert response.claims[uid].error == ""
        self.answers.pop(uid, None)

    @rule(batch=st.lists(uids, min_size=2, max_size=4, unique=True), version=versions)
    def prepare_pod(self, batch: list[str], version: str) -> None:
        """All claims of a pod in one call, some of them perhaps prepared already."""
        calls = len(self.plugin.preparer.prepared)
        answered = set(self.answers)
        response = self.plugin.kubelet.prepare(*map(self.ref, batch), version=version)
        for uid in batch:
            answer = [device[:4] for device in devices_of(response, uid)]
            assert self.answers.setdefault(uid, answer) == answer, "same answer every time"
        new = [request.claim.uid for request in self.plugin.preparer.prepared[calls:]]
        assert sorted(new) == sorted(set(new)), "each claim of the call prepared at most once"
        assert not answered & set(new), "a prepared claim is not prepared again"

    @rule(batch=st.lists(uids, min_size=2, max_size=4, unique=True), version=versions)
    def unprepare_pod(self, batch: list[str], version: str) -> None:
        response = self.plugin.kubelet.unprepare(*map(self.ref, batch), version=version)
        for uid in batch:
            assert response.claims[uid].error == ""
            self.answers.pop(uid, None)

    @rule(n=st.integers(0, 1000))
    def unprepare_unknown(self, n: int) -> None:
        uid = f"unknown-{n}"
        assert self.plugin.kubelet.unprepare(("default", "x", uid)).claims[uid].error == ""

    @precondition(lambda self: set(CLAIMS) - set(self.answers))
    @rule(data=st.data())
    def failing_prepare(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(sorted(set(CLAIMS) - set(self.answers))))
        self.plugin.preparer.failing.add(CLAIMS[uid][0])
        try:
            error = self.plugin.kubelet.prepare(self.ref(uid)).claims[uid].error
        finally:
            self.plugin.preparer.failing.clear()
        assert "on fire" in error

    @rule()
    def restart(self) -> None:
        self.plugin.restart()

    @precondition(lambda self: set(CLAIMS) - set(self.answers))
    @rule(data=st.data(), status=st.sampled_from([ClaimStatus.PREPARING,
                                                  ClaimStatus.UNPREPARING]))
    def crash_mid_step(self, data: st.DataObject, status: ClaimStatus) -> None:
        """Die with a claim half prepared or half unprepared; the next start settles it."""
        uid = data.draw(st.sampled_from(sorted(set(CLAIMS) - set(self.answers))))
        self.plugin.stop()
        Checkpoint.load(self.plugin.checkpoint_path).put(CheckpointEntry(
            ClaimRef(*self.ref(uid)), status,
            tuple(AllocatedDevice("gpu", NODE, device) for device in CLAIMS[uid])))
        self.plugin.generation += 1
        self.plugin.start()

    @precondition(lambda self: set(CLAIMS) - set(self.answers))
    @rule(data=st.data())
    def crash_after_the_spec(self, data: st.DataObject) -> None:
        """Die after writing a claim's spec but before recording it as prepared."""
        uid = data.draw(st.sampled_from(sorted(set(CLAIMS) - set(self.answers))))
        self.plugin.stop()
        self.plugin.cdi_dir.mkdir(exist_ok=True)
        (self.plugin.cdi_dir / f"fakehw.dev-gpu_{uid}.json").write_text('{"cdiVersion": "0.3')
        self.plugin.generation += 1
        self.plugin.start()

    @precondition(lambda self: self.answers)
    @rule(data=st.data(), keep=st.integers(0, 200))
    def power_cut_tears_a_spec(self, data: st.DataObject, keep: int) -> None:
        """Specs are not fsynced: after a power cut one may hold any prefix of its text."""
        uid = data.draw(st.sampled_from(sorted(self.answers)))
        self.plugin.stop()
        spec = self.plugin.cdi_dir / f"fakehw.dev-gpu_{uid}.json"
        spec.write_text(spec.read_text()[:keep])
        self.plugin.generation += 1
        self.plugin.start()

    @invariant()
    def specs_hold_the_devices_the_kubelet_was_given(self) -> None:
        for uid, answer in self.answers.items():
            spec = json.loads((self.plugin.cdi_dir / f"fakehw.dev-gpu_{uid}.json").read_text())
            names = {f"{spec['kind']}={device['name']}" for device in spec["devices"]}
            assert names == {cdi_id for device in answer for cdi_id in device[3]}

    @invariant()
    def no_cdi_file_without_a_prepared_claim(self) -> None:
        expected = sorted(f"fakehw.dev-gpu_{uid}.json" for uid in self.answers)
        assert self.plugin.cdi_files() == expected

    @invariant()
    def checkpoint_holds_exactly_the_prepared_claims(self) -> None:
        path = self.plugin.checkpoint_path
        claims = json.loads(path.read_text())["claims"] if path.exists() else {}
        statuses = {uid: entry["status"] for uid, entry in claims.items()}
        assert statuses == dict.fromkeys(self.answers, "prepared")

    def teardown(self) -> None:
        try:
            self.plugin.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class ChangeFreeLifecycle(PluginLifecycle):
    """The same properties for a Preparer that changes nothing (no "preparing" records)."""

    changes = False


for machine in (PluginLifecycle, ChangeFreeLifecycle):
    machine.TestCase.settings = settings(
        max_examples=25, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow])
TestPluginLifecycle = PluginLifecycle.TestCase
TestChangeFreeLifecycle = ChangeFreeLifecycle.TestCase
