"""Command lines of the control plane and node components, as pure functions of the layout.

Kept apart from starting them so unit tests can check the flags that make the cluster what it
is: loopback-only listeners, TLS everywhere, Node+RBAC authorization with NodeRestriction,
service-account keys, no leader election, and the same feature gates on every component.
"""

from __future__ import annotations

from fakehw.cluster.binaries import BinarySet
from fakehw.cluster.local import mountns
from fakehw.cluster.local.layout import ClusterLayout, NodeLayout
from fakehw.cluster.local.nodepaths import KUBELET_ROOT
from fakehw.cluster.local.services import apiserver_host
from fakehw.cluster.settings import format_map

LOOPBACK = "127.0.0.1"


def _gates(layout: ClusterLayout) -> list[str]:
    gates = layout.settings.feature_gates
    return [f"--feature-gates={format_map(gates)}"] if gates else []


def etcd(layout: ClusterLayout, binaries: BinarySet) -> list[str]:
    """etcd on loopback only, plain HTTP (nothing but the API server talks to it)."""
    port = layout.settings.etcd_port
    return [
        str(binaries["etcd"]),
        f"--name={layout.settings.name}",
        f"--data-dir={layout.etcd_dir}",
        f"--listen-client-urls=http://{LOOPBACK}:{port}",
        f"--advertise-client-urls=http://{LOOPBACK}:{port}",
        f"--listen-peer-urls=http://{LOOPBACK}:{port + 1}",
        f"--initial-advertise-peer-urls=http://{LOOPBACK}:{port + 1}",
        f"--initial-cluster={layout.settings.name}=http://{LOOPBACK}:{port + 1}",
        "--listen-metrics-urls=",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ]


def kube_apiserver(layout: ClusterLayout, binaries: BinarySet) -> list[str]:
    """The API server: TLS on loopback, client-cert auth, Node+RBAC, NodeRestriction."""
    s, pki = layout.settings, layout.pki_dir
    return [
        str(binaries["kube-apiserver"]),
        f"--etcd-servers=http://{LOOPBACK}:{s.etcd_port}",
        # Loopback, or with Services the first node's bridge: the `kubernetes` endpoint.
        f"--bind-address={apiserver_host(layout)}",
        # The endpoint reconciler refuses loopback; the first node's bridge address is ours.
        f"--advertise-address={layout.nodes[0].node_ip}",
        f"--secure-port={s.apiserver_port}",
        f"--cert-dir={pki}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        f"--kubelet-certificate-authority={pki / 'ca.crt'}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={s.service_subnet}",
        # Nodes are reached by address: their names are not in any DNS.
        "--kubelet-preferred-address-types=InternalIP",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        "--profiling=false",
        f"--runtime-config={format_map(s.effective_runtime_config())}",
        *_gates(layout),
    ]


def kube_controller_manager(layout: ClusterLayout, binaries: BinarySet) -> list[str]:
    """Controllers (including DRA's resource-claim controller), no leader election."""
    s, pki, kc = layout.settings, layout.pki_dir, layout.kubeconfig_dir / "controller-manager"
    return [
        str(binaries["kube-controller-manager"]),
        f"--kubeconfig={kc}",
        f"--authentication-kubeconfig={kc}",
        f"--authorization-kubeconfig={kc}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={s.controller_manager_port}",
        f"--cert-dir={pki / 'controller-manager'}",
        # Its default, /usr/libexec/kubernetes/..., would be created on the host.
        f"--flex-volume-plugin-dir={layout.run_dir / 'flexvolume'}",
        "--leader-elect=false",
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--root-ca-file={pki / 'ca.crt'}",
        f"--cluster-signing-cert-file={pki / 'ca.crt'}",
        f"--cluster-signing-key-file={pki / 'ca.key'}",
        f"--service-cluster-ip-range={s.service_subnet}",
        "--profiling=false",
        *_gates(layout),
    ]


def kube_scheduler(layout: ClusterLayout, binaries: BinarySet) -> list[str]:
    """The scheduler (which allocates DRA devices), no leader election."""
    s, kc = layout.settings, layout.kubeconfig_dir / "scheduler"
    return [
        str(binaries["kube-scheduler"]),
        f"--kubeconfig={kc}",
        f"--authentication-kubeconfig={kc}",
        f"--authorization-kubeconfig={kc}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={s.scheduler_port}",
        f"--cert-dir={layout.pki_dir / 'scheduler'}",
        "--leader-elect=false",
        "--profiling=false",
        *_gates(layout),
    ]


def containerd(node: NodeLayout, binaries: BinarySet, config: str) -> list[str]:
    """containerd with the node's own config file (own root, state and socket)."""
    return [str(binaries["containerd"]), f"--config={config}", "--log-level=info"]


def kubelet(layout: ClusterLayout, node: NodeLayout, binaries: BinarySet) -> list[str]:
    """The kubelet, in a mount namespace where /var/lib/kubelet is its root (nodepaths.py);
    everything else is in its config file (configs.kubelet_config)."""
    return mountns.wrap([(node.kubelet_dir, KUBELET_ROOT)], [
        str(binaries["kubelet"]),
        f"--config={node.root / 'kubelet-config.yaml'}",
        f"--kubeconfig={layout.kubeconfig_dir / f'kubelet-{node.index}'}",
        f"--root-dir={node.kubelet_dir}",
        f"--cert-dir={node.root / 'kubelet-pki'}",
        f"--hostname-override={node.name}",
        f"--node-ip={node.node_ip}",
        f"--node-labels=fakehw.io/node-index={node.index}",
        "--v=1",
    ])


def kube_proxy(layout: ClusterLayout, binaries: BinarySet) -> list[str]:
    """One kube-proxy for the cluster (its nodes share the host's network namespace)."""
    return [str(binaries["kube-proxy"]), f"--config={layout.config_dir / 'kube-proxy.yaml'}"]


def coredns(layout: ClusterLayout, binaries: BinarySet) -> list[str]:
    return [str(binaries["coredns"]), "-conf", str(layout.config_dir / "Corefile")]
