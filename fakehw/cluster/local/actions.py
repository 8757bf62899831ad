"""The steps of `up` for the local provider, in order (kind's create/actions, as functions).

Each step is one small method of `Creation` and is listed by `creation_steps`, so the order is
readable in one place and a failure names its step. Every process and kernel object is
recorded in the state file as soon as it exists, so a failed `up` can be undone by `down`.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from rich.console import Console

from fakehw.cluster.binaries import BinarySet, ensure_binaries
from fakehw.cluster.binaries.toolchain import GIB, check_disk
from fakehw.cluster.errors import ClusterConfigError, ClusterError, ComponentError, HostError
from fakehw.cluster.images import pause_image, workload_image, write_oci_archive
from fakehw.cluster.kubectl import Kubectl
from fakehw.cluster.local import components, configs, host, leftovers, pki
from fakehw.cluster.local.health import http_ok
from fakehw.cluster.local.identities import certificate_requests, kubeconfig_users
from fakehw.cluster.local.layout import UNIX_PATH_MAX, ClusterLayout, NodeLayout
from fakehw.cluster.local.processes import ProcessRecord, spawn, wait_ready
from fakehw.cluster.local.state import ClusterState
from fakehw.cluster.settings import ClusterSettings, format_map
from fakehw.cluster.steps import Step

CNI_PLUGINS = ("bridge", "host-local", "loopback")
CNI_DIRS = ("/usr/lib/cni", "/opt/cni/bin")


@dataclass
class Creation:
    """The work of one `up`: layout, state being recorded, binaries and tools found."""

    layout: ClusterLayout
    console: Console
    state: ClusterState
    binaries: BinarySet = field(default_factory=BinarySet)
    tools: dict[str, Path] = field(default_factory=dict)

    @property
    def settings(self) -> ClusterSettings:
        return self.layout.settings

    def kubectl(self) -> Kubectl:
        return Kubectl(self.binaries["kubectl"], self.layout.kubeconfig)

    # -- checks and files -------------------------------------------------------------

    def preflight(self) -> None:
        host.require_root()
        self.tools = host.require_tools(["runc", "ip"])
        host.require_cni_plugins(CNI_DIRS, CNI_PLUGINS)
        socket_path = self.layout.longest_socket()
        if len(str(socket_path)) > UNIX_PATH_MAX:
            raise ClusterConfigError(
                f"socket path {socket_path} is longer than {UNIX_PATH_MAX} bytes; "
                "use a shorter FAKEHW_STATE_DIR or cluster name")
        host.check_ports(self.settings.ports())
        check_disk(self.layout.run_dir, 2 * GIB, "a local cluster")

    def find_binaries(self) -> None:
        self.binaries = ensure_binaries(
            versions=self.settings.versions, cache_root=self.settings.cache_dir,
            console=self.console)

    def check_feature_gates(self) -> None:
        """Let the API server judge the gates (it knows them all) before anything starts."""
        if not self.settings.feature_gates:
            return
        flag = f"--feature-gates={format_map(self.settings.feature_gates)}"
        done = subprocess.run([str(self.binaries["kube-apiserver"]), flag, "--version"],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            message = (done.stderr.strip().splitlines() or ["rejected"])[0]
            raise ClusterConfigError(
                f"kube-apiserver {self.settings.versions.kubernetes} rejects {flag}: "
                f"{message}; list the known gates with `kube-apiserver -h | grep -A200 "
                "feature-gates`")

    def prepare_directories(self) -> None:
        for directory in (self.layout.pki_dir, self.layout.kubeconfig_dir,
                          self.layout.etcd_dir, self.layout.log_dir, self.layout.image_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.layout.etcd_dir.chmod(0o700)
        for node in self.layout.nodes:
            for directory in (node.containerd_dir, node.kubelet_dir, node.cni_conf_dir,
                              node.cni_data_dir):
                directory.mkdir(parents=True, exist_ok=True)
        self.state.facts.update(
            run_dir=str(self.layout.run_dir), provider="local",
            kubeconfig=str(self.layout.kubeconfig),
            created_host_paths=leftovers.absent_host_paths(),
            cni_networks=[configs.cni_network_name(n) for n in self.layout.nodes])
        self.state.save()

    def write_certificates(self) -> None:
        authority = pki.new_authority(f"fakehw-{self.settings.name}-ca")
        pki.write_pair(self.layout.pki_dir, "ca", authority.key, authority.certificate)
        for request in certificate_requests(self.layout):
            key, certificate = pki.issue(authority, request)
            pki.write_pair(self.layout.pki_dir, request.name, key, certificate)
        pki.write_service_account_keys(self.layout.pki_dir)

    def write_kubeconfigs(self) -> None:
        ca = (self.layout.pki_dir / "ca.crt").read_bytes()
        server = f"https://127.0.0.1:{self.settings.apiserver_port}"
        for name, cert in kubeconfig_users(self.layout).items():
            text = configs.kubeconfig(
                self.settings.name, server, ca, user=cert,
                cert=self.layout.pki_dir / f"{cert}.crt", key=self.layout.pki_dir / f"{cert}.key")
            (self.layout.kubeconfig_dir / name).write_text(text)
        self.layout.kubeconfig.write_text((self.layout.kubeconfig_dir / "admin").read_text())
        self.layout.kubeconfig.chmod(0o600)

    # -- control plane ----------------------------------------------------------------

    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None
               ) -> ProcessRecord:
        log = self.layout.log(name)
        log.write_text(f"# {' '.join(argv)}\n")
        record = spawn(name, argv, log, env)
        self.state.add_process(record)
        return record

    def start_etcd(self) -> None:
        record = self._start("etcd", components.etcd(self.layout, self.binaries))
        url = f"http://127.0.0.1:{self.settings.etcd_port}/health"
        wait_ready(record, lambda: http_ok(url), 60, "healthy")

    def start_apiserver(self) -> None:
        record = self._start("kube-apiserver",
                             components.kube_apiserver(self.layout, self.binaries))
        url = f"https://127.0.0.1:{self.settings.apiserver_port}/readyz"
        ca = self.layout.pki_dir / "ca.crt"
        wait_ready(record, lambda: http_ok(url, ca), 120, "ready")

    def start_controllers(self) -> None:
        s = self.settings
        manager = self._start("kube-controller-manager",
                              components.kube_controller_manager(self.layout, self.binaries))
        scheduler = self._start("kube-scheduler",
                                components.kube_scheduler(self.layout, self.binaries))
        wait_ready(manager, lambda: http_ok(
            f"https://127.0.0.1:{s.controller_manager_port}/healthz"), 60, "healthy")
        wait_ready(scheduler, lambda: http_ok(
            f"https://127.0.0.1:{s.scheduler_port}/healthz"), 60, "healthy")

    # -- nodes ------------------------------------------------------------------------

    def node_environment(self, node: NodeLayout) -> dict[str, str]:
        """The node's processes see its fake-hardware root (if any) as FAKEHW_HARDWARE_ROOT."""
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([env.get("PATH", ""), "/usr/sbin", "/sbin"])
        if node.hardware_root is not None:
            env["FAKEHW_HARDWARE_ROOT"] = str(node.hardware_root)
        return env

    def create_network(self, node: NodeLayout) -> None:
        self.state.bridges.append(node.bridge)
        self.state.directories.append(str(node.shim_socket_dir))
        self.state.save()
        node.shim_socket_dir.mkdir(parents=True, exist_ok=True)
        host.create_bridge(node.bridge, node.node_ip, node.pod_subnet.prefixlen)
        (node.cni_conf_dir / "10-fakehw.conflist").write_text(configs.cni_conflist(node))

    def create_cgroups(self, node: NodeLayout) -> None:
        if not host.is_cgroup_v1():
            self.console.print("[dim]cgroup v2 host: failCgroupV1 is irrelevant here[/]")
        self.state.cgroups.append(node.cgroup_root)
        self.state.save()
        host.create_cgroup_root(node.cgroup_root)

    def start_containerd(self, node: NodeLayout) -> None:
        config = node.containerd_dir / "config.toml"
        config.write_text(configs.containerd_config(self.layout, node, self.tools["runc"]))
        record = self._start(f"containerd-{node.index}",
                             components.containerd(node, self.binaries, str(config)),
                             self.node_environment(node))
        wait_ready(record, lambda: self._ctr(node, ["version"], check=False) == 0, 60, "serving")
        self._require_cri(node, record)

    def _require_cri(self, node: NodeLayout, record: ProcessRecord) -> None:
        """containerd serves even when its CRI plugin failed to load; the kubelet would not."""
        argv = [str(self.binaries["ctr"]), f"--address={node.containerd_socket}", "plugins", "ls"]
        listing = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
        cri = [line.split() for line in listing.splitlines() if " cri " in f" {line} "]
        if not any(f[0] == "io.containerd.grpc.v1" and f[-1] == "ok" for f in cri):
            problems = [line for line in Path(record.log).read_text().splitlines()
                        if "failed to load plugin" in line]
            raise ComponentError(record.name, "its CRI plugin did not load",
                                 "\n".join(problems[-5:]))

    def _ctr(self, node: NodeLayout, args: list[str], check: bool = True) -> int:
        argv = [str(self.binaries["ctr"]), f"--address={node.containerd_socket}",
                "--namespace=k8s.io", *args]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise HostError(f"`ctr {' '.join(args)}` failed on {node.name}: "
                            f"{done.stderr.strip()}")
        return done.returncode

    def write_images(self) -> None:
        write_oci_archive(pause_image(self.binaries["pause"]),
                          self.layout.image_dir / "pause.tar")
        write_oci_archive(workload_image(), self.layout.image_dir / "workload.tar")

    def import_images(self, node: NodeLayout) -> None:
        pause = str(self.layout.image_dir / "pause.tar")
        self._ctr(node, ["images", "import", "--label", "io.cri-containerd.pinned=pinned",
                         pause])
        self._ctr(node, ["images", "import", str(self.layout.image_dir / "workload.tar")])

    def start_kubelet(self, node: NodeLayout) -> None:
        (node.root / "kubelet-config.yaml").write_text(configs.kubelet_config(self.layout, node))
        record = self._start(f"kubelet-{node.index}",
                             components.kubelet(self.layout, node, self.binaries),
                             self.node_environment(node))
        self.state.nodes.append({
            "name": node.name, "index": node.index, "ip": node.node_ip,
            "kubelet_dir": str(node.kubelet_dir), "containerd_socket": str(node.containerd_socket),
            "hardware_root": str(node.hardware_root) if node.hardware_root else None,
        })
        self.state.save()
        url = f"http://127.0.0.1:{node.kubelet_healthz_port}/healthz"
        wait_ready(record, lambda: http_ok(url), 60, "healthy")

    def wait_nodes_ready(self) -> None:
        kubectl = self.kubectl()
        for node in self.layout.nodes:
            record = self.state.process(f"kubelet-{node.index}")
            if record is None:
                raise ClusterError(f"no kubelet recorded for {node.name}")
            wait_ready(record, partial(_node_ready, kubectl, node.name), 120, "Ready")

    def wait_default_service_account(self) -> None:
        kubectl = self.kubectl()
        record = self.state.process("kube-controller-manager")
        if record is None:
            raise ClusterError("no kube-controller-manager recorded")
        wait_ready(record, lambda: kubectl.run(
            ["get", "serviceaccount", "default", "-n", "default"], check=False
        ).returncode == 0, 60, "creating the default service account")

    def record_up(self) -> None:
        self.state.facts["ready"] = True
        self.state.save()


