"""A local cluster with Services, cluster DNS and each node's own paths, as a chart needs it.

The module starts its own two-node cluster with `services=True` (the session cluster has no
Services: one cluster per host may run kube-proxy) and stops it in its last test.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from fakehw.cluster.binaries import ensure_binaries
from fakehw.cluster.errors import HostError
from fakehw.cluster.images import WORKLOAD_IMAGE, write_oci_archive
from fakehw.cluster.images.python import python_image
from fakehw.cluster.kubectl import Kubectl
from fakehw.cluster.local import nodepaths, services
from fakehw.cluster.local.layout import ClusterLayout
from fakehw.cluster.providers.local import LocalProvider
from fakehw.cluster.settings import ClusterSettings
from hack.conformancejob.commands import with_camera_port
from hack.conformancejob.job import hardware_profile_text
from hack.conformancejob.pods import driver_program
from tests.cluster.helpers import mounts_mentioning, processes_mentioning, wait_for_phase

pytestmark = pytest.mark.cluster

QUIET = Console(quiet=True)
DEPLOY = Path(__file__).parents[2] / "drivers" / "deploy"


@dataclasses.dataclass(frozen=True)
class Cluster:
    settings: ClusterSettings
    layout: ClusterLayout
    kubectl: Kubectl


def _settings(state_dir: Path, **overrides: object) -> ClusterSettings:
    values: dict[str, object] = {
        "name": "fhwsvc", "state_dir": state_dir, "nodes": 2, "services": True,
        "apiserver_port": 6743, "etcd_port": 2679, "kubelet_port": 10550,
        "controller_manager_port": 10557, "scheduler_port": 10559, "kube_proxy_port": 10549,
        "dns_port": 10553, "pod_subnet": "10.247.0.0/16",
        "hardware_profiles": {1: "numa-mixed"},
    }
    values.update(overrides)
    return ClusterSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    state_dir = tmp_path_factory.mktemp("services-state")
    # the edge node, its camera on any free port (the session cluster's has 8554)
    edge = state_dir / "edge-node.yaml"
    edge.write_text(with_camera_port(hardware_profile_text("edge-node"), 0))
    settings = _settings(state_dir, hardware_profiles={0: str(edge), 1: "numa-mixed"})
    provider = LocalProvider()
    try:
        status = provider.up(settings, QUIET)
        assert status.kubeconfig is not None
        kubectl = Kubectl(ensure_binaries(components={"kubernetes"})["kubectl"],
                          status.kubeconfig)
        yield Cluster(settings, ClusterLayout(settings), kubectl)
    finally:
        provider.down(settings, QUIET)


def _pod(name: str, node: str | None, command: str,
         volumes: dict[str, str] | None = None) -> str:
    mounts = [{"name": v, "mountPath": f"/mnt/{v}"} for v in volumes or {}]
    spec: dict[str, object] = {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
        "containers": [{"name": "main", "image": WORKLOAD_IMAGE, "imagePullPolicy": "Never",
                        "command": ["sh", "-c", command], "volumeMounts": mounts}],
        "volumes": [{"name": v, "hostPath": {"path": p}} for v, p in (volumes or {}).items()],
    }
    if node:
        spec["nodeName"] = node
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": spec})


def _run(kubectl: Kubectl, name: str, manifest: str) -> str:
    """Run a pod to completion; its log (it must succeed)."""
    kubectl.apply(manifest)
    try:
        phase = wait_for_phase(kubectl, name, {"Succeeded", "Failed"})
        log = kubectl.run(["logs", name]).stdout
        assert phase == "Succeeded", log
        return log
    finally:
        kubectl.run(["delete", "pod", name, "--wait=false"], check=False)


def test_pods_on_every_node_find_the_api_server_by_name(cluster: Cluster) -> None:
    """Cluster DNS answers kubernetes.default.svc with the Service's ClusterIP, and a TCP
    connection to it reaches the API server (through kube-proxy's DNAT to its endpoint)."""
    for node in cluster.layout.nodes:
        log = _run(cluster.kubectl, f"dns-{node.index}", _pod(
            f"dns-{node.index}", node.name,
            "nslookup kubernetes.default.svc.cluster.local && "
            "grep nameserver /etc/resolv.conf && "
            "nc -w 3 kubernetes.default.svc 443 </dev/null && echo connected"))
        assert "Address: 10.96.0.1" in log
        assert f"nameserver {services.dns_service_ip(cluster.layout)}" in log
        assert log.rstrip().endswith("connected")


def test_an_unknown_name_is_not_forwarded(cluster: Cluster) -> None:
    node = cluster.layout.nodes[0]
    log = _run(cluster.kubectl, "nxdomain", _pod(
        "nxdomain", node.name, "nslookup example.org 2>&1; echo rc=$?"))
    assert "rc=1" in log, log


def test_pods_reach_each_other_across_nodes(cluster: Cluster) -> None:
    first, second = cluster.layout.nodes
    kubectl = cluster.kubectl
    kubectl.apply(_pod("server", second.name,
                       "echo served-by-$(hostname) > /tmp/index.html && "
                       "httpd -f -p 8080 -h /tmp"))
    try:
        assert wait_for_phase(kubectl, "server", {"Running"}) == "Running"
        ip = kubectl.run(["get", "pod", "server", "-o", "jsonpath={.status.podIP}"]).stdout
        assert ip.startswith("10.247.1.")
        log = _run(kubectl, "client", _pod(
            "client", first.name, f"wget -q -O- http://{ip}:8080/index.html"))
        assert log.strip() == "served-by-server"
    finally:
        kubectl.run(["delete", "pod", "server", "--wait=false"], check=False)


PATHS = {"pci": "/sys/bus/pci/devices", "registry": "/var/lib/kubelet/plugins_registry",
         "cdi": "/var/run/cdi", "etc": "/etc/ssl"}


def _daemonset() -> str:
    mounts = [{"name": v, "mountPath": f"/mnt/{v}"} for v in PATHS]
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "paths"},
        "spec": {"selector": {"matchLabels": {"app": "paths"}}, "template": {
            "metadata": {"labels": {"app": "paths"}},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                "name": "main", "image": WORKLOAD_IMAGE, "imagePullPolicy": "Never",
                "command": ["sh", "-c", "ls /mnt/pci; sleep 600"], "volumeMounts": mounts}],
                "volumes": [{"name": v, "hostPath": {"path": p}} for v, p in PATHS.items()]}}}})


