"""End-to-end checks of a real cluster: nodes, versions, pods, DRA with CDI, lifecycle."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from fakehw.cluster.binaries import ensure_binaries
from fakehw.cluster.errors import ClusterConfigError, ComponentError, PortInUseError
from fakehw.cluster.kubectl import Kubectl
from fakehw.cluster.local.layout import ClusterLayout
from fakehw.cluster.local.processes import is_running
from fakehw.cluster.local.state import ClusterState
from fakehw.cluster.providers.local import LocalProvider
from fakehw.cluster.pytest_fixtures import SessionCluster
from fakehw.cluster.settings import ClusterSettings
from fakehw.cluster.versions import CONTAINERD, KUBERNETES
from fakehw.tree import state as tree_state
from tests.cluster.helpers import (
    mounts_mentioning,
    pod_manifest,
    processes_mentioning,
    wait_for_phase,
)

pytestmark = pytest.mark.cluster

QUIET = Console(stderr=True, quiet=True)


def _nodes(kubectl: Kubectl) -> list[dict[str, object]]:
    items: list[dict[str, object]] = kubectl.json(["get", "nodes"])["items"]
    return items


def _local_only(cluster: SessionCluster) -> tuple[LocalProvider, ClusterSettings]:
    if not isinstance(cluster.provider, LocalProvider) or cluster.settings is None:
        pytest.skip("needs a cluster this session started with the local provider")
    return cluster.provider, cluster.settings


@pytest.fixture
def scratch_state_dir() -> Iterator[Path]:
    """A short state directory (unix socket paths are limited to 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="fhw", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _second_cluster(state_dir: Path, **overrides: object) -> ClusterSettings:
    """Settings that do not collide with the session cluster's ports and subnets."""
    values: dict[str, object] = {
        "name": "fhwsecond", "state_dir": state_dir, "apiserver_port": 6643,
        "etcd_port": 2579, "kubelet_port": 10450, "controller_manager_port": 10457,
        "scheduler_port": 10459, "pod_subnet": "10.246.0.0/16",
    }
    values.update(overrides)
    return ClusterSettings(**values)  # type: ignore[arg-type]


def test_every_node_is_ready(fakehw_cluster: SessionCluster) -> None:
    nodes = _nodes(fakehw_cluster.kubectl)
    expected = fakehw_cluster.settings.nodes if fakehw_cluster.settings else 1
    assert len(nodes) >= expected
    for node in nodes:
        conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}  # type: ignore[index]
        assert conditions["Ready"] == "True", node["metadata"]


