"""A real API server for the figures that need one, and the driver as a real process on it.

The cluster is the one ``tests/driver_e2e`` uses (name ``draref``, its own ports and pod
subnet), reused when it is running and stopped at the end only if started here. The driver
runs under a driver name of its own, so its slices never mix with a driver under test on the
same node; it does not register with the kubelet (its registry folder is private), which the
figures here do not need.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console

from fakehw.cluster.providers.local import LocalProvider
from fakehw.cluster.settings import ClusterSettings

DRIVER = "bench.fakehw.dev"
INSTANCE = "bench"


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    node: str  # the node whose Node object the driver's slices are owned by


@contextlib.contextmanager
def local_cluster(settings: ClusterSettings, console: Console) -> Iterator[Cluster]:
    """Start (or reuse) a one-node local cluster; stop it afterwards if started here."""
    provider = LocalProvider()
    if problem := provider.available():
        raise click.ClickException(f"the local cluster provider cannot run here: {problem}")
    already = provider.status(settings).running
    status = provider.up(settings, console)
    try:
        if status.kubeconfig is None:
            raise click.ClickException(f"cluster {settings.name} did not start: "
                                       f"{status.detail}")
        yield Cluster(status.kubeconfig, provider.nodes(settings)[0].name)
    finally:
        if not already:
            provider.down(settings, console)


@dataclass
class PluginProcess:
    """``python -m dra_reference kubelet-plugin`` over a fakehw tree, in folders of its own."""

    tree: Path
    work: Path  # short: the DRA socket lives below it
    cluster: Cluster
    process: subprocess.Popen[bytes] | None = None

    @property
    def dra_socket(self) -> Path:
        return self.work / "plugins" / DRIVER / f"dra-{INSTANCE}.sock"

    @property
    def log(self) -> Path:
        return self.work / "plugin.log"

    def start(self) -> None:
        command = [
            sys.executable, "-m", "dra_reference", "kubelet-plugin", "--driver-name", DRIVER,
            "--node-name", self.cluster.node, "--sysfs-root", str(self.tree / "sys"),
            "--devfs-root", str(self.tree / "dev"), "--plugins-dir", str(self.work / "plugins"),
            "--registry-dir", str(self.work / "registry"), "--cdi-dir", str(self.work / "cdi"),
            "--state-dir", str(self.work / "state"), "--kubeconfig", str(self.cluster.kubeconfig),
            "--instance-id", INSTANCE, "--resync-seconds", "60"]
        for folder in ("plugins", "registry", "cdi", "state"):
            (self.work / folder).mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as stream:
            self.process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT)

    def check(self) -> None:
        if self.process is None or self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise click.ClickException(f"the driver exited; its log ends:\n{tail}")

    def wait_for_socket(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.dra_socket.exists():
            self.check()
            if time.monotonic() > deadline:
                raise click.ClickException(f"no DRA socket after {timeout:.0f}s; see {self.log}")
            time.sleep(0.1)

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak resident) of the process, in KiB, from /proc."""
        self.check()
        assert self.process is not None  # noqa: S101 (check() says so)
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return fields

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
