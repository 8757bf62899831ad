"""The work of `up` before any node exists: host checks, files, and the control plane.

Each step of `up` is one small method, of `Creation` here or of `NodeCreation`
(node_actions.py); plan.py lists them in order. Every process and kernel object is recorded
in the state file as soon as it exists, so a failed `up` can be undone by `down`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from fakehw.cluster.binaries import BinarySet, ensure_binaries
from fakehw.cluster.binaries.toolchain import GIB, check_disk
from fakehw.cluster.errors import ClusterConfigError
from fakehw.cluster.kubectl import Kubectl
from fakehw.cluster.local import components, configs, host, leftovers, nodepaths, pki, services
from fakehw.cluster.local.health import http_ok
from fakehw.cluster.local.identities import certificate_requests, kubeconfig_users
from fakehw.cluster.local.layout import UNIX_PATH_MAX, ClusterLayout
from fakehw.cluster.local.processes import ProcessRecord, spawn, wait_ready
from fakehw.cluster.local.state import ClusterState
from fakehw.cluster.settings import ClusterSettings, format_map

CNI_PLUGINS = ("bridge", "host-local", "loopback")


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
        self.tools = host.require_tools(["ip"])
        self.tools["runc"] = host.require_runc(self.settings.runc)
        host.require_cni_plugins(self.settings.cni_bin_dir, CNI_PLUGINS)
        socket_path = self.layout.longest_socket()
        if len(str(socket_path)) > UNIX_PATH_MAX:
            raise ClusterConfigError(
                f"socket path {socket_path} is longer than {UNIX_PATH_MAX} bytes; "
                "use a shorter FAKEHW_STATE_DIR or cluster name")
        host.check_ports(self.settings.ports())
        if self.settings.services:
            services.require_nft()
            services.require_no_kube_proxy(services.owner(self.settings.state_dir))
        check_disk(self.layout.run_dir, 2 * GIB, "a local cluster")

    def find_binaries(self) -> None:
        components = {"kubernetes", "etcd", "containerd", "pause"}
        if self.settings.services:
            components |= {"kube-proxy", "coredns"}
        self.binaries = ensure_binaries(
            versions=self.settings.versions, cache_root=self.settings.cache_dir,
            console=self.console, components=components)

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
                          self.layout.etcd_dir, self.layout.log_dir, self.layout.image_dir,
                          self.layout.config_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.layout.etcd_dir.chmod(0o700)
        self.state.directories.extend(str(node.kubelet_dir) for node in self.layout.nodes)
        self.state.save()  # before making them, so that `down` finds them after a failure
        for node in self.layout.nodes:
            for directory in (node.containerd_dir, node.kubelet_dir, node.cni_conf_dir,
                              node.cni_data_dir, node.cdi_dir):
                directory.mkdir(parents=True, exist_ok=True)
        self.state.facts.update(
            run_dir=str(self.layout.run_dir), provider="local",
            kubeconfig=str(self.layout.kubeconfig),
            created_host_paths=leftovers.absent_host_paths(),
            services=self.settings.services,
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
        server = f"https://{services.apiserver_host(self.layout)}:{self.settings.apiserver_port}"
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
        url = f"https://{services.apiserver_host(self.layout)}:{self.settings.apiserver_port}/readyz"
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

    # -- what every node's pods rely on -------------------------------------------------

    def apply_node_paths(self) -> None:
        """The hostPath mapping of nodepaths.py (its CEL is checked by the API server here)."""
        self.kubectl().apply(nodepaths.manifest(self.layout))

    def start_kube_proxy(self) -> None:
        kubeconfig = str(self.layout.kubeconfig_dir / "kube-proxy")
        (self.layout.config_dir / "kube-proxy.yaml").write_text(
            services.kube_proxy_config(self.layout, kubeconfig))
        self.state.facts["kube_proxy_tables"] = list(services.KUBE_PROXY_TABLES)
        record = self._start("kube-proxy", components.kube_proxy(self.layout, self.binaries))
        url = f"http://127.0.0.1:{self.settings.kube_proxy_port + 7}/livez"
        wait_ready(record, lambda: http_ok(url), 60, "healthy")

    def start_coredns(self) -> None:
        self.kubectl().apply(services.manifest(self.layout))
        kubeconfig = str(self.layout.kubeconfig_dir / "coredns")
        (self.layout.config_dir / "Corefile").write_text(
            services.corefile(self.layout, kubeconfig))
        record = self._start("coredns", components.coredns(self.layout, self.binaries))
        url = f"http://127.0.0.1:{self.settings.dns_port + 1}/health"
        wait_ready(record, lambda: http_ok(url), 60, "healthy")
