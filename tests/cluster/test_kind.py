"""Unit tests of the kind provider's commands and configs (kind itself is never run)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from fakehw.cluster.errors import (
    ClusterConfigError,
    ClusterNotFoundError,
    ComponentError,
    HostError,
)
from fakehw.cluster.kind.config import KIND_NODE_IMAGE, NODE_HARDWARE_PATH, checked_in, render
from fakehw.cluster.providers.kind import KindProvider
from fakehw.cluster.settings import ClusterSettings

REPO = Path(__file__).resolve().parents[2]
KIND_CHECK = REPO / "hack" / "kindconfigcheck"

pytestmark = pytest.mark.unit

KIND_CONFIGS = Path(__file__).parents[2] / "kind-configs"
QUIET = Console(quiet=True)


class FakeKind:
    """Records kind command lines and answers them from a table of canned results."""

    def __init__(self, clusters: str = "", fail: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.clusters = clusters
        self.fail = fail

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        verb = " ".join(argv[1:3])
        if self.fail and verb == self.fail:
            return subprocess.CompletedProcess(argv, 1, "", "ERROR: failed to create cluster: "
                                               "node(s) already exist for a cluster")
        out = {"get clusters": self.clusters, "get nodes": "fakehw-control-plane\nfakehw-worker",
               "get kubeconfig": "apiVersion: v1\nkind: Config\n"}.get(verb, "")
        if verb == "create cluster":
            self.clusters = "fakehw"
        return subprocess.CompletedProcess(argv, 0, out, "")


def _provider(fake: FakeKind, tools: tuple[str, ...] = ("kind", "docker")) -> KindProvider:
    return KindProvider(runner=fake, which=lambda name: name if name in tools else None)


def test_create_command_names_config_image_and_kubeconfig(tmp_path: Path) -> None:
    fake = FakeKind()
    settings = ClusterSettings(state_dir=tmp_path, nodes=2)
    status = _provider(fake).up(settings, QUIET)
    create = next(c for c in fake.calls if c[1:3] == ["create", "cluster"])
    assert create == ["kind", "create", "cluster", "--name", "fakehw",
                      "--config", str(settings.run_dir / "kind-config.yaml"),
                      "--image", KIND_NODE_IMAGE,
                      "--kubeconfig", str(settings.run_dir / "kubeconfig"), "--wait", "180s"]
    config = yaml.safe_load((settings.run_dir / "kind-config.yaml").read_text())
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker"]
    assert status.running
    assert [n.name for n in status.nodes] == ["fakehw-control-plane", "fakehw-worker"]


def test_up_twice_does_not_create_again(tmp_path: Path) -> None:
    fake = FakeKind(clusters="other\nfakehw")
    _provider(fake).up(ClusterSettings(state_dir=tmp_path), QUIET)
    assert not any(c[1:3] == ["create", "cluster"] for c in fake.calls)


def test_down_deletes_by_name_and_second_down_is_harmless(tmp_path: Path) -> None:
    fake = FakeKind(clusters="fakehw")
    provider = _provider(fake)
    assert provider.down(ClusterSettings(state_dir=tmp_path), QUIET) is True
    assert ["kind", "delete", "cluster", "--name", "fakehw"] in fake.calls
    fake.clusters = ""
    assert provider.down(ClusterSettings(state_dir=tmp_path), QUIET) is False


def test_a_failed_create_reports_kinds_error(tmp_path: Path) -> None:
    fake = FakeKind(fail="create cluster")
    with pytest.raises(ComponentError, match="node\\(s\\) already exist"):
        _provider(fake).up(ClusterSettings(state_dir=tmp_path), QUIET)


def test_missing_tools_are_explained(tmp_path: Path) -> None:
    assert "kind CLI" in (_provider(FakeKind(), tools=()).available() or "")
    no_engine = _provider(FakeKind(), tools=("kind",))
    assert "docker or podman" in (no_engine.available() or "")
    with pytest.raises(HostError, match="docker or podman"):
        no_engine.up(ClusterSettings(state_dir=tmp_path), QUIET)
    assert not no_engine.status(ClusterSettings(state_dir=tmp_path)).running


def test_restart_kubelet_runs_systemctl_in_the_node(tmp_path: Path) -> None:
    fake = FakeKind(clusters="fakehw")
    _provider(fake).restart_kubelet(ClusterSettings(state_dir=tmp_path), "fakehw-worker", QUIET)
    assert fake.calls[-1] == ["docker", "exec", "fakehw-worker", "systemctl", "restart",
                              "kubelet"]
    with pytest.raises(ClusterConfigError, match=r"no node 'nope'.*fakehw-worker"):
        _provider(fake).restart_kubelet(ClusterSettings(state_dir=tmp_path), "nope", QUIET)


def test_kubeconfig_of_a_missing_cluster_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ClusterNotFoundError):
        _provider(FakeKind()).kubeconfig(ClusterSettings(state_dir=tmp_path))
    path = _provider(FakeKind(clusters="fakehw")).kubeconfig(ClusterSettings(state_dir=tmp_path))
    assert path.read_text().startswith("apiVersion: v1")


def test_config_carries_gates_runtime_config_cdi_and_cgroup_v1_patch(tmp_path: Path) -> None:
    settings = ClusterSettings(state_dir=tmp_path, nodes=2,
                               feature_gates={"DRAListTypeAttributes": True},
                               hardware_roots={1: Path("/hw/worker")})
    config = yaml.safe_load(render(settings))
    assert config["featureGates"] == {"DRAListTypeAttributes": True}
    assert config["runtimeConfig"]["resource.k8s.io/v1alpha3"] == "true"
    assert "enable_cdi = true" in config["containerdConfigPatches"][0]
    patch = yaml.safe_load(config["kubeadmConfigPatches"][0])
    assert patch == {"kind": "KubeletConfiguration", "failCgroupV1": False}
    assert "extraMounts" not in config["nodes"][0]
    assert config["nodes"][1]["extraMounts"] == [
        {"hostPath": "/hw/worker", "containerPath": NODE_HARDWARE_PATH}]


@pytest.mark.parametrize(("filename", "nodes"), [("single-node.yaml", 1), ("multi-node.yaml", 2)])
def test_checked_in_kind_configs_are_current(filename: str, nodes: int) -> None:
    assert (KIND_CONFIGS / filename).read_text() == render(checked_in(nodes))


@pytest.fixture(scope="module")
def kind_config_checker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hack/kindconfigcheck built against kind's own API types (from the Go module proxy)."""
    binary = tmp_path_factory.mktemp("kindcheck") / "kindconfigcheck"
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=KIND_CHECK, check=True,
                   timeout=600, env={**os.environ, "CGO_ENABLED": "0"})
    return binary


@pytest.mark.tools
def test_kind_configs_decode_strictly_with_kinds_types(kind_config_checker: Path) -> None:
    configs = sorted(str(p) for p in (REPO / "kind-configs").glob("*.yaml"))
    assert len(configs) == 2
    done = subprocess.run([str(kind_config_checker), *configs], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": ok") == 2


@pytest.mark.tools
def test_kind_config_checker_rejects_unknown_fields(kind_config_checker: Path,
                                                    tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodez: []\n")
    done = subprocess.run([str(kind_config_checker), str(bad)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1
    assert 'unknown field "nodez"' in done.stderr
