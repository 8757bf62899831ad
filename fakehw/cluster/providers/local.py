"""The `local` provider: a real Kubernetes cluster made of host processes.

etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and per node a containerd and a
kubelet, built from source (binaries/) and started as processes of this user under the run
directory. No container engine, registry or internet is needed; root is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from fakehw.cluster.errors import ClusterNotFoundError
from fakehw.cluster.local.layout import ClusterLayout
from fakehw.cluster.local.loads import load_image
from fakehw.cluster.local.node_actions import NodeCreation
from fakehw.cluster.local.plan import creation_steps
from fakehw.cluster.local.processes import is_running
from fakehw.cluster.local.restarts import restart_kubelet
from fakehw.cluster.local.state import ClusterState
from fakehw.cluster.local.teardown import teardown_steps
from fakehw.cluster.providers.base import ClusterStatus, NodeInfo
from fakehw.cluster.settings import ClusterSettings
from fakehw.cluster.steps import run_steps


@contextlib.contextmanager
def cluster_lock(settings: ClusterSettings) -> Iterator[None]:
    """One `up` or `down` of a cluster at a time; a second `up` waits, then finds it running."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with (settings.state_dir / f".{settings.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class LocalProvider:
    """Host-process clusters, one run directory each."""

    name = "local"

    def available(self) -> str | None:
        if platform.system() != "Linux":
            return "needs Linux"
        if os.geteuid() != 0:
            return "needs root"
        return None

    def up(self, settings: ClusterSettings, console: Console) -> ClusterStatus:
        with cluster_lock(settings):
            return self._up(settings, console)

    def down(self, settings: ClusterSettings, console: Console) -> bool:
        with cluster_lock(settings):
            return self._down(settings, console)

    def _up(self, settings: ClusterSettings, console: Console) -> ClusterStatus:
        current = self.status(settings)
        if current.running:
            console.print(f"Cluster {settings.name!r} is already running "
                          f"(kubeconfig {current.kubeconfig})")
            return current
        layout = ClusterLayout(settings)
        if layout.state_file.exists():
            console.print(f"Cluster {settings.name!r} was left half-running; removing it first")
            self._down(settings, console)
        state = ClusterState(layout.state_file, settings.name)
        state.save()
        creation = NodeCreation(layout, console, state)
        try:
            run_steps(creation_steps(creation), console)
        except BaseException:
            console.print(f"[yellow]up failed; removing what it started (logs stay in "
                          f"{layout.log_dir})[/]")
            run_steps(teardown_steps(state, layout.run_dir), console)
            raise
        console.print(f"Cluster {settings.name!r} is up. "
                      f"export KUBECONFIG={layout.kubeconfig}")
        return self.status(settings)

    def _down(self, settings: ClusterSettings, console: Console) -> bool:
        layout = ClusterLayout(settings)
        state = ClusterState.load(layout.state_file)
        if state is None:
            console.print(f"No cluster named {settings.name!r} under {settings.state_dir}")
            return False
        run_steps(teardown_steps(state, layout.run_dir), console)
        console.print(f"Cluster {settings.name!r} is down")
        return True

    def status(self, settings: ClusterSettings) -> ClusterStatus:
        layout = ClusterLayout(settings)
        state = ClusterState.load(layout.state_file)
        if state is None:
            return ClusterStatus(settings.name, self.name, running=False,
                                 detail="no state file: not created, or already down")
        components = {p.name: is_running(p) for p in state.processes}
        running = bool(state.facts.get("ready")) and all(components.values())
        dead = [name for name, alive in components.items() if not alive]
        detail = f"stopped: {', '.join(dead)}" if dead else (
            "running" if running else "being created")
        return ClusterStatus(settings.name, self.name, running, layout.kubeconfig,
                             tuple(self._node_infos(state)), components, detail)

    def nodes(self, settings: ClusterSettings) -> list[NodeInfo]:
        state = self._state(settings)
        return self._node_infos(state)

    def kubeconfig(self, settings: ClusterSettings) -> Path:
        self._state(settings)
        return ClusterLayout(settings).kubeconfig

    def logs(self, settings: ClusterSettings, component: str | None = None) -> dict[str, Path]:
        log_dir = ClusterLayout(settings).log_dir
        files = {p.stem: p for p in sorted(log_dir.glob("*.log"))} if log_dir.is_dir() else {}
        if component is None:
            return files
        return {k: v for k, v in files.items() if k == component or k.startswith(component)}

    def restart_kubelet(self, settings: ClusterSettings, node: str, console: Console) -> None:
        with cluster_lock(settings):
            seconds = restart_kubelet(self._state(settings), node)
        console.print(f"kubelet of {node} restarted; healthy again after {seconds:.1f}s")

    def load_image(self, settings: ClusterSettings, archive: Path, console: Console) -> None:
        state = self._state(settings)
        with cluster_lock(settings):
            images = load_image(state, archive)
        console.print(f"loaded {', '.join(images) or archive.name} into "
                      f"{len(state.nodes)} node(s) of {settings.name}")

    def _state(self, settings: ClusterSettings) -> ClusterState:
        state = ClusterState.load(ClusterLayout(settings).state_file)
        if state is None:
            raise ClusterNotFoundError(
                f"no local cluster named {settings.name!r} under {settings.state_dir}; "
                "start one with `fakehw cluster up`")
        return state

    @staticmethod
    def _node_infos(state: ClusterState) -> list[NodeInfo]:
        return [
            NodeInfo(n["name"], "control-plane" if n["index"] == 0 else "worker", n["ip"],
                     n["kubelet_dir"], n.get("hardware_root"), n.get("cdi_dir", ""))
            for n in state.nodes
        ]