def test_components_report_real_versions(fakehw_cluster: SessionCluster) -> None:
    versions = fakehw_cluster.kubectl.json(["version"])
    assert versions["serverVersion"]["gitVersion"] == KUBERNETES
    assert versions["clientVersion"]["gitVersion"] == KUBERNETES
    kubelet = ensure_binaries(components={"kubernetes"})["kubelet"]
    out = subprocess.run([str(kubelet), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"Kubernetes {KUBERNETES}"
    for node in _nodes(fakehw_cluster.kubectl):
        info = node["status"]["nodeInfo"]  # type: ignore[index]
        assert info["kubeletVersion"] == KUBERNETES
        assert info["containerRuntimeVersion"] == f"containerd://{CONTAINERD.lstrip('v')}"


def test_pod_runs_to_completion_on_every_node(fakehw_cluster: SessionCluster) -> None:
    kubectl = fakehw_cluster.kubectl
    for index, node in enumerate(_nodes(kubectl)):
        name = f"hello-{index}"
        node_name = node["metadata"]["name"]  # type: ignore[index]
        kubectl.apply(pod_manifest(name, "echo hello from $(hostname)", node=node_name))
        try:
            assert wait_for_phase(kubectl, name, {"Succeeded", "Failed"}) == "Succeeded"
            assert kubectl.run(["logs", name]).stdout.strip() == f"hello from {name}"
        finally:
            kubectl.run(["delete", "pod", name, "--wait=false"], check=False)


def test_hardware_root_reaches_the_nodes_processes(fakehw_cluster: SessionCluster) -> None:
    provider, settings = _local_only(fakehw_cluster)
    layout = ClusterLayout(settings)
    state = ClusterState.load(layout.state_file)
    assert state is not None
    for index, node in enumerate(provider.nodes(settings)):
        expected = layout.nodes[index].hardware_root
        assert node.hardware_root == (str(expected) if expected else None)
        if index in settings.hardware_profiles:
            assert expected is not None
            tree = tree_state.load(expected)
            assert tree.node_name == node.name
            assert (expected / "sys/bus/pci/devices").iterdir(), "the node has PCI devices"
        for name in (f"kubelet-{index}", f"containerd-{index}"):
            record = state.process(name)
            assert record is not None
            environ = Path(f"/proc/{record.pid}/environ").read_bytes().split(b"\0")
            wanted = f"FAKEHW_HARDWARE_ROOT={expected}".encode()
            assert (wanted in environ) == (expected is not None), name


DRIVER = "test-driver.cdi.k8s.io"


@pytest.fixture
def dra_test_driver(fakehw_cluster: SessionCluster) -> Iterator[str]:
    """Upstream's e2e DRA test driver as a kubelet plugin of the first node."""
    provider, settings = _local_only(fakehw_cluster)
    binary = ensure_binaries(components={"dra-test-driver"})["dra-test-driver"]
    node = provider.nodes(settings)[0]
    kubelet_dir = Path(node.kubelet_dir)
    log = ClusterLayout(settings).log("dra-test-driver")
    (kubelet_dir / "plugins" / DRIVER).mkdir(parents=True, exist_ok=True)
    with log.open("ab") as stream:
        process = subprocess.Popen(
            [str(binary), f"--kubeconfig={fakehw_cluster.kubeconfig}", f"--drivername={DRIVER}",
             "kubelet-plugin", f"--node-name={node.name}", "--cdi-dir=/var/run/cdi",
             f"--plugin-registration-path={kubelet_dir / 'plugins_registry'}",
             f"--datadir={kubelet_dir / 'plugins'}"],
            stdout=stream, stderr=subprocess.STDOUT)
    try:
        _wait_for_slices(fakehw_cluster.kubectl, node.name, process, log)
        yield node.name
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_slices(kubectl: Kubectl, node: str, process: subprocess.Popen[bytes],
                     log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the DRA test driver exited:\n{log.read_text()[-2000:]}"
        slices = kubectl.json(["get", "resourceslices"])["items"]
        if any(s["spec"].get("nodeName") == node for s in slices):
            return
        time.sleep(0.5)
    raise AssertionError(f"no ResourceSlice for {node} after 60s:\n{log.read_text()[-2000:]}")


def _dra_objects(claim: str) -> str:
    device_class = {
        "apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass",
        "metadata": {"name": "fakehw-test"},
        "spec": {"selectors": [{"cel": {"expression": f'device.driver == "{DRIVER}"'}}]},
    }
    resource_claim = {
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
        "metadata": {"name": claim},
        "spec": {"devices": {
            "requests": [{"name": "gpu", "exactly": {"deviceClassName": "fakehw-test"}}],
            "config": [{"opaque": {"driver": DRIVER, "parameters": {"greeting": "hello"}}}],
        }},
    }
    return json.dumps({"apiVersion": "v1", "kind": "List",
                       "items": [device_class, resource_claim]})


def test_claim_cdi_edits_reach_the_container(
    fakehw_cluster: SessionCluster, dra_test_driver: str
) -> None:
    """A claim goes scheduler -> kubelet -> driver -> CDI spec -> containerd -> container."""
    kubectl = fakehw_cluster.kubectl
    kubectl.apply(_dra_objects("cdi-claim"))
    claims = [{"name": "gpu", "resourceClaimName": "cdi-claim"}]
    kubectl.apply(pod_manifest("cdi", "env | grep -E '^(claim_|user_)' | sort",
                               node=None, claims=claims))
    try:
        assert wait_for_phase(kubectl, "cdi", {"Succeeded", "Failed"}, 120) == "Succeeded"
        logs = kubectl.run(["logs", "cdi"]).stdout.split()
        assert "claim_cdi_claim_gpu=true" in logs
        assert "user_greeting=hello" in logs
    finally:
        kubectl.run(["delete", "pod", "cdi", "--wait=true", "--timeout=60s"], check=False)
        kubectl.run(["delete", "resourceclaim", "cdi-claim"], check=False)
        kubectl.run(["delete", "deviceclass", "fakehw-test"], check=False)


CDI_SPEC = Path("/var/run/cdi/fakehw-cluster-test.json")
CDI_KIND = "fakehw.example.com/test"
RESOURCE = "fakehw.io/cdi-test"


@pytest.fixture
def static_cdi_device(fakehw_cluster: SessionCluster, tmp_path: Path) -> Iterator[str]:
    """A static CDI spec (env, mount) and our device plugin handing it out on the first node."""
    provider, settings = _local_only(fakehw_cluster)
    node = provider.nodes(settings)[0]
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello.txt").write_text("mounted by CDI\n")
    CDI_SPEC.parent.mkdir(parents=True, exist_ok=True)
    CDI_SPEC.write_text(json.dumps({
        "cdiVersion": "0.6.0", "kind": CDI_KIND,
        "devices": [{"name": "dev0", "containerEdits": {
            "env": ["FAKEHW_CDI_DEVICE=dev0"],
            "mounts": [{"hostPath": str(shared), "containerPath": "/fakehw-cdi",
                        "options": ["ro", "bind"]}]}}],
        "containerEdits": {"env": ["FAKEHW_CDI_KIND=test"]},
    }))
    binary = ensure_binaries(components={"fakehw-cdi-plugin"})["fakehw-cdi-plugin"]
    sockets = Path(node.kubelet_dir) / "cdi-plugin"
    sockets.mkdir(exist_ok=True)
    log = ClusterLayout(settings).log("fakehw-cdi-plugin")
    with log.open("ab") as stream:
        process = subprocess.Popen(
            [str(binary), f"--registry-dir={node.plugins_registry}", f"--socket-dir={sockets}",
             f"--resource={RESOURCE}", f"--cdi-devices={CDI_KIND}=dev0"],
            stdout=stream, stderr=subprocess.STDOUT)
    try:
        _wait_for_allocatable(fakehw_cluster.kubectl, node.name, process, log)
        yield node.name
    finally:
        process.terminate()
        process.wait(timeout=30)
        CDI_SPEC.unlink(missing_ok=True)


def _wait_for_allocatable(kubectl: Kubectl, node: str, process: subprocess.Popen[bytes],
                          log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the device plugin exited:\n{log.read_text()[-2000:]}"
        allocatable = kubectl.json(["get", "node", node])["status"].get("allocatable", {})
        if allocatable.get(RESOURCE) not in (None, "0"):
            return
        time.sleep(0.5)
    raise AssertionError(f"{node} never offered {RESOURCE}:\n{log.read_text()[-2000:]}")


def test_static_cdi_spec_edits_reach_the_container(
    fakehw_cluster: SessionCluster, static_cdi_device: str
) -> None:
    """kubelet -> device plugin -> CDI device names -> containerd applies the static spec."""
    kubectl = fakehw_cluster.kubectl
    pod = json.loads(pod_manifest(
        "static-cdi", "env | grep ^FAKEHW_CDI | sort; cat /fakehw-cdi/hello.txt",
        node=static_cdi_device))
    pod["spec"]["containers"][0]["resources"] = {"limits": {RESOURCE: "1"}}
    kubectl.apply(json.dumps(pod))
    try:
        assert wait_for_phase(kubectl, "static-cdi", {"Succeeded", "Failed"}) == "Succeeded"
        lines = kubectl.run(["logs", "static-cdi"]).stdout.splitlines()
        assert lines == ["FAKEHW_CDI_DEVICE=dev0", "FAKEHW_CDI_KIND=test", "mounted by CDI"]
    finally:
        kubectl.run(["delete", "pod", "static-cdi", "--wait=true", "--timeout=60s"],
                    check=False)


def test_pod_annotations_do_not_request_cdi_devices(fakehw_cluster: SessionCluster) -> None:
    """Documents a limit: kubelet 1.37 does not pass pod annotations to the container's CRI
    annotations, so `cdi.k8s.io/...` on a pod never reaches containerd's CDI injection."""
    kubectl = fakehw_cluster.kubectl
    CDI_SPEC.parent.mkdir(parents=True, exist_ok=True)
    CDI_SPEC.write_text(json.dumps({
        "cdiVersion": "0.6.0", "kind": CDI_KIND,
        "devices": [{"name": "dev0", "containerEdits": {"env": ["FAKEHW_CDI_DEVICE=dev0"]}}]}))
    pod = json.loads(pod_manifest("annotated", "env | grep ^FAKEHW_CDI || echo none"))
    pod["metadata"]["annotations"] = {"cdi.k8s.io/fakehw": f"{CDI_KIND}=dev0"}
    kubectl.apply(json.dumps(pod))
    try:
        assert wait_for_phase(kubectl, "annotated", {"Succeeded", "Failed"}) == "Succeeded"
        assert kubectl.run(["logs", "annotated"]).stdout.strip() == "none"
    finally:
        kubectl.run(["delete", "pod", "annotated", "--wait=false"], check=False)
        CDI_SPEC.unlink(missing_ok=True)


def test_up_twice_reports_the_running_cluster(fakehw_cluster: SessionCluster) -> None:
    provider, settings = _local_only(fakehw_cluster)
    before = ClusterState.load(ClusterLayout(settings).state_file)
    status = provider.up(settings, QUIET)
    after = ClusterState.load(ClusterLayout(settings).state_file)
    assert status.running
    assert before is not None
    assert after is not None
    assert [p.pid for p in before.processes] == [p.pid for p in after.processes]


def test_a_kubelet_restart_keeps_its_pods_running(fakehw_cluster: SessionCluster) -> None:
    provider, settings = _local_only(fakehw_cluster)
    kubectl = fakehw_cluster.kubectl
    node = provider.nodes(settings)[-1].name
    kubectl.apply(pod_manifest("survivor", "sleep 3600", node=node))
    try:
        assert wait_for_phase(kubectl, "survivor", {"Running"}) == "Running"
        before = kubectl.json(["get", "pod", "survivor"])["status"]["containerStatuses"][0]
        index = next(n["index"] for n in _state(settings).nodes if n["name"] == node)
        old = _state(settings).process(f"kubelet-{index}")
        provider.restart_kubelet(settings, node, QUIET)
        new = _state(settings).process(f"kubelet-{index}")
        assert old is not None
        assert new is not None
        assert new.pid != old.pid
        assert is_running(new)
        assert not is_running(old)
        assert new.argv == old.argv
        after = kubectl.json(["get", "pod", "survivor"])["status"]["containerStatuses"][0]
        assert after["containerID"] == before["containerID"]
        assert after["restartCount"] == 0
        assert "running" in after["state"]
        kubectl.apply(pod_manifest("after-restart", "echo served", node=node))
        assert wait_for_phase(kubectl, "after-restart", {"Succeeded", "Failed"}) == "Succeeded"
        with pytest.raises(ClusterConfigError, match=rf"no node 'nope'.*{node}"):
            provider.restart_kubelet(settings, "nope", QUIET)
    finally:
        kubectl.run(["delete", "pod", "survivor", "after-restart", "--wait=false"], check=False)


def _state(settings: ClusterSettings) -> ClusterState:
    state = ClusterState.load(ClusterLayout(settings).state_file)
    assert state is not None
    return state


def test_port_in_use_is_named(scratch_state_dir: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        settings = _second_cluster(scratch_state_dir, apiserver_port=port)
        with pytest.raises(PortInUseError, match=rf"port {port} .*kube-apiserver"):
            LocalProvider().up(settings, QUIET)
    assert not ClusterLayout(settings).state_file.exists()


def test_bad_feature_gate_is_rejected(scratch_state_dir: Path) -> None:
    settings = _second_cluster(scratch_state_dir, feature_gates={"NoSuchGate": True})
    with pytest.raises(ClusterConfigError, match="unrecognized feature gate: NoSuchGate"):
        LocalProvider().up(settings, QUIET)
    assert not ClusterLayout(settings).state_file.exists()


def test_failed_up_explains_and_cleans_up(scratch_state_dir: Path) -> None:
    settings = _second_cluster(scratch_state_dir, runtime_config={"nosuch.k8s.io/v1": "true"})
    with pytest.raises(ComponentError, match="kube-apiserver: exited") as failure:
        LocalProvider().up(settings, QUIET)
    assert "nosuch.k8s.io" in failure.value.log_tail
    assert not processes_mentioning(str(settings.run_dir))
    assert not Path("/sys/class/net", ClusterLayout(settings).nodes[0].bridge).exists()


def _leftovers(settings: ClusterSettings) -> list[str]:
    layout = ClusterLayout(settings)
    found = processes_mentioning(str(settings.run_dir))
    found += mounts_mentioning(str(settings.run_dir))
    for node in layout.nodes:
        if Path("/sys/class/net", node.bridge).exists():
            found.append(f"bridge {node.bridge}")
        found += [str(p) for p in Path("/sys/fs/cgroup").glob(f"*/{node.cgroup_root.strip('/')}")]
        for directory in (node.shim_socket_dir, node.kubelet_dir):
            if directory.exists():
                found.append(str(directory))
        found += mounts_mentioning(str(node.kubelet_dir))
    found += [str(p) for p in settings.run_dir.rglob("*") if p.is_socket()]
    logs = Path("/var/log/containers")
    found += [str(p) for p in (logs.iterdir() if logs.is_dir() else [])
              if p.is_symlink() and str(settings.run_dir) in os.readlink(p)]
    results = Path("/var/lib/cni/results")
    found += [str(p) for p in (results.iterdir() if results.is_dir() else [])
              if p.name.startswith(f"fakehw-{settings.name}-")]
    return found


def _firewall() -> str:
    """Every iptables and ip6tables rule and chain of the host."""
    dumps = []
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle", "raw"):
            done = subprocess.run([tool, "-t", table, "-S"], capture_output=True, text=True,
                                  check=False)
            dumps.append(f"{tool} {table}\n{done.stdout}")
    return "\n".join(dumps)


def test_down_leaves_nothing(scratch_state_dir: Path) -> None:
    settings = _second_cluster(scratch_state_dir)
    provider = LocalProvider()
    firewall = _firewall()
    status = provider.up(settings, QUIET)
    assert status.running
    assert status.kubeconfig is not None
    kubectl = Kubectl(ensure_binaries(components={"kubernetes"})["kubectl"], status.kubeconfig)
    kubectl.apply(pod_manifest("sleeper", "sleep 600"))
    assert wait_for_phase(kubectl, "sleeper", {"Running"}) == "Running"
    assert _leftovers(settings), "a running cluster should be visible to the checks"

    assert provider.down(settings, QUIET) is True
    assert _leftovers(settings) == []
    assert _firewall() == firewall
    assert provider.down(settings, QUIET) is False
    assert not provider.status(settings).running


STAND_INS = ("containerd-shim-runc-v2", "runc", "ctr", "containerd", "kubelet", "bridge",
             "host-local", "loopback")


def test_stand_ins_first_on_path_are_never_run(
        scratch_state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another engine's shim, runc or CNI plugins first on PATH (Docker's containerd 1.x shim
    in /usr/bin, say) must not be what the nodes run: each stand-in here fails loudly and
    leaves a mark, and a pod still runs."""
    stand_ins = scratch_state_dir / "stand-ins"
    stand_ins.mkdir()
    marks = scratch_state_dir / "ran"
    for name in STAND_INS:
        script = stand_ins / name
        script.write_text(f"#!/bin/sh\necho {name} >> {marks}\n"
                          f"echo 'stand-in {name} on PATH was run' >&2\nexit 1\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{stand_ins}{os.pathsep}{os.environ['PATH']}")
    settings = _second_cluster(scratch_state_dir, name="fhwpath")
    provider = LocalProvider()
    try:
        status = provider.up(settings, QUIET)
        assert status.kubeconfig is not None
        kubectl = Kubectl(ensure_binaries(components={"kubernetes"})["kubectl"],
                          status.kubeconfig)
        kubectl.apply(pod_manifest("unaffected", "echo ran"))
        assert wait_for_phase(kubectl, "unaffected", {"Succeeded", "Failed"}) == "Succeeded"
    finally:
        provider.down(settings, QUIET)
    assert not marks.exists(), f"stand-ins were run: {marks.read_text()}"
