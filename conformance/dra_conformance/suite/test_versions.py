"""The v1beta1 DRAPlugin service, for kubelets older than 1.34, answers like v1."""

from __future__ import annotations

import pytest

from dra_conformance.suite import kit
from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket


@pytest.mark.requirement("DRA-GRPC-002")
def test_v1beta1_answers_like_v1(sock: SocketTier) -> None:
    assert "v1beta1.DRAPlugin" in sock.kubelet.get_info().supported_versions, (
        "the driver claims v1beta1 but GetInfo does not list v1beta1.DRAPlugin")
    ref = sock.claim()
    beta = sock.prepare(ref, "v1beta1")
    v1 = sock.prepare(ref, "v1")
    sock.evidence(f"v1beta1: {kit.describe(beta)}; v1: {kit.describe(v1)}")
    assert beta.error == "", f"v1beta1 prepare failed: {beta.error}"
    assert kit.summary(beta) == kit.summary(v1), "v1beta1 and v1 answer differently"
    assert sock.kubelet.unprepare([ref], "v1beta1") == {ref.uid: ""}
