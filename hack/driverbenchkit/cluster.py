"""A real API server for the figures that need one, and the driver as a real process on it.

The cluster is the one ``tests/driver_e2e`` uses (name ``draref``, its own ports and pod
subnet), reused when it is running and stopped at the end only if started here. The driver
runs under a driver name of its own, so its slices never mix with a driver under test on the
same node; it does not register with the kubelet (its registry folder is private), which the
figures here do not need.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
from kubernetes import client, config
from rich.console import Console

from fakehw.cluster.providers.local import LocalProvider
from fakehw.cluster.settings import ClusterSettings

DRIVER = "bench.fakehw.dev"
INSTANCE = "bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    node: str  # the node whose Node object the driver's slices are owned by


def resource_api(kubeconfig: Path) -> client.ResourceV1Api:
    """The official client, for the bench's own calls (the driver has a lighter one)."""
    return client.ResourceV1Api(config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig), persist_config=False))


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
class DriverProcess:
    """A kubelet plugin run as a host process in folders of its own; ``socket`` is its DRA
    socket, which it serves once it is ready."""

    label: str
    command: list[str]
    socket: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as stream:
            self.process = subprocess.Popen(self.command, stdout=stream,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=dict(os.environ, **self.env))

    def check(self) -> None:
        if self.process is None or self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise click.ClickException(f"{self.label} exited; its log ends:\n{tail}")

    def wait_for_socket(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            self.check()
            if time.monotonic() > deadline:
                raise click.ClickException(f"{self.label}: no DRA socket {self.socket} after "
                                           f"{timeout:.0f}s; see {self.log}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        self.check()
        assert self.process is not None  # noqa: S101 (check() says so)
        return self.process.pid

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak resident) of the process, in KiB, from /proc."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return fields

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process, all its threads, from /proc."""
        # the fields after the command, which is in parentheses and may hold spaces
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def reference_plugin(tree: Path, work: Path, cluster: Cluster,
                     driver: str = DRIVER) -> DriverProcess:
    """``python -m dra_reference kubelet-plugin`` over the fakehw tree at ``tree``."""
    folders = {name: work / name for name in ("plugins", "registry", "cdi", "state")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "dra_reference", "kubelet-plugin", "--driver-name", driver,
        "--node-name", cluster.node, "--sysfs-root", str(tree / "sys"),
        "--devfs-root", str(tree / "dev"), "--plugins-dir", str(folders["plugins"]),
        "--registry-dir", str(folders["registry"]), "--cdi-dir", str(folders["cdi"]),
        "--state-dir", str(folders["state"]), "--kubeconfig", str(cluster.kubeconfig),
        "--instance-id", INSTANCE, "--resync-seconds", "60"]
    return DriverProcess("the reference driver", command,
                         folders["plugins"] / driver / f"dra-{INSTANCE}.sock",
                         work / "plugin.log")
