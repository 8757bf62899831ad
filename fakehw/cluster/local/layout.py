"""Where a local cluster keeps its files, and the names and addresses of its nodes.

Everything a cluster writes lives under its run directory, so `down` can find and remove it;
the only things outside are the kernel objects it creates (a bridge per node, cgroups under a
root named for the project), the CDI spec directories it reads, and two per-node directories
whose paths must be short: containerd's shim sockets under /run/fakehw/ (containerd allows 42
characters) and the kubelet's root under /var/lib/fakehw/. A DRA driver registers with a
socket in the kubelet's plugins_registry/ whose name is usually `<driver>-<pod UID>-reg.sock`
(60 characters for a 20-character driver name); under /var/lib/fakehw/<8 hex>/ that fits the
107 bytes of a unix socket address, under a state directory in a home folder it would not.

    <run>/state.json              what is running (pids, ports); its presence means "up"
    <run>/kubeconfig              admin kubeconfig for the user
    <run>/pki/                    CA, serving and client certificates, service-account keys
    <run>/etcd/                   etcd data
    <run>/logs/<component>.log    one log per process
    <run>/images/                 OCI archives imported into each containerd
    <run>/nodes/<node>/           containerd root/state/socket, CNI config, CDI specs, hardware
    /var/lib/fakehw/<hash>/       a node's kubelet root (the hash of <run>/nodes/<node>)
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from fakehw.cluster.settings import ClusterSettings

UNIX_PATH_MAX = 107
# Outside the run directory because containerd limits the shim socket directory's length.
SHIM_SOCKET_ROOT = Path("/run/fakehw")
# Outside it too, so plugin sockets named with a pod UID fit in the kubelet's directories.
KUBELET_ROOT = Path("/var/lib/fakehw")


@dataclass(frozen=True)
class NodeLayout:
    """One node: its name, index, directories, ports and network."""

    cluster: str
    index: int
    root: Path
    settings: ClusterSettings

    @property
    def name(self) -> str:
        """kind's naming: `<cluster>-control-plane`, `<cluster>-worker`, `<cluster>-worker2`."""
        if self.index == 0:
            return f"{self.cluster}-control-plane"
        return f"{self.cluster}-worker" + (str(self.index) if self.index > 1 else "")

    @property
    def containerd_dir(self) -> Path:
        return self.root / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_dir / "containerd.sock"

    @property
    def kubelet_dir(self) -> Path:
        """The kubelet's --root-dir; DRA plugins register in its plugins_registry/. Named by
        a hash of the node's folder: unique per node and state directory, and short."""
        return KUBELET_ROOT / hashlib.sha256(str(self.root).encode()).hexdigest()[:8]

    @property
    def cdi_dir(self) -> Path:
        """CDI specs of this node only, read by its containerd after the shared directories:
        host-process DRA drivers of different nodes (and clusters) on one host each write
        here, so one driver's cleanup of "its" spec files never removes another node's."""
        return self.root / "cdi"

    @property
    def cni_conf_dir(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def cni_data_dir(self) -> Path:
        return self.root / "cni" / "ipam"

    @property
    def shim_socket_dir(self) -> Path:
        """containerd's shim sockets; containerd allows at most 42 characters for this path."""
        digest = hashlib.sha256(self.cluster.encode()).hexdigest()[:8]
        return SHIM_SOCKET_ROOT / f"{digest}-{self.index}"

    @property
    def kubelet_port(self) -> int:
        return self.settings.kubelet_port + 10 * self.index

    @property
    def kubelet_healthz_port(self) -> int:
        return self.kubelet_port + 1

    @property
    def bridge(self) -> str:
        """A Linux interface name (<= 15 chars) unique to this cluster and node."""
        digest = hashlib.sha256(self.cluster.encode()).hexdigest()[:6]
        return f"fhw{digest}n{self.index}"

    @cached_property
    def pod_subnet(self) -> ipaddress.IPv4Network:
        """The index-th /24 of the cluster's pod subnet."""
        network = ipaddress.IPv4Network(self.settings.pod_subnet)
        return list(network.subnets(new_prefix=24))[self.index]

    @property
    def node_ip(self) -> str:
        """The bridge's address: the node's InternalIP and the pods' gateway."""
        return str(self.pod_subnet.network_address + 1)

    @property
    def cgroup_root(self) -> str:
        """The kubelet's cgroupRoot; every pod cgroup of this node is created below it."""
        return f"/fakehw-{self.cluster}-{self.index}"

    @property
    def hardware_root(self) -> Path | None:
        """The node's fake-hardware tree: one given, or one `up` makes from a profile."""
        if self.index in self.settings.hardware_profiles:
            return self.root / "hardware"
        return self.settings.hardware_roots.get(self.index)


@dataclass(frozen=True)
class ClusterLayout:
    """All paths of one cluster."""

    settings: ClusterSettings

    @property
    def run_dir(self) -> Path:
        return self.settings.run_dir

    @property
    def state_file(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def kubeconfig(self) -> Path:
        return self.run_dir / "kubeconfig"

    @property
    def pki_dir(self) -> Path:
        return self.run_dir / "pki"

    @property
    def kubeconfig_dir(self) -> Path:
        return self.run_dir / "kubeconfigs"

    @property
    def etcd_dir(self) -> Path:
        return self.run_dir / "etcd"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def image_dir(self) -> Path:
        return self.run_dir / "images"

    @property
    def config_dir(self) -> Path:
        return self.run_dir / "config"

    def log(self, component: str) -> Path:
        """The log file of one process, e.g. logs/kubelet-fakehw-worker.log."""
        return self.log_dir / f"{component}.log"

    @cached_property
    def nodes(self) -> tuple[NodeLayout, ...]:
        return tuple(
            NodeLayout(self.settings.name, i, self.run_dir / "nodes" / str(i), self.settings)
            for i in range(self.settings.nodes)
        )

    def longest_socket(self) -> Path:
        """The longest unix socket path containerd will create (its ttrpc socket)."""
        return max((n.containerd_socket.with_suffix(".sock.ttrpc") for n in self.nodes),
                   key=lambda p: len(str(p)))
