"""Unit tests of `fakehw cluster ...` with a fake provider (no cluster is started)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from fakehw.cluster import providers
from fakehw.cluster.cli import cluster
from fakehw.cluster.providers.base import ClusterStatus, NodeInfo
from fakehw.cluster.settings import ClusterSettings

pytestmark = pytest.mark.unit


class FakeProvider:
    """Remembers the settings it was given and pretends to run a cluster."""

    name = "local"
    seen: list[ClusterSettings] = []  # noqa: RUF012  (shared on purpose: one per test)
    restarted: list[str] = []  # noqa: RUF012

    def available(self) -> str | None:
        return None

    def up(self, settings: ClusterSettings, console: Console) -> ClusterStatus:
        self.seen.append(settings)
        return self.status(settings)

    def down(self, settings: ClusterSettings, console: Console) -> bool:
        self.seen.append(settings)
        return True

    def status(self, settings: ClusterSettings) -> ClusterStatus:
        return ClusterStatus(settings.name, self.name, True, settings.run_dir / "kubeconfig",
                             (NodeInfo(f"{settings.name}-control-plane", "control-plane",
                                       "10.244.0.1", "/k"),), {"etcd": True}, "running")

    def nodes(self, settings: ClusterSettings) -> list[NodeInfo]:
        return list(self.status(settings).nodes)

    def kubeconfig(self, settings: ClusterSettings) -> Path:
        return settings.run_dir / "kubeconfig"

    def logs(self, settings: ClusterSettings, component: str | None = None) -> dict[str, Path]:
        return {}

    def restart_kubelet(self, settings: ClusterSettings, node: str, console: Console) -> None:
        self.seen.append(settings)
        self.restarted.append(node)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeProvider]:
    FakeProvider.seen = []
    FakeProvider.restarted = []
    monkeypatch.setitem(providers.PROVIDERS, "local", FakeProvider)
    return FakeProvider


def test_up_passes_flags_and_says_which_provider(fake: type[FakeProvider], tmp_path: Path) -> None:
    result = CliRunner().invoke(cluster, [
        "up", "--nodes", "2", "--feature-gates", "DRAListTypeAttributes=true",
        "--state-dir", str(tmp_path), "--hardware-root", "1=/hw/one",
        "--controller-manager-port", "11257", "--scheduler-port", "11259",
        "--pod-subnet", "10.246.0.0/16"])
    assert result.exit_code == 0, result.output
    assert "Using the 'local' cluster provider" in result.output
    settings = fake.seen[-1]
    assert settings.nodes == 2
    assert settings.feature_gates == {"DRAListTypeAttributes": True}
    assert settings.hardware_roots == {1: Path("/hw/one")}
    assert (settings.controller_manager_port, settings.scheduler_port) == (11257, 11259)
    assert settings.pod_subnet == "10.246.0.0/16"
    assert result.output.strip().endswith(str(tmp_path / "fakehw" / "kubeconfig"))


def test_hardware_profiles_per_node_or_for_all(fake: type[FakeProvider], tmp_path: Path) -> None:
    result = CliRunner().invoke(cluster, [
        "up", "--nodes", "3", "--state-dir", str(tmp_path), "--hardware-profile", "edge-node",
        "--hardware-profile", "2=numa-mixed"])
    assert result.exit_code == 0, result.output
    assert fake.seen[-1].hardware_profiles == {0: "edge-node", 1: "edge-node", 2: "numa-mixed"}


def test_an_unknown_hardware_profile_fails_before_anything(fake: type[FakeProvider],
                                                           tmp_path: Path) -> None:
    result = CliRunner().invoke(cluster, [
        "up", "--state-dir", str(tmp_path), "--hardware-profile", "0=no-such-node"])
    assert result.exit_code == 1
    assert "--hardware-profile 0=no-such-node" in result.output
    assert "edge-node" in result.output
    assert fake.seen == []
    assert list(tmp_path.iterdir()) == []


def test_flags_also_come_from_fakehw_environment(fake: type[FakeProvider], tmp_path: Path) -> None:
    env = {"FAKEHW_NODES": "3", "FAKEHW_CLUSTER_NAME": "ci", "FAKEHW_STATE_DIR": str(tmp_path),
           "FAKEHW_APISERVER_PORT": "7443"}
    result = CliRunner().invoke(cluster, ["up"], env=env)
    assert result.exit_code == 0, result.output
    settings = fake.seen[-1]
    assert (settings.nodes, settings.name, settings.apiserver_port) == (3, "ci", 7443)
    assert settings.state_dir == tmp_path


def test_bad_feature_gate_is_one_line_and_exit_1(fake: type[FakeProvider]) -> None:
    result = CliRunner().invoke(cluster, ["up", "--feature-gates", "DRAListTypeAttributes"])
    assert result.exit_code == 1
    assert "error:" in result.output
    assert "Name=true" in result.output
    assert "Traceback" not in result.output
    assert fake.seen == []


def test_status_lists_nodes_and_components(fake: type[FakeProvider], tmp_path: Path) -> None:
    result = CliRunner().invoke(cluster, ["status", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "fakehw-control-plane control-plane 10.244.0.1" in result.output
    assert "etcd: up" in result.output


def test_status_json_names_the_kubelet_plugin_dirs(fake: type[FakeProvider],
                                                   tmp_path: Path) -> None:
    result = CliRunner().invoke(cluster, ["status", "--json", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{"):])
    node = document["nodes"][0]
    assert node["plugins_registry"] == "/k/plugins_registry"
    assert node["plugins_dir"] == "/k/plugins"
    assert document["kubeconfig"] == str(tmp_path / "fakehw" / "kubeconfig")


def test_unknown_provider_is_refused() -> None:
    result = CliRunner().invoke(cluster, ["up", "--provider", "minikube"])
    assert result.exit_code == 2
    assert "minikube" in result.output


def test_restart_kubelet_names_the_cluster_and_node(fake: type[FakeProvider]) -> None:
    result = CliRunner().invoke(cluster, ["restart-kubelet", "--name", "c1", "c1-worker"])
    assert result.exit_code == 0, result.output
    assert fake.restarted == ["c1-worker"]
    assert fake.seen[-1].name == "c1"


def test_restart_kubelet_needs_a_node(fake: type[FakeProvider]) -> None:
    result = CliRunner().invoke(cluster, ["restart-kubelet"])
    assert result.exit_code == 2
    assert "Missing argument 'NODE'" in result.output
