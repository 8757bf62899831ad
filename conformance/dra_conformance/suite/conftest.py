"""Fixtures local to the suite's tests: one object bundling what a socket test needs, and the
fakehw tree under the driver for the tests that use ground truth."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from dra_conformance.book import Book
from dra_conformance.claims.model import ClaimRef, DeviceRef, OpaqueConfig
from dra_conformance.claims.store import ClaimStore
from dra_conformance.kubelet.client import KubeletClient, PrepareResult
from dra_conformance.profiles.model import DriverProfile
from dra_conformance.suite import kit


@dataclass
class SocketTier:
    """The kubelet's client, the claim store, the devices; prepared claims are undone."""

    kubelet: KubeletClient
    claims: ClaimStore
    devices: tuple[DeviceRef, ...]
    profile: DriverProfile
    evidence: Callable[[str], None]
    prepared: list[ClaimRef] = field(default_factory=list)

    @property
    def driver(self) -> str:
        return self.profile.driver

    def claim(self, devices: Sequence[DeviceRef] | None = None, *, prefix: str = "c",
              configs: Sequence[OpaqueConfig] = (), share_id: str | None = None) -> ClaimRef:
        """A new claim allocated ``devices`` (default: the first device)."""
        return self.claims.create(kit.allocated(
            self.driver, self.devices[:1] if devices is None else devices, prefix=prefix,
            configs=configs, share_id=share_id))

    def prepare(self, ref: ClaimRef, version: str = "v1") -> PrepareResult:
        """Prepare one claim (undone at teardown); fails if the claim has no answer."""
        self.prepared.append(ref)
        answer = self.kubelet.prepare([ref], version)
        assert ref.uid in answer, f"the answer has no entry for claim {ref}: {sorted(answer)}"
        return answer[ref.uid]

    def refusal(self, ref: ClaimRef) -> str:
        """Prepare a claim that must not be prepared; return how it was refused: an error
        entry, no entry, or a failed call (the kubelet API allows each: the kubelet retries
        every claim not prepared, and devices of an error entry are ignored). Fails if the
        claim was prepared."""
        self.prepared.append(ref)
        try:
            answer = self.kubelet.prepare([ref])
        except grpc.RpcError as exc:
            return f"the call failed: {exc.code().name}: {exc.details()}"
        result = answer.get(ref.uid)
        if result is None:
            return "the answer has no entry for it (the kubelet counts that as an error)"
        assert result.error, f"claim {ref} was prepared: {kit.describe(result)}"
        return f"its entry: error {result.error!r}"


@pytest.fixture
def sock(dra_kubelet: KubeletClient, dra_claims: ClaimStore,
         dra_devices: tuple[DeviceRef, ...], dra_profile: DriverProfile,
         dra_evidence: Callable[[str], None]) -> Iterator[SocketTier]:
    tier = SocketTier(dra_kubelet, dra_claims, dra_devices, dra_profile, dra_evidence)
    yield tier
    if tier.prepared:
        tier.kubelet.unprepare(tier.prepared)  # restart tests swap in a new client


@pytest.fixture(scope="session")
def fakehw_root(dra_book: Book, dra_node: str | None) -> Path:
    """The fakehw tree the driver of ``dra_node`` runs on (ground truth, fault injection)."""
    root = dra_book.settings.fakehw_root
    if root is None or dra_node is None:
        pytest.skip("needs the fakehw tree the driver runs on and its node: pass "
                    "--dra-fakehw-root and --dra-node")
    return root
