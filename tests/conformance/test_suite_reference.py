"""The suite against the reference driver's plugin server: every socket test passes."""

from __future__ import annotations

import pytest
from dra_conformance.requirements import CATALOGUE, Tier

from tests.conformance.conftest import run_suite
from tests.conformance.harness import Harness

pytestmark = pytest.mark.socket


def test_reference_driver_passes_the_socket_tier(pytester: pytest.Pytester,
                                                 reference: Harness) -> None:
    run = run_suite(pytester, reference)
    outcomes = run.result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, run.result.stdout.str()[-4000:]
    assert outcomes.get("passed", 0) >= 20
    verdicts = run.verdicts()
    socket_musts = [r.id for r in CATALOGUE if r.tier is Tier.SOCKET and r.feature is None]
    not_passed = {rid: verdicts[rid] for rid in socket_musts if verdicts[rid] != "passed"}
    assert not not_passed, not_passed
