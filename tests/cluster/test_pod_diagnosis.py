"""A driver pod that cannot start is explained by the conformance job in its own output:
its containers' waiting reasons, its events, its log's last lines, and where more is."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fakehw.cluster.images import WORKLOAD_IMAGE
from fakehw.cluster.kubectl import Kubectl
from fakehw.cluster.pytest_fixtures import SessionCluster
from hack.conformancejob.diagnosis import describe, hopeless

pytestmark = pytest.mark.cluster
NAMESPACE = f"diagnosis-{os.getpid()}"


def _pod(name: str, image: str, command: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"terminationGracePeriodSeconds": 0, "restartPolicy": "Always",
                     "containers": [{"name": "plugin", "image": image,
                                     "imagePullPolicy": "Never",
                                     "command": ["sh", "-c", command]}]}}


@pytest.fixture(scope="module")
def kubectl(fakehw_cluster: SessionCluster) -> Iterator[Kubectl]:
    kubectl = fakehw_cluster.kubectl
    kubectl.run(["create", "namespace", NAMESPACE])
    yield kubectl
    kubectl.run(["delete", "namespace", NAMESPACE, "--wait=false"], check=False)


def _until_hopeless(kubectl: Kubectl, name: str, timeout: float = 120
                    ) -> tuple[str, dict[str, Any]]:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return kubectl.run(list(args), check=False)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod = kubectl.json(["get", "pod", "-n", NAMESPACE, name])
        if (why := hopeless(run, pod)) is not None:
            return why, pod
        time.sleep(1)
    raise AssertionError(f"pod {name} was never judged hopeless: {json.dumps(pod['status'])}")


def test_an_image_missing_from_the_node_is_named_with_its_event(kubectl: Kubectl) -> None:
    kubectl.apply(json.dumps(_pod("no-image", "fakehw.local/absent:0.0", "true")))
    why, pod = _until_hopeless(kubectl, "no-image")
    assert why == "container plugin is waiting: ErrImageNeverPull"
    text = describe(lambda *a: kubectl.run(list(a), check=False), pod, "the kubelet log: X")
    assert "container plugin: waiting: ErrImageNeverPull" in text
    assert "fakehw.local/absent:0.0" in text  # the kubelet's own message, verbatim
    assert "last events:" in text
    assert "Warning ErrImageNeverPull" in text
    assert text.endswith(f"more: kubectl logs -n {NAMESPACE} no-image; the kubelet log: X")


def test_a_crash_loop_shows_the_exit_code_and_the_last_log_lines(kubectl: Kubectl) -> None:
    kubectl.apply(json.dumps(_pod("crasher", WORKLOAD_IMAGE,
                                  "echo 'cannot open /sys/bus/pci: no such file'; exit 3")))
    why, pod = _until_hopeless(kubectl, "crasher")
    assert re.fullmatch(r"container plugin keeps exiting: \d+ restarts, last exit code 3", why)
    text = describe(lambda *a: kubectl.run(list(a), check=False), pod, "X")
    assert re.search(r"container plugin: (waiting: CrashLoopBackOff|terminated: Error, exit "
                     r"code 3).*; last exit code 3 \(Error\), \d+ restart\(s\)", text)
    assert "lines of its log:\n      cannot open /sys/bus/pci: no such file" in text
    assert "lines of the container before its restart:" in text
    assert "Warning BackOff" in text
    assert f"more: kubectl logs -n {NAMESPACE} crasher --previous; X" in text
