"""Configuration files of a local cluster, rendered as text from the layout and settings.

Pure functions (no I/O), so unit tests can check each setting that matters on this kind of
host: kubelet's failCgroupV1/cgroupfs/cgroupRoot, containerd's own root, state, socket and
pinned sandbox image, CDI spec directories (the shared ones and the node's own), and CNI
on the project's bridge.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from fakehw.cluster.images import PAUSE_IMAGE
from fakehw.cluster.local.layout import ClusterLayout, NodeLayout
from fakehw.cluster.local.services import dns_service_ip


def kubeconfig(
    cluster: str, server: str, ca_pem: bytes, *, user: str, cert: Path, key: Path
) -> str:
    """A kubeconfig with one cluster, user and context, reading the client pair from files."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {
            "server": server,
            "certificate-authority-data": base64.b64encode(ca_pem).decode(),
        }}],
        "users": [{"name": user, "user": {
            "client-certificate": str(cert), "client-key": str(key),
        }}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
        "current-context": cluster,
    }
    return yaml.safe_dump(document, sort_keys=False)


def kubelet_config(layout: ClusterLayout, node: NodeLayout) -> str:
    """KubeletConfiguration for a host-process kubelet on a cgroup v1 host without systemd."""
    pki = layout.pki_dir
    config: dict[str, Any] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": node.node_ip,
        "port": node.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": node.kubelet_healthz_port,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki / f"kubelet-{node.index}-serving.crt"),
        "tlsPrivateKeyFile": str(pki / f"kubelet-{node.index}-serving.key"),
        "containerRuntimeEndpoint": f"unix://{node.containerd_socket}",
        # Kubelet >= 1.35 refuses cgroup v1 unless told otherwise; this host is v1 hybrid.
        "failCgroupV1": False,
        # No systemd as PID 1 here, so cgroups are managed as plain directories.
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": node.cgroup_root,
        "cgroupsPerQOS": True,
        "failSwapOn": False,
        # A test bed must not evict or garbage-collect its hand-imported images.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "0%", "nodefs.available": "0%",
                         "nodefs.inodesFree": "0%", "imagefs.available": "0%"},
        "podLogsDir": str(node.root / "pod-logs"),
        "volumePluginDir": str(node.root / "volume-plugins"),
        "resolvConf": "/etc/resolv.conf",
        "clusterDomain": "cluster.local",
        "clusterDNS": [dns_service_ip(layout)] if layout.settings.services else [],
        "serializeImagePulls": False,
        # Else the kubelet adds KUBE-FIREWALL and canary chains to the host's iptables and
        # never removes them; nothing here needs them (there is no kube-proxy).
        "makeIPTablesUtilChains": False,
        "featureGates": dict(layout.settings.feature_gates),
    }
    return yaml.safe_dump(config, sort_keys=False)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def _toml_tables(tables: Mapping[str, Mapping[str, object]]) -> str:
    lines: list[str] = []
    for table, values in tables.items():
        if table:
            lines.append(f"\n[{table}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
    return "\n".join(lines).lstrip() + "\n"


CONTAINERD_DISABLED_PLUGINS = (
    # NRI would listen on /var/run/nri/nri.sock, outside the cluster's directories.
    "io.containerd.nri.v1.nri",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.blockfile",
    "io.containerd.snapshotter.v1.erofs",
)


def containerd_config(layout: ClusterLayout, node: NodeLayout, *, runc: Path, shim: Path) -> str:
    """containerd 2.x config (version 4 schema): an instance of its own with CRI and CDI,
    whose shim, runc and CNI plugins are named by absolute path (containerd would otherwise
    take the first `containerd-shim-runc-v2` on PATH: Docker's 1.x one, on many hosts)."""
    base = node.containerd_dir
    cri = "plugins.'io.containerd.cri.v1.runtime'"
    runtime = f"{cri}.containerd.runtimes.runc"
    tables: dict[str, dict[str, object]] = {
        "": {
            "version": 4,
            "root": str(base / "root"),
            "state": str(base / "state"),
            "imports": [],
            "disabled_plugins": list(CONTAINERD_DISABLED_PLUGINS),
        },
        "plugins.'io.containerd.server.v1.grpc'": {"address": str(node.containerd_socket)},
        "plugins.'io.containerd.server.v1.ttrpc'": {
            "address": str(node.containerd_socket) + ".ttrpc"},
        "plugins.'io.containerd.server.v1.debug'": {"address": ""},
        "plugins.'io.containerd.server.v1.metrics'": {"address": ""},
        "plugins.'io.containerd.cri.v1.images'": {"snapshotter": "overlayfs"},
        "plugins.'io.containerd.cri.v1.images'.pinned_images": {"sandbox": PAUSE_IMAGE},
        cri: {
            "cdi_spec_dirs": [*layout.settings.cdi_spec_dirs, str(node.cdi_dir)],
            "netns_mounts_under_state_dir": True,
            # Lowering oom_score_adj (the kubelet asks -998 for sandboxes) needs
            # CAP_SYS_RESOURCE, which a container host may lack; clamp to containerd's own.
            "restrict_oom_score_adj": True,
            "enable_unprivileged_ports": False,
            "enable_unprivileged_icmp": False,
        },
        f"{cri}.containerd": {"default_runtime_name": "runc"},
        runtime: {"runtime_type": "io.containerd.runc.v2", "runtime_path": str(shim)},
        f"{runtime}.options": {"SystemdCgroup": False, "BinaryName": str(runc),
                               "Root": str(base / "state" / "runc")},
        f"{cri}.cni": {
            "bin_dirs": [str(layout.settings.cni_bin_dir)],
            "conf_dir": str(node.cni_conf_dir),
            "max_conf_num": 1,
        },
        "plugins.'io.containerd.grpc.v1.cri'": {
            "stream_server_address": "127.0.0.1", "stream_server_port": "0",
        },
        "plugins.'io.containerd.internal.v1.opt'": {"path": str(base / "opt")},
        "plugins.'io.containerd.shim.v1.manager'": {"socket_dir": str(node.shim_socket_dir)},
        "plugins.'io.containerd.image-verifier.v1.bindir'": {
            "bin_dir": str(base / "image-verifier")},
    }
    return _toml_tables(tables)


def cni_network_name(node: NodeLayout) -> str:
    """The CNI network's name; also the prefix of its entries in /var/lib/cni/results."""
    return f"fakehw-{node.cluster}-{node.index}"


def cni_conflist(node: NodeLayout) -> str:
    """bridge + host-local on the node's own bridge; no masquerading, and routes through the
    bridge to the cluster's pod and service subnets only: pods reach this host, each other
    across nodes, and Services, nothing beyond."""
    document = {
        "cniVersion": "1.0.0",
        "name": cni_network_name(node),
        "plugins": [
            {
                "type": "bridge",
                "bridge": node.bridge,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "dataDir": str(node.cni_data_dir),
                    "ranges": [[{"subnet": str(node.pod_subnet), "gateway": node.node_ip}]],
                    "routes": [{"dst": node.settings.pod_subnet},
                               {"dst": node.settings.service_subnet}],
                },
            },
        ],
    }
    return json.dumps(document, indent=2) + "\n"
