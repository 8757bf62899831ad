"""`dra-conformance run` on drivers that do not start: a verdict, not a traceback, the reason
and what a person needs to see it in the report, and nothing left behind.

Each run starts (and stops) a cluster of its own with Services, so this module runs after
the one of test_services.py: one cluster per host may have Services.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dra_conformance.testbed.run import NOT_STARTED, execute
from dra_conformance.testbed.settings import RunSettings, Shipped
from rich.console import Console

from fakehw.cluster.images import WORKLOAD_IMAGE
from fakehw.cluster.local import services
from tests.cluster.helpers import mounts_mentioning, processes_mentioning

pytestmark = pytest.mark.cluster

PROFILE = """\
apiVersion: conformance.fakehw.dev/v1alpha1
kind: DriverProfile
metadata: {name: broken}
spec:
  driver: {name: broken.fakehw.dev}
  deviceClasses: [broken.fakehw.dev]
  devices: simulated
"""
CLUSTER = {"apiserver_port": 6943, "etcd_port": 2879, "kubelet_port": 10850,
           "controller_manager_port": 10857, "scheduler_port": 10859,
           "kube_proxy_port": 10849, "dns_port": 10853, "pod_subnet": "10.249.0.0/16"}


@pytest.fixture
def state_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fhw", dir="/tmp"))  # short: socket paths must fit
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _daemonset(command: str, image: str = WORKLOAD_IMAGE) -> dict[str, object]:
    labels = {"app": "broken-plugin"}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "broken-plugin", "namespace": "broken"},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                    "name": "plugin", "image": image, "imagePullPolicy": "Never",
                    "command": ["sh", "-c", command]}]}}}}


def _run(tmp_path: Path, state_dir: Path, shipped: Shipped, timeout: float = 120
         ) -> tuple[int, dict[str, object], str]:
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE)
    results = tmp_path / "results"
    settings = RunSettings(shipped=shipped, profile=profile, results=results, nodes=1,
                           cluster="fhwtestbed", start_timeout=timeout,
                           cluster_settings={**CLUSTER, "state_dir": state_dir})
    status = execute(settings, Console(quiet=True))
    report = json.loads((results / "report.json").read_text())
    run_dir = state_dir / "fhwtestbed"
    left = processes_mentioning(str(run_dir)) + mounts_mentioning(str(run_dir))
    assert left == [], left
    assert services.kube_proxy_tables() == []
    assert json.loads((results / "run.json").read_text())["verdict"] == NOT_STARTED
    return status, report, (results / "not-started.md").read_text()


def _manifests(tmp_path: Path, *documents: dict[str, object]) -> Shipped:
    path = tmp_path / "driver.yaml"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "broken"}}
    path.write_text(yaml.safe_dump_all([namespace, *documents]))
    return Shipped(manifests=(path,), namespace="broken")


def test_a_chart_that_does_not_render_starts_nothing(tmp_path: Path, state_dir: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    (chart / "templates" / "plugin.yaml").write_text(
        '{{ fail "image.repository is required" }}\n')
    status, report, text = _run(tmp_path, state_dir, Shipped(chart=chart))
    assert status == 1
    assert report["verdict"] == NOT_STARTED
    assert report["reason"] == "the chart does not render"
    assert "image.repository is required" in text
    assert not (state_dir / "fhwtestbed").exists(), "no cluster is started for it"


def test_a_missing_image_is_named(tmp_path: Path, state_dir: Path) -> None:
    shipped = _manifests(tmp_path, _daemonset("sleep 3600", image="fakehw.local/no-such:1"))
    status, report, text = _run(tmp_path, state_dir, shipped)
    assert status == 1
    assert "ErrImageNeverPull" in str(report["reason"])
    assert "fakehw.local/no-such:1" in text
    assert "## events in broken" in text


def test_a_crash_loop_shows_its_last_log_lines(tmp_path: Path, state_dir: Path) -> None:
    shipped = _manifests(tmp_path, _daemonset("echo cannot open /dev/dri/card0; exit 3"))
    status, report, text = _run(tmp_path, state_dir, shipped)
    assert status == 1
    assert "crash loop" in str(report["reason"])
    assert "cannot open /dev/dri/card0" in text
    assert "exit 3" in text


def test_a_driver_that_never_publishes_is_given_up_on(tmp_path: Path, state_dir: Path
                                                      ) -> None:
    shipped = _manifests(tmp_path, _daemonset("sleep 3600"))
    status, report, text = _run(tmp_path, state_dir, shipped, timeout=10)
    assert status == 1
    assert report["reason"] == "not up after 10 s (no ResourceSlice of broken.fakehw.dev yet)"
    assert "running, ready" in text
