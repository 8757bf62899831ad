"""A state machine over prepare, unprepare and restart, checked against a model of the claim.

The model is tiny: a claim is prepared or not, and a prepared claim has one answer. Whatever
order hypothesis picks, a repeated prepare answers the same, unprepare always succeeds, a
restart forgets nothing, and (where the CDI directories are visible) exactly the prepared
claims' CDI devices resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from dra_conformance.cdi import CdiRegistry
from dra_conformance.claims.model import ClaimRef, DeviceRef
from dra_conformance.claims.store import ClaimStore
from dra_conformance.fixtures import Connect
from dra_conformance.kubelet.client import KubeletClient
from dra_conformance.suite import kit
from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket
# A restart costs seconds (a new process registering again), every other step milliseconds;
# unbounded, restarts took most of a certification run. Hypothesis still places these two
# anywhere in a sequence, and the examples of a run still try many different places.
RESTARTS_PER_RUN = 2


@dataclass
class Context:
    connect: Connect
    claims: ClaimStore
    devices: tuple[DeviceRef, ...]
    driver: str
    restart: Callable[[], None] | None
    cdi: CdiRegistry | None
    created: list[ClaimRef] = field(default_factory=list)


class Lifecycle(RuleBasedStateMachine):
    context: Context  # set on the class by the test, one machine class per test run
    claims = Bundle("claims")

    def __init__(self) -> None:
        super().__init__()
        self.kubelet: KubeletClient = self.context.connect()
        self.answers: dict[str, Any] = {}  # uid -> summary of the prepared answer
        self.restarts = 0

    @rule(target=claims, index=st.integers(min_value=0, max_value=7))
    def create(self, index: int) -> ClaimRef:
        devices = self.context.devices
        ref = self.context.claims.create(
            kit.allocated(self.context.driver, [devices[index % len(devices)]], prefix="sm"))
        self.context.created.append(ref)
        return ref

    @rule(ref=claims)
    def prepare(self, ref: ClaimRef) -> None:
        result = self.kubelet.prepare([ref])[ref.uid]
        assert result.error == "", f"prepare of {ref} failed: {result.error}"
        answer = kit.summary(result)
        if ref.uid in self.answers:
            assert answer == self.answers[ref.uid], f"claim {ref} answered differently"
        self.answers[ref.uid] = answer

    @rule(ref=claims)
    def unprepare(self, ref: ClaimRef) -> None:
        assert self.kubelet.unprepare([ref]) == {ref.uid: ""}
        self.answers.pop(ref.uid, None)

    @rule()
    def unprepare_unknown(self) -> None:
        ghost = ClaimRef("default", kit.name("ghost"), "0000feed-0000-4000-8000-000000000000")
        assert self.kubelet.unprepare([ghost]) == {ghost.uid: ""}

    @precondition(lambda self: self.context.restart is not None
                  and self.restarts < RESTARTS_PER_RUN)
    @rule()
    def restart(self) -> None:
        assert self.context.restart is not None
        self.context.restart()
        self.restarts += 1
        self.kubelet = self.context.connect()

    @invariant()
    def cdi_matches_prepared_claims(self) -> None:
        cdi = self.context.cdi
        if cdi is None:
            return
        cdi.refresh()
        for answer in self.answers.values():
            for *_, ids in answer:
                assert all(cdi.resolve(i) is not None for i in ids), f"{ids} do not resolve"

    def teardown(self) -> None:
        if self.context.created:
            self.kubelet.unprepare(self.context.created)


def _optional(request: pytest.FixtureRequest, name: str) -> Any:
    try:
        return request.getfixturevalue(name)
    except pytest.skip.Exception:
        return None


@pytest.mark.requirement("DRA-LIFE-001")
def test_lifecycle_state_machine(sock: SocketTier, dra_connect: Connect,
                                 request: pytest.FixtureRequest) -> None:
    restart = _optional(request, "dra_restart")
    cdi = _optional(request, "dra_cdi")
    machine = type("DriverLifecycle", (Lifecycle,), {"context": Context(
        dra_connect, sock.claims, sock.devices, sock.driver, restart, cdi)})
    sock.evidence(f"restarts {'included' if restart else 'not exercised (no restartCommand)'}; "
                 f"CDI {'checked' if cdi else 'not visible'}")
    run_state_machine_as_test(machine)
