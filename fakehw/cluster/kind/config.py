"""kind cluster configs for DRA on Kubernetes 1.37, rendered from ClusterSettings.

The same choices as the local provider, in kind's terms:
- DRA's beta API versions served (runtimeConfig), alpha gates on every component
  (featureGates, which kind passes to kubeadm for all of them) plus the alpha API group;
- CDI spec directories in containerd (on by default in containerd 2.x node images; the patch
  also turns it on in 1.7-based images, where it was off);
- `failCgroupV1: false` in the KubeletConfiguration, since kubelet >= 1.35 refuses cgroup v1
  hosts otherwise;
- each node's fake-hardware tree (when given) mounted at /var/lib/fakehw/hardware inside the
  node container, a fixed path a driver running there can read.
The checked-in files under kind-configs/ are this module's output (a unit test keeps them so).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fakehw.cluster.settings import ClusterSettings, format_map

NODE_HARDWARE_PATH = "/var/lib/fakehw/hardware"
KIND_NODE_IMAGE = "kindest/node:v1.37.2"

CONTAINERD_CDI_PATCH = """\
[plugins."io.containerd.grpc.v1.cri"]
  enable_cdi = true
  cdi_spec_dirs = ["/etc/cdi", "/var/run/cdi"]
"""

KUBELET_PATCH = """\
kind: KubeletConfiguration
failCgroupV1: false
"""


def _node(role: str, index: int, settings: ClusterSettings) -> dict[str, Any]:
    node: dict[str, Any] = {"role": role}
    root = settings.hardware_roots.get(index)
    if root is not None:
        node["extraMounts"] = [{"hostPath": str(root), "containerPath": NODE_HARDWARE_PATH}]
    return node


def kind_config(settings: ClusterSettings) -> dict[str, Any]:
    """The kind Cluster document for these settings."""
    config: dict[str, Any] = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": settings.name,
        "networking": {"apiServerAddress": "127.0.0.1", "apiServerPort": settings.apiserver_port},
        "runtimeConfig": dict(settings.effective_runtime_config()),
        "containerdConfigPatches": [CONTAINERD_CDI_PATCH],
        # Cluster-wide: kubeadm shares one KubeletConfiguration with every node.
        "kubeadmConfigPatches": [KUBELET_PATCH],
        "nodes": [_node("control-plane", 0, settings)]
        + [_node("worker", i, settings) for i in range(1, settings.nodes)],
    }
    if settings.feature_gates:
        config["featureGates"] = dict(settings.feature_gates)
    return config


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (the TOML and kubeadm patches) as readable `|` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def checked_in(nodes: int) -> ClusterSettings:
    """The settings behind kind-configs/: 1 node, or N nodes with a hardware tree each."""
    roots = {i: Path(f"/tmp/fakehw/hardware/node-{i}") for i in range(nodes)} if nodes > 1 else {}
    return ClusterSettings(name="fakehw", nodes=nodes, hardware_roots=roots)


def render(settings: ClusterSettings) -> str:
    """kind_config as YAML, with a header naming the gates (kind reads it with --config)."""
    gates = format_map(settings.feature_gates) or "defaults (DRA beta on)"
    header = (f"# kind config for fakehw: Kubernetes 1.37, DRA, CDI; feature gates: {gates}\n"
              f"# kind create cluster --config THIS_FILE --image {KIND_NODE_IMAGE}\n"
              "# (or: fakehw cluster up --provider kind); made by fakehw.cluster.kind.config\n")
    return header + yaml.dump(kind_config(settings), Dumper=_Dumper, sort_keys=False)
