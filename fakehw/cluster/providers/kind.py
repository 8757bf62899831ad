"""The `kind` provider: clusters of kind node containers, driven through the kind CLI.

For users with a container engine and registry access (or a locally built node image). The
provider only builds kind command lines and reads their results; `runner` is injectable so
unit tests check the commands without running kind.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from fakehw.cluster.errors import (
    ClusterConfigError,
    ClusterNotFoundError,
    ComponentError,
    HostError,
)
from fakehw.cluster.kind.config import KIND_NODE_IMAGE, render
from fakehw.cluster.providers.base import ClusterStatus, NodeInfo
from fakehw.cluster.settings import ClusterSettings

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output (the default runner)."""
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


class KindProvider:
    """kind clusters; state (config, kubeconfig, exported logs) under the run directory."""

    name = "kind"

    def __init__(self, runner: Runner = run, image: str = KIND_NODE_IMAGE,
                 which: Callable[[str], str | None] = shutil.which) -> None:
        self.runner = runner
        self.image = image
        self.which = which

    def available(self) -> str | None:
        if self.which("kind") is None:
            return "the kind CLI is not on PATH (go install sigs.k8s.io/kind@v0.33.0)"
        if self.which("docker") is None and self.which("podman") is None:
            return "kind needs docker or podman, and neither is on PATH"
        return None

    def _kind(self, args: Sequence[str], what: str) -> subprocess.CompletedProcess[str]:
        problem = self.available()
        if problem is not None:
            raise HostError(f"cannot {what} with kind: {problem}")
        done = self.runner(["kind", *args])
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-20:])
            raise ComponentError("kind", f"`kind {' '.join(args)}` failed ({what})", tail)
        return done

    def clusters(self) -> list[str]:
        """Names of the kind clusters that exist."""
        return self._kind(["get", "clusters"], "list clusters").stdout.split()

    def create_command(self, settings: ClusterSettings, config: Path, kubeconfig: Path
                       ) -> list[str]:
        """The `kind create cluster` arguments for these settings."""
        return ["create", "cluster", "--name", settings.name, "--config", str(config),
                "--image", self.image, "--kubeconfig", str(kubeconfig), "--wait", "180s"]

    def up(self, settings: ClusterSettings, console: Console) -> ClusterStatus:
        if settings.name in self.clusters():
            console.print(f"kind cluster {settings.name!r} is already running")
            return self.status(settings)
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        config = settings.run_dir / "kind-config.yaml"
        config.write_text(render(settings))
        kubeconfig = settings.run_dir / "kubeconfig"
        console.print(f"kind {' '.join(self.create_command(settings, config, kubeconfig))}")
        self._kind(self.create_command(settings, config, kubeconfig), "create the cluster")
        return self.status(settings)

    def down(self, settings: ClusterSettings, console: Console) -> bool:
        if settings.name not in self.clusters():
            console.print(f"No kind cluster named {settings.name!r}")
            return False
        self._kind(["delete", "cluster", "--name", settings.name], "delete the cluster")
        (settings.run_dir / "kubeconfig").unlink(missing_ok=True)
        return True

    def status(self, settings: ClusterSettings) -> ClusterStatus:
        if self.available() is not None or settings.name not in self.clusters():
            return ClusterStatus(settings.name, self.name, running=False,
                                 detail=self.available() or "no such kind cluster")
        return ClusterStatus(settings.name, self.name, running=True,
                             kubeconfig=self.kubeconfig(settings),
                             nodes=tuple(self.nodes(settings)), detail="running")

    def nodes(self, settings: ClusterSettings) -> list[NodeInfo]:
        names = self._kind(["get", "nodes", "--name", settings.name], "list nodes").stdout
        return [NodeInfo(n, "control-plane" if n.endswith("control-plane") else "worker")
                for n in names.split()]

    def kubeconfig(self, settings: ClusterSettings) -> Path:
        if settings.name not in self.clusters():
            raise ClusterNotFoundError(f"no kind cluster named {settings.name!r}")
        path = settings.run_dir / "kubeconfig"
        text = self._kind(["get", "kubeconfig", "--name", settings.name], "read the kubeconfig")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.stdout)
        path.chmod(0o600)
        return path

    def restart_kubelet(self, settings: ClusterSettings, node: str, console: Console) -> None:
        names = [n.name for n in self.nodes(settings)]
        if node not in names:
            raise ClusterConfigError(f"kind cluster {settings.name!r} has no node {node!r} "
                                     f"(its nodes: {', '.join(names) or 'none'})")
        engine = "docker" if self.which("docker") is not None else "podman"
        command = [engine, "exec", node, "systemctl", "restart", "kubelet"]
        done = self.runner(command)
        if done.returncode != 0:
            raise ComponentError("kubelet", f"`{' '.join(command)}` failed",
                                 (done.stderr or done.stdout).strip())
        console.print(f"kubelet of {node} restarted")

    def load_image(self, settings: ClusterSettings, archive: Path, console: Console) -> None:
        self._kind(["load", "image-archive", str(archive), "--name", settings.name],
                   f"load {archive}")
        console.print(f"loaded {archive.name} into kind cluster {settings.name}")

    def logs(self, settings: ClusterSettings, component: str | None = None) -> dict[str, Path]:
        target = settings.run_dir / "kind-logs"
        self._kind(["export", "logs", str(target), "--name", settings.name], "export logs")
        files = {str(p.relative_to(target)): p for p in sorted(target.rglob("*.log"))}
        if component is None:
            return files
        return {k: v for k, v in files.items() if component in k}