def test_a_daemonsets_host_paths_are_each_nodes_own(cluster: Cluster) -> None:
    """The policy's CEL gives what nodepaths.map_path says, and each pod lists its own node's
    PCI devices."""
    kubectl = cluster.kubectl
    kubectl.apply(_daemonset())
    try:
        deadline = time.monotonic() + 90
        pods: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            pods = kubectl.json(["get", "pods", "-l", "app=paths"])["items"]
            if len(pods) == 2 and all(p["status"].get("phase") == "Running" for p in pods):  # type: ignore[attr-defined]
                break
            time.sleep(0.5)
        assert len(pods) == 2
        for node in cluster.layout.nodes:
            pod = next(p for p in pods if p["spec"]["nodeName"] == node.name)  # type: ignore[index]
            volumes = {v["name"]: v["hostPath"]["path"]  # type: ignore[index]
                       for v in pod["spec"]["volumes"] if "hostPath" in v}  # type: ignore[index]
            assert volumes == {v: nodepaths.map_path(node, p) for v, p in PATHS.items()}
            assert volumes["etc"] == "/etc/ssl"
            assert node.hardware_root is not None
            listed = kubectl.run(["logs", pod["metadata"]["name"]]).stdout.split()  # type: ignore[index]
            own = sorted(p.name for p in (node.hardware_root / PATHS["pci"][1:]).iterdir())
            assert listed == own
    finally:
        kubectl.run(["delete", "daemonset", "paths", "--wait=false"], check=False)


def test_a_pod_left_to_the_scheduler_keeps_its_paths(cluster: Cluster) -> None:
    kubectl = cluster.kubectl
    kubectl.apply(_pod("unbound", None, "true", {"pci": PATHS["pci"]}))
    try:
        volumes = kubectl.json(["get", "pod", "unbound"])["spec"]["volumes"]
        assert {"name": "pci", "hostPath": {"path": PATHS["pci"], "type": ""}} in volumes
    finally:
        kubectl.run(["delete", "pod", "unbound", "--wait=false"], check=False)


def _reference_image(directory: Path) -> Path:
    """The reference driver's image under the name its manifests give (dra-reference:dev)."""
    program = driver_program(importlib.metadata.version("fakehw"))
    archive = directory / "dra-reference.tar"
    write_oci_archive(python_image(dataclasses.replace(
        program, name="docker.io/library/dra-reference:dev")), archive)
    return archive


def test_the_reference_driver_runs_from_its_chart_unchanged(
    cluster: Cluster, tmp_path: Path
) -> None:
    """drivers/deploy/helm/dra-reference installed with the real helm and no values: one
    DaemonSet, in-cluster configuration through the `kubernetes` Service, no host network;
    each node publishes its own tree's devices, and a claim's device node reaches a container
    through that node's CDI folder."""
    LocalProvider().load_image(cluster.settings, _reference_image(tmp_path), QUIET)
    kubectl = cluster.kubectl
    helm = [str(ensure_binaries(components={"helm"})["helm"]),
            f"--kubeconfig={kubectl.kubeconfig}"]
    subprocess.run([*helm, "install", "dra-reference", str(DEPLOY / "helm/dra-reference"),
                    "--namespace", "dra-reference", "--create-namespace"], check=True,
                   capture_output=True)
    try:
        trees = {node.name: node.hardware_root for node in cluster.layout.nodes}
        published = _wait_for_node_slices(kubectl, set(trees))
        for node, addresses in published.items():
            functions, gpus = _pci_functions(trees[node])
            assert gpus <= addresses <= functions, node
        pods = kubectl.json(["get", "pods", "-n", "dra-reference"])["items"]
        assert all(not p["spec"].get("hostNetwork") for p in pods)
        assert all("KUBERNETES_SERVICE_HOST" not in json.dumps(p["spec"]["containers"])
                   for p in pods)
        _claim_reaches_a_container(kubectl, cluster.layout.nodes[1].name)
    finally:
        subprocess.run([*helm, "uninstall", "dra-reference", "--namespace", "dra-reference",
                        "--wait", "--timeout", "60s"], check=False, capture_output=True)


