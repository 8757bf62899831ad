"""DRA-SLICE-005 on a real API server: the reference deployment's identity passes, an identity
that may write any node's slices is caught and named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakehw.cluster.pytest_fixtures import SessionCluster
from tests.conformance.conftest import SuiteRun, suite_run

pytestmark = pytest.mark.cluster
DRIVER = "dra.fakehw.dev"  # drivers/deploy/admission.yaml allows this driver only
DEPLOY = Path(__file__).resolve().parents[2] / "drivers/deploy"
PROFILE = """apiVersion: conformance.fakehw.dev/v1alpha1
kind: DriverProfile
metadata: {{name: identity-probe}}
spec:
  driver: {{name: {driver}}}
  nodeIdentity: {identity}
"""
PLUGIN = json.dumps({"user": "system:serviceaccount:dra-reference:kubelet-plugin",
                     "extra": {"authentication.kubernetes.io/node-name": ["{node}"]}})
MASTER = json.dumps({"user": "dra-conformance-overprivileged", "groups": ["system:masters"]})


@pytest.fixture
def node_slice(fakehw_cluster: SessionCluster) -> Iterator[str]:
    """The first node, with a slice of the driver (the suite needs one to start) and the
    reference RBAC and admission policies in force."""
    kubectl = fakehw_cluster.kubectl
    node = kubectl.json(["get", "nodes"])["items"][0]["metadata"]["name"]
    for manifest in ("rbac.yaml", "admission.yaml"):
        kubectl.run(["apply", "-f", str(DEPLOY / manifest)])
    kubectl.apply(json.dumps({
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
        "metadata": {"name": "identity-probe"},
        "spec": {"driver": DRIVER, "nodeName": node, "devices": [],
                 "pool": {"name": node, "generation": 1, "resourceSliceCount": 1}}}))
    yield node
    kubectl.run(["delete", "resourceslice", "identity-probe", "--ignore-not-found"])
    kubectl.run(["delete", "-f", str(DEPLOY / "admission.yaml"), "--ignore-not-found"])


def slice_005(pytester: pytest.Pytester, cluster: SessionCluster, node: str,
              identity: str) -> SuiteRun:
    return suite_run(pytester, PROFILE.format(driver=DRIVER, identity=identity),
                     "-m", "cluster", "-k", "may_write_only_its_own",
                     "--dra-kubeconfig", str(cluster.kubeconfig), "--dra-node", node)


def test_the_reference_identity_passes(pytester: pytest.Pytester,
                                       fakehw_cluster: SessionCluster, node_slice: str) -> None:
    # the API server loads a new admission policy in the background: allow it a moment
    for _ in range(15):
        run = slice_005(pytester, fakehw_cluster, node_slice, PLUGIN)
        if run.verdicts()["DRA-SLICE-005"] == "passed":
            break
    assert run.verdicts()["DRA-SLICE-005"] == "passed", run.evidence("DRA-SLICE-005")


def test_an_identity_that_may_write_any_slice_is_caught(
        pytester: pytest.Pytester, fakehw_cluster: SessionCluster, node_slice: str) -> None:
    run = slice_005(pytester, fakehw_cluster, node_slice, MASTER)
    assert run.verdicts()["DRA-SLICE-005"] == "failed"
    assert any("may create a slice of" in line for line in run.evidence("DRA-SLICE-005"))
    assert not run.report["certified"]
