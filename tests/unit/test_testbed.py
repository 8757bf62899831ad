"""`dra-conformance run` without a cluster: its inputs, the profile it hands certify, rendering
plain manifests, and how the socket tier sees a node's kubelet root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from dra_conformance.cli import _hardware, main
from dra_conformance.errors import SettingsError
from dra_conformance.kubelet.client import KubeletClient
from dra_conformance.testbed import deployment
from dra_conformance.testbed.run import Run
from dra_conformance.testbed.settings import RunSettings, Shipped, check
from rich.console import Console

from fakehw.cluster.providers.base import NodeInfo

pytestmark = pytest.mark.unit

PROFILE = """\
apiVersion: conformance.fakehw.dev/v1alpha1
kind: DriverProfile
metadata: {name: x}
spec:
  driver: {name: gpu.example.com}
  deviceClasses: [gpu.example.com]
  deployment: {mode: command, command: [make, deploy], readyTimeoutSeconds: 90}
"""

DAEMONSET = {"apiVersion": "apps/v1", "kind": "DaemonSet",
             "metadata": {"name": "plugin"},
             "spec": {"template": {"spec": {"serviceAccountName": "plugin-sa"}}}}


def _settings(tmp_path: Path, **shipped: object) -> RunSettings:
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE)
    return RunSettings(shipped=Shipped(**shipped), profile=profile,  # type: ignore[arg-type]
                       results=tmp_path / "results")


def test_the_deployment_is_given_exactly_one_way(tmp_path: Path) -> None:
    (tmp_path / "chart").mkdir()
    with pytest.raises(SettingsError, match="given: none"):
        check(_settings(tmp_path))
    with pytest.raises(SettingsError, match="--chart, --kustomize"):
        check(_settings(tmp_path, chart=tmp_path / "chart", kustomize=tmp_path / "chart"))
    with pytest.raises(SettingsError, match="--values and --set are for a chart"):
        check(_settings(tmp_path, manifests=(tmp_path,), sets=("a=b",)))
    with pytest.raises(SettingsError, match="--set image: give KEY=VALUE"):
        check(_settings(tmp_path, chart=tmp_path / "chart", sets=("image",)))
    with pytest.raises(SettingsError, match=r"--values .*missing\.yaml: no such file"):
        check(_settings(tmp_path, chart=tmp_path / "chart",
                        values=(tmp_path / "missing.yaml",)))
    check(_settings(tmp_path, chart=tmp_path / "chart", sets=("image.tag=v1",)))


def test_results_holding_something_else_are_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path, manifests=(tmp_path,))
    settings.results.mkdir()
    (settings.results / "notes.txt").write_text("mine")
    with pytest.raises(SettingsError, match="holds files of something else"):
        check(settings)
    (settings.results / "run.json").write_text("{}")  # an earlier run's results
    check(settings)


def test_hardware_profiles_for_every_node_or_one() -> None:
    assert _hardware(("edge-node",), 2) == {0: "edge-node", 1: "edge-node"}
    assert _hardware(("edge-node", "1=numa-mixed"), 2) == {0: "edge-node", 1: "numa-mixed"}
    assert _hardware(("/p/x=y.yaml",), 1) == {0: "/p/x=y.yaml"}


def test_plain_manifests_render_from_files_and_folders(tmp_path: Path) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    (folder / "a.yaml").write_text(yaml.safe_dump(DAEMONSET) + "---\n# only a comment\n")
    (folder / "b.yml").write_text(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": "drv"}}))
    (folder / "README.md").write_text("not a manifest")
    tools = deployment.Tools(Path("/no/helm"), Path("/no/kubectl"))
    objects = deployment.render(Shipped(manifests=(folder,)), tools)
    assert [o["kind"] for o in objects] == ["DaemonSet", "Namespace"]
    assert deployment.daemonsets(objects, "default-ns") == [("default-ns", "plugin")]
    # applied in one go, namespaces first
    assert [d["kind"] for d in yaml.safe_load_all(deployment._ordered(objects))] == [
        "Namespace", "DaemonSet"]
    (folder / "c.yaml").write_text("kind: [unclosed\n")
    with pytest.raises(deployment.DeployError, match="does not parse"):
        deployment.render(Shipped(manifests=(folder,)), tools)


def test_certify_is_told_the_driver_is_deployed_and_how_to_restart_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path, manifests=(tmp_path,), namespace="drv")
    run = Run(settings, Console(quiet=True))
    run.objects = [DAEMONSET]
    run.nodes = [NodeInfo("n0", "control-plane", kubelet_dir="/k0", cdi_dir="/c0"),
                 NodeInfo("n1", "worker", kubelet_dir="/k1", cdi_dir="/c1")]
    spec = run.run_profile()["spec"]
    assert spec["nodes"] == ["n0", "n1"]
    assert spec["cdi"] == {"specDirs": ["/etc/cdi", "/var/run/cdi", "/c0"]}
    deployed = spec["deployment"]
    assert deployed["mode"] == "deployed"
    assert deployed["readyTimeoutSeconds"] == 90
    assert deployed["restartCommand"][-2:] == ["--node", "n0"]
    assert deployed["updateCommand"][-3:] == ["--node", "{node}", "--rolling"]
    assert "restart-pods" in deployed["restartCommand"]
    # the identity the plugin's pod token carries, from the DaemonSet's service account
    assert spec["nodeIdentity"]["user"] == "system:serviceaccount:drv:plugin-sa"
    assert spec["nodeIdentity"]["extra"] == {
        "authentication.kubernetes.io/node-name": ["{node}"]}


def test_the_socket_tier_resolves_announced_paths_below_the_nodes_root(tmp_path: Path
                                                                        ) -> None:
    client = KubeletClient(tmp_path / "reg.sock", kubelet_root=Path("/var/lib/fakehw/ab12"))
    assert client.seen_here("/var/lib/kubelet/plugins/x/dra.sock") == \
        "/var/lib/fakehw/ab12/plugins/x/dra.sock"
    assert client.seen_here("/var/lib/kubeletx/dra.sock") == "/var/lib/kubeletx/dra.sock"
    assert client.seen_here("/run/x/dra.sock") == "/run/x/dra.sock"
    assert KubeletClient(tmp_path / "reg.sock").seen_here(
        "/var/lib/kubelet/plugins/x/dra.sock") == "/var/lib/kubelet/plugins/x/dra.sock"


def test_run_refuses_two_deployments_before_anything_starts(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE)
    result = CliRunner().invoke(main, [
        "run", "--chart", str(tmp_path), "--manifests", str(tmp_path),
        "--driver-profile", str(profile), "--results", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "one way: --chart, --kustomize or --manifests" in result.output
    assert not (tmp_path / "r").exists()
