"""The suite can fail: a proxy breaks the reference driver on purpose, and the suite names
the requirement each breakage violates."""

from __future__ import annotations

import pytest
from dra_conformance.tools.proxy import DriverProxy, Faults

from tests.conformance.conftest import run_suite
from tests.conformance.harness import DRIVER, Harness

pytestmark = pytest.mark.socket

CAUGHT_BY = {
    "drop-cdi-ids": ("DRA-PREP-001", "no CDI device IDs"),
    "second-prepare-differs": ("DRA-PREP-002", "a repeated prepare answered differently"),
    "leak-cdi-spec": ("DRA-UNPREP-003", "CDI devices still defined after unprepare"),
    "ignore-config": ("DRA-CONF-001", "did not reach the devices"),
    "drop-error-entries": ("DRA-PREP-003", "the answer has no entry"),
}


def test_a_faultless_proxy_passes(pytester: pytest.Pytester, reference: Harness) -> None:
    proxy = DriverProxy(reference.registry, reference.root / "proxy", DRIVER).start()
    try:
        run = run_suite(pytester, reference, registration=proxy.registration_socket.parent)
    finally:
        proxy.stop()
    assert run.result.ret == 0, run.result.stdout.str()[-3000:]


@pytest.mark.parametrize("fault", sorted(CAUGHT_BY))
def test_each_breakage_is_caught_and_named(fault: str, pytester: pytest.Pytester,
                                           reference: Harness) -> None:
    proxy = DriverProxy(reference.registry, reference.root / "proxy", DRIVER, Faults(
        frozenset({fault}), (reference.cdi_dir,), ("MODE",))).start()
    try:
        run = run_suite(pytester, reference, registration=proxy.registration_socket.parent)
    finally:
        proxy.stop()
    requirement, words = CAUGHT_BY[fault]
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    assert run.verdicts()[requirement] == "failed", run.verdicts()
    assert any(words in line for line in run.evidence(requirement)), run.evidence(requirement)
    assert not run.report["certified"]
    assert f"[{requirement}]" in (run.report_dir / "e2e.log").read_text()