def _node_ready(kubectl: Kubectl, name: str) -> bool:
    done = kubectl.run(["get", "node", name, "-o",
                        "jsonpath={.status.conditions[?(@.type=='Ready')].status}"], check=False)
    return done.returncode == 0 and done.stdout.strip() == "True"


def creation_steps(c: Creation) -> list[Step]:
    """The ordered steps of `up` for the local provider."""
    nodes = c.layout.nodes
    steps = [
        Step("check the host (root, runc, CNI plugins, free ports, disk)", c.preflight),
        Step("find or build the binaries", c.find_binaries),
        Step("check the feature gates", c.check_feature_gates),
        Step(f"prepare {c.layout.run_dir}", c.prepare_directories),
        Step("write certificates and service-account keys", c.write_certificates),
        Step("write kubeconfigs", c.write_kubeconfigs),
        Step("write the pause and workload images", c.write_images),
    ]
    for node in nodes:
        steps += [
            Step(f"{node.name}: create bridge {node.bridge} ({node.node_ip})",
                 partial(c.create_network, node)),
            Step(f"{node.name}: create cgroup root {node.cgroup_root}",
                 partial(c.create_cgroups, node)),
        ]
    steps += [
        Step("start etcd", c.start_etcd),
        Step("start kube-apiserver", c.start_apiserver),
        Step("start kube-controller-manager and kube-scheduler", c.start_controllers),
    ]
    for node in nodes:
        steps += [
            Step(f"{node.name}: start containerd", partial(c.start_containerd, node)),
            Step(f"{node.name}: import images", partial(c.import_images, node)),
            Step(f"{node.name}: start kubelet", partial(c.start_kubelet, node)),
        ]
    steps += [
        Step("wait for every node to be Ready", c.wait_nodes_ready),
        Step("wait for the default service account", c.wait_default_service_account),
        Step("record the cluster as up", c.record_up),
    ]
    return steps

