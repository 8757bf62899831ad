"""Cluster settings, built once when a command starts and passed down as a frozen dataclass.

Nothing here reads the environment at import time: the CLI (with click's `FAKEHW_` env-var
prefix) or a pytest fixture builds a `ClusterSettings` and hands it to a provider. Validation
happens here, so a bad feature gate or node count fails before anything starts.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fakehw.cluster.errors import ClusterConfigError
from fakehw.cluster.versions import Versions

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$")
_GATE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
MAX_NODES = 8
# Debian's runc and containernetworking-plugins: the container runtime's helpers a local
# node uses unless told otherwise. Never looked up on PATH, where another engine's copies
# (Docker's containerd 1.x shim, say) may come first.
DEFAULT_RUNC = Path("/usr/sbin/runc")
DEFAULT_CNI_BIN_DIR = Path("/usr/lib/cni")
# Kinds served only by these groups (DeviceTaintRule in v1alpha3, v1beta* for older drivers).
DRA_RUNTIME_CONFIG = {
    "resource.k8s.io/v1beta1": "true",
    "resource.k8s.io/v1beta2": "true",
}
DRA_ALPHA_RUNTIME_CONFIG = {"resource.k8s.io/v1alpha3": "true"}


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$FAKEHW_STATE_DIR`, else `$XDG_STATE_HOME/fakehw/clusters`, else ~/.local/state/..."""
    env = os.environ if environ is None else environ
    if env.get("FAKEHW_STATE_DIR"):
        return Path(env["FAKEHW_STATE_DIR"]).expanduser()
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "fakehw" / "clusters"


def parse_feature_gates(text: str) -> dict[str, bool]:
    """Parse `Gate=true,Other=false` (the components' own syntax) into a dict."""
    gates: dict[str, bool] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip().lower()
        if not sep or not _GATE.match(name) or value not in ("true", "false"):
            raise ClusterConfigError(
                f"feature gate {item!r} is not of the form Name=true or Name=false "
                "(for example --feature-gates DRAListTypeAttributes=true,DRADerivedAttributes=true)"
            )
        gates[name] = value == "true"
    return gates


def parse_runtime_config(text: str) -> dict[str, str]:
    """Parse `group/version=true,...` as kube-apiserver's --runtime-config does."""
    config: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        if "/" not in key and key != "api/all":
            raise ClusterConfigError(
                f"runtime config {item!r} must name group/version, "
                "e.g. resource.k8s.io/v1beta2=true"
            )
        config[key] = value or "true"
    return config


def parse_hardware_profiles(values: Iterable[str], nodes: int) -> dict[int, str]:
    """``[INDEX=]PROFILE`` options: ``1=numa-mixed`` for one node, ``edge-node`` for every
    node (a later value wins)."""
    chosen: dict[int, str] = {}
    for value in values:
        index, sep, name = value.partition("=")
        if sep and index.isdigit():
            chosen[int(index)] = name
        else:
            chosen.update(dict.fromkeys(range(nodes), value))
    return chosen


def format_map(values: Mapping[str, object]) -> str:
    """`a=true,b=false` in sorted order, as components expect on their command lines."""
    return ",".join(f"{k}={str(v).lower()}" for k, v in sorted(values.items()))


@dataclass(frozen=True)
class ClusterSettings:
    """Everything a provider needs to create one cluster."""

    name: str = "fakehw"
    nodes: int = 1
    feature_gates: Mapping[str, bool] = field(default_factory=dict)
    runtime_config: Mapping[str, str] = field(default_factory=dict)
    state_dir: Path = field(default_factory=default_state_dir)
    cache_dir: Path | None = None
    apiserver_port: int = 6443
    etcd_port: int = 2379
    kubelet_port: int = 10250
    controller_manager_port: int = 10257
    scheduler_port: int = 10259
    # Services (kube-proxy) and cluster DNS (CoreDNS): what a chart's pods need to reach the
    # API server through the `kubernetes` Service. One cluster per host may have them.
    services: bool = False
    kube_proxy_port: int = 10249  # metrics; healthz on port + 7 (upstream's 10249, 10256)
    dns_port: int = 10053  # CoreDNS on the first node's address; health on the next port
    pod_subnet: str = "10.244.0.0/16"
    service_subnet: str = "10.96.0.0/16"
    cdi_spec_dirs: tuple[str, ...] = ("/etc/cdi", "/var/run/cdi")
    hardware_roots: Mapping[int, Path] = field(default_factory=dict)
    hardware_profiles: Mapping[int, str] = field(default_factory=dict)
    runc: Path = DEFAULT_RUNC
    cni_bin_dir: Path = DEFAULT_CNI_BIN_DIR
    versions: Versions = field(default_factory=Versions)
    verbose: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ClusterConfigError(
                f"cluster name {self.name!r} must be 1-32 lowercase letters, digits or '-', "
                "starting and ending with a letter or digit"
            )
        if not 1 <= self.nodes <= MAX_NODES:
            raise ClusterConfigError(f"--nodes {self.nodes}: a cluster has 1 to {MAX_NODES} nodes")
        for purpose, port in self.ports().items():
            if not 1 <= port <= 65535:
                raise ClusterConfigError(f"{purpose} port {port} is not between 1 and 65535")
        try:
            subnet = ipaddress.IPv4Network(self.pod_subnet)
        except ValueError as exc:
            raise ClusterConfigError(f"pod subnet {self.pod_subnet!r}: {exc}; give an IPv4 "
                                     "network such as 10.244.0.0/16") from None
        if subnet.prefixlen > 24 or 2 ** (24 - subnet.prefixlen) < self.nodes:
            raise ClusterConfigError(f"pod subnet {self.pod_subnet} has room for fewer than "
                                     f"{self.nodes} /24 node ranges; use a /16")
        unknown = [i for i in (*self.hardware_roots, *self.hardware_profiles)
                   if not 0 <= i < self.nodes]
        if unknown:
            raise ClusterConfigError(f"hardware given for nodes {unknown} beyond --nodes")
        both = sorted(set(self.hardware_roots) & set(self.hardware_profiles))
        if both:
            raise ClusterConfigError(f"nodes {both} have both --hardware-root and "
                                     "--hardware-profile; give each node one of them")

    @property
    def run_dir(self) -> Path:
        """Where this cluster keeps its state, certificates, data and logs."""
        return self.state_dir / self.name

    def effective_runtime_config(self) -> dict[str, str]:
        """DRA's extra API versions, the alpha group when any gate is enabled, then overrides."""
        config = dict(DRA_RUNTIME_CONFIG)
        if any(self.feature_gates.values()):
            config.update(DRA_ALPHA_RUNTIME_CONFIG)
        config.update(self.runtime_config)
        return config

    def ports(self) -> dict[str, int]:
        """Every TCP port on this host the cluster listens on, named by purpose."""
        ports = {
            "etcd client": self.etcd_port,
            "etcd peer": self.etcd_port + 1,
            "kube-apiserver": self.apiserver_port,
            "kube-controller-manager": self.controller_manager_port,
            "kube-scheduler": self.scheduler_port,
        }
        if self.services:
            ports.update({"kube-proxy metrics": self.kube_proxy_port,
                          "kube-proxy healthz": self.kube_proxy_port + 7,
                          "CoreDNS": self.dns_port, "CoreDNS health": self.dns_port + 1})
        for index in range(self.nodes):
            ports[f"kubelet {index}"] = self.kubelet_port + 10 * index
            ports[f"kubelet {index} healthz"] = self.kubelet_port + 10 * index + 1
        return ports
