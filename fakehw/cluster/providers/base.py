"""The seam between cluster users (CLI, pytest fixtures) and the ways to make a cluster.

Modelled on kind's `pkg/cluster/internal/providers/provider.go` (Provision, ListNodes,
Delete, Kubeconfig, Logs), plus a status call, because tests must tell "already up" from "not
there" before deciding whether to start one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from rich.console import Console

from fakehw.cluster.settings import ClusterSettings


@dataclass(frozen=True)
class NodeInfo:
    """One node as a provider sees it; a host-process driver needs the kubelet paths."""

    name: str
    role: str
    address: str = ""
    kubelet_dir: str = ""
    hardware_root: str | None = None
    cdi_dir: str = ""  # CDI specs only this node's runtime reads ("" if none)

    @property
    def plugins_registry(self) -> str:
        """Where a kubelet plugin puts its registration socket ("" if not on this host)."""
        return f"{self.kubelet_dir}/plugins_registry" if self.kubelet_dir else ""

    @property
    def plugins_dir(self) -> str:
        """Where a DRA driver puts its service socket (`<plugins_dir>/<driver>/dra.sock`)."""
        return f"{self.kubelet_dir}/plugins" if self.kubelet_dir else ""

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role, "address": self.address,
                "kubelet_dir": self.kubelet_dir, "plugins_registry": self.plugins_registry,
                "plugins_dir": self.plugins_dir, "hardware_root": self.hardware_root,
                "cdi_dir": self.cdi_dir}


@dataclass(frozen=True)
class ClusterStatus:
    """Whether a cluster exists and how to reach it."""

    name: str
    provider: str
    running: bool
    kubeconfig: Path | None = None
    nodes: tuple[NodeInfo, ...] = ()
    components: dict[str, bool] = field(default_factory=dict)
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "provider": self.provider, "running": self.running,
                "kubeconfig": str(self.kubeconfig) if self.kubeconfig else None,
                "nodes": [n.to_json() for n in self.nodes], "components": self.components,
                "detail": self.detail}


@runtime_checkable
class ClusterProvider(Protocol):
    """Creates, inspects and deletes clusters of one kind."""

    name: str

    def available(self) -> str | None:
        """None if this provider can work on this host, else the reason it cannot."""
        ...

    def up(self, settings: ClusterSettings, console: Console) -> ClusterStatus:
        """Create the cluster, or report the one already running under that name."""
        ...

    def down(self, settings: ClusterSettings, console: Console) -> bool:
        """Delete the cluster; False (and no error) if there was none."""
        ...

    def status(self, settings: ClusterSettings) -> ClusterStatus:
        """What is running now."""
        ...

    def nodes(self, settings: ClusterSettings) -> list[NodeInfo]:
        """The cluster's nodes."""
        ...

    def kubeconfig(self, settings: ClusterSettings) -> Path:
        """Path of the admin kubeconfig (raises ClusterNotFoundError if not running)."""
        ...

    def logs(self, settings: ClusterSettings, component: str | None = None) -> dict[str, Path]:
        """Log files by component name, all or one."""
        ...

    def restart_kubelet(self, settings: ClusterSettings, node: str, console: Console) -> None:
        """Restart ``node``'s kubelet, leaving its pods running; return once it is healthy."""
        ...

    def load_image(self, settings: ClusterSettings, archive: Path, console: Console) -> None:
        """Make the image(s) in ``archive`` (an OCI layout or `docker save` tar) available to
        every node's container runtime, so pods run them without a registry."""
        ...
