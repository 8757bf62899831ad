"""The component versions a fakehw cluster is built from, pinned in one place.

Kubernetes 1.37 is tested against etcd 3.7 and needs a CRI runtime with CDI on by default
(containerd 2.x), so the three move together; change them here and the binary cache notices
the new version and rebuilds.
"""

from __future__ import annotations

from dataclasses import dataclass

KUBERNETES = "v1.37.2"
ETCD = "v3.7.3"
CONTAINERD = "v2.4.2"
PAUSE = "1.0"
# A complete cluster (Services and DNS) and chart installs; built only when asked for.
COREDNS = "v1.14.6"
HELM = "v4.3.2"
MINIMUM_GO = (1, 26, 0)

KUBERNETES_BINARIES = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kubectl",
)
CONTAINERD_BINARIES = ("containerd", "ctr", "containerd-shim-runc-v2")


@dataclass(frozen=True)
class Versions:
    """Versions of one cluster's components; the defaults are the pinned ones."""

    kubernetes: str = KUBERNETES
    etcd: str = ETCD
    containerd: str = CONTAINERD
    pause: str = PAUSE
    coredns: str = COREDNS
    helm: str = HELM

    @property
    def kubernetes_minor(self) -> int:
        """The minor version, e.g. 37 for v1.37.2."""
        return int(self.kubernetes.lstrip("v").split(".")[1])

    @property
    def staging(self) -> str:
        """The version of the k8s.io/* staging modules that match this release (v0.37.2)."""
        _, minor, patch = self.kubernetes.lstrip("v").split(".", 2)
        return f"v0.{minor}.{patch}"