def _pci_functions(root: Path | None) -> tuple[set[str], set[str]]:
    """Every PCI function of a node's tree, and its display controllers (GPUs)."""
    assert root is not None
    devices = root / "sys/bus/pci/devices"
    functions = {p.name for p in devices.iterdir()}
    return functions, {f for f in functions
                       if (devices / f / "class").read_text().startswith("0x03")}


def _wait_for_node_slices(kubectl: Kubectl, nodes: set[str]) -> dict[str, set[str]]:
    deadline = time.monotonic() + 120
    found: dict[str, set[str]] = {}
    while time.monotonic() < deadline:
        found = {}
        for item in kubectl.json(["get", "resourceslices"])["items"]:
            node = item["spec"].get("nodeName")
            if item["spec"]["driver"] == "dra.fakehw.dev" and node:
                found.setdefault(node, set()).update(
                    d["attributes"]["pciAddress"]["string"] for d in item["spec"]["devices"]
                    if "pciAddress" in d.get("attributes", {}))
        if set(found) == nodes:
            return found
        time.sleep(1)
    logs = kubectl.run(["logs", "-n", "dra-reference", "-l",
                        "app.kubernetes.io/component=kubelet-plugin", "--tail=20"],
                       check=False).stdout
    raise AssertionError(f"slices of {sorted(found)} only, not {sorted(nodes)}:\n{logs}")


def _claim_reaches_a_container(kubectl: Kubectl, node: str) -> None:
    kubectl.apply(json.dumps({
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
        "metadata": {"name": "gpu"}, "spec": {"devices": {"requests": [
            {"name": "gpu", "exactly": {"deviceClassName": "gpu.dra.fakehw.dev"}}]}}}))
    # placed by the scheduler (which allocates the claim), not by nodeName
    manifest = json.loads(_pod("gpu-user", None, "ls /dev/dri; env | grep ^FAKEHW_GPU"))
    manifest["spec"]["nodeSelector"] = {"kubernetes.io/hostname": node}
    manifest["spec"]["resourceClaims"] = [{"name": "gpu", "resourceClaimName": "gpu"}]
    manifest["spec"]["containers"][0]["resources"] = {"claims": [{"name": "gpu"}]}
    try:
        log = _run(kubectl, "gpu-user", json.dumps(manifest))
        assert "card" in log, log
        assert "FAKEHW_GPU_DEVICES=gpu-" in log, log
    finally:
        kubectl.run(["delete", "resourceclaim", "gpu", "--wait=true", "--timeout=60s"],
                    check=False)


def test_a_second_cluster_with_services_is_refused(cluster: Cluster) -> None:
    state_dir = Path(tempfile.mkdtemp(prefix="fhw"))  # short: socket paths must fit
    second = _settings(state_dir, name="fhwsvc2", apiserver_port=6843, etcd_port=2779,
                       kubelet_port=10650, controller_manager_port=10657,
                       scheduler_port=10659, kube_proxy_port=10649, dns_port=10653,
                       pod_subnet="10.248.0.0/16", hardware_profiles={})
    try:
        with pytest.raises(HostError, match="kube-proxy's tables have fixed names"):
            LocalProvider().up(second, QUIET)
        assert not processes_mentioning(str(second.run_dir))
        assert not Path("/sys/class/net", ClusterLayout(second).nodes[0].bridge).exists()
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def test_down_removes_kube_proxys_tables_and_the_kubelets_mounts(cluster: Cluster) -> None:
    """The last test: stops the module's cluster."""
    assert services.kube_proxy_tables() == list(services.KUBE_PROXY_TABLES)
    assert LocalProvider().down(cluster.settings, QUIET) is True
    assert services.kube_proxy_tables() == []
    for node in cluster.layout.nodes:
        assert not mounts_mentioning(str(node.kubelet_dir))
    assert not processes_mentioning(str(cluster.settings.run_dir))
    done = subprocess.run(["ip", "route", "show", "10.247.0.0/16"], capture_output=True,
                          text=True, check=False)
    assert done.stdout == ""
