"""The suite can fail: a proxy breaks the reference driver on purpose (21 mutants, one bug
each), and the suite names the requirement each breakage violates."""

from __future__ import annotations

import socket

import pytest
from dra_conformance import requirements
from dra_conformance.requirements import Level
from dra_conformance.tools.mutants import MUTANTS
from dra_conformance.tools.proxy import DriverProxy, Faults

from tests.conformance import harness_plugin
from tests.conformance.conftest import run_suite
from tests.conformance.harness import DRIVER, Harness

pytestmark = pytest.mark.socket

FEATURES = {"partial-health": ("v1beta1", "consumableCapacity", "healthReporting")}


def test_a_faultless_proxy_passes(pytester: pytest.Pytester, reference: Harness) -> None:
    proxy = DriverProxy(reference.registry, reference.root / "proxy", DRIVER).start()
    try:
        run = run_suite(pytester, reference, registration=proxy.registration_socket.parent)
    finally:
        proxy.stop()
    assert run.result.ret == 0, run.result.stdout.str()[-3000:]


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_each_mutant_is_killed_by_its_requirement(mutant: str, pytester: pytest.Pytester,
                                                  reference: Harness) -> None:
    """The mutation score: every mutant of the reference driver (tools/mutants.py) fails the
    requirement it names; only a mutant of a MUST fails a MUST."""
    proxy = DriverProxy(reference.registry, reference.root / "proxy", DRIVER, Faults(
        frozenset({mutant}), (reference.cdi_dir,), ("MODE",))).start()
    profile = reference.profile_yaml(FEATURES[mutant]) if mutant in FEATURES else None
    try:
        run = run_suite(pytester, reference, profile=profile,
                        registration=proxy.registration_socket.parent)
    finally:
        proxy.stop()
    requirement = MUTANTS[mutant].killed_by
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    assert run.verdicts()[requirement] == "failed", run.verdicts()
    assert run.evidence(requirement), "a failed requirement says why"
    # Only a broken MUST withholds the certificate: e.g. dropping error entries breaks a
    # SHOULD (the kubelet counts a claim without an entry as not prepared, and retries it).
    failed_musts = {rid for rid, verdict in run.verdicts().items()
                    if verdict == "failed" and requirements.get(rid).level is Level.MUST}
    if requirements.get(requirement).level is Level.MUST:
        assert requirement in failed_musts
    else:
        assert failed_musts == set(), run.verdicts()
    assert not run.report["certified"]
    assert f"[{requirement}]" in (run.report_dir / "e2e.log").read_text()


class NodeWideCdiDevice(DriverProxy):
    """A driver that also names one CDI device of the whole node, defined in a spec file of
    its own before any claim and kept after every unprepare (as some real drivers do)."""

    ID = "example.com/node=common"

    def start(self) -> DriverProxy:
        self.faults.cdi_dirs[0].mkdir(parents=True, exist_ok=True)
        (self.faults.cdi_dirs[0] / "example.com-node.yaml").write_text(
            "cdiVersion: 0.6.0\nkind: example.com/node\n"
            "devices:\n- name: common\n  containerEdits: {env: [NODE=a]}\n")
        return super().start()

    def _break_prepare(self, response: object) -> object:
        for entry in response.claims.values():  # type: ignore[attr-defined]
            for device in entry.devices:
                device.cdi_device_ids.append(self.ID)
        return response


def test_a_node_wide_cdi_device_is_not_the_claims(pytester: pytest.Pytester,
                                                  reference: Harness) -> None:
    proxy = NodeWideCdiDevice(reference.registry, reference.root / "proxy", DRIVER,
                              Faults(cdi_dirs=(reference.cdi_dir,))).start()
    try:
        run = run_suite(pytester, reference, "-k", "unprepare_removes_cdi_devices",
                        registration=proxy.registration_socket.parent)
    finally:
        proxy.stop()
    assert run.verdicts()["DRA-UNPREP-003"] == "passed", run.evidence("DRA-UNPREP-003")
    assert any(NodeWideCdiDevice.ID in line for line in run.evidence("DRA-UNPREP-003"))


def test_an_instance_that_leaves_its_sockets_behind_is_named(pytester: pytest.Pytester,
                                                             reference: Harness) -> None:
    """A driver killed instead of stopped, or one that never cleans up: its old
    registration socket stays, bound by nobody (DRA-REG-006)."""
    def restart_leaving_the_socket() -> None:
        old = reference.settings().registration_socket
        reference.restart()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
            dead.bind(str(old))  # a socket file nobody serves, where the old one was

    harness_plugin.CURRENT[:] = [reference, restart_leaving_the_socket]
    quick = reference.profile_yaml(extra="  deployment: {readyTimeoutSeconds: 3}")
    run = run_suite(pytester, reference, "-k", "stopped_instance", profile=quick)
    assert run.verdicts()["DRA-REG-006"] == "failed", run.verdicts()
    assert any("behind" in line for line in run.evidence("DRA-REG-006")), run.evidence(
        "DRA-REG-006")
