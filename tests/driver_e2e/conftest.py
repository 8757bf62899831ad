"""The reference driver against a real local cluster of its own.

The cluster gets its own name, ports and pod subnet (fixture ``draref_cluster``, not the
shared ``fakehw_cluster``), so it runs beside the cluster of ``tests/cluster`` instead of
fighting it for ports or handing it the wrong number of nodes. The driver runs as a host process on
the control-plane node, over a fakehw tree this session makes (without cameras, whose fixed
port other tests use). Like ``tests/cluster``, these tests run only when asked for, with
``-m cluster`` or ``FAKEHW_CLUSTER_TESTS=1``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from fakehw import machine, profiles, runtime
from fakehw.cluster.binaries import ensure_binaries
from fakehw.cluster.kubectl import Kubectl
from fakehw.cluster.providers.local import LocalProvider
from fakehw.cluster.pytest_fixtures import SessionCluster, settings_from
from fakehw.cluster.settings import ClusterSettings
from tests.driver.driverkit import CameraDaemon, camera_daemon

DRIVER = "dra.fakehw.dev"
DEPLOY = Path(__file__).parents[2] / "drivers" / "deploy"


@pytest.fixture(scope="session")
def draref_cluster(pytestconfig: pytest.Config) -> Iterator[SessionCluster]:
    """A one-node local cluster of its own, out of the way of the default cluster's ports
    and subnets; reused when already running, deleted at the end only if started here."""
    from rich.console import Console  # noqa: PLC0415

    settings = ClusterSettings(name="draref", nodes=1,
                               feature_gates=settings_from(pytestconfig).feature_gates,
                               apiserver_port=6843, etcd_port=2879, kubelet_port=10850,
                               controller_manager_port=10857, scheduler_port=10859,
                               pod_subnet="10.248.0.0/16")
    console = Console(stderr=True)
    provider = LocalProvider()
    if problem := provider.available():
        pytest.fail(f"the local cluster provider cannot run here: {problem}")
    already = provider.status(settings).running
    status = provider.up(settings, console)
    if status.kubeconfig is None:
        pytest.fail(f"the local provider started no reachable cluster: {status.detail}")
    kubectl = Kubectl(ensure_binaries(components={"kubernetes"})["kubectl"], status.kubeconfig)
    yield SessionCluster(status.kubeconfig, kubectl, started_here=not already,
                         settings=settings, provider=provider, nodes=status.nodes)
    keep = pytestconfig.getoption("fakehw_keep_cluster", default=False) or os.environ.get(
        "FAKEHW_KEEP_CLUSTER")
    if not already and not keep:
        provider.down(settings, console)


@dataclass
class RunningDriver:
    node: str
    tree: Path
    cdi_dir: Path
    registry_dir: Path  # the node kubelet's plugins_registry
    command: list[str]
    log: Path
    kubectl: Kubectl
    source: Path | None = None  # a folder with a copy of dra_reference to run instead
    process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str] | None:
        """The environment of the driver's processes (None: this one's)."""
        return {**os.environ, "PYTHONPATH": str(self.source)} if self.source else None

    def start(self) -> None:
        with self.log.open("ab") as stream:
            self.process = subprocess.Popen(self.command, stdout=stream, env=self.env,
                                            stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.log.write_bytes(b"")
        self.start()

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def slices(self) -> list[dict[str, object]]:
        items: list[dict[str, object]] = self.kubectl.json(["get", "resourceslices"])["items"]
        return [s for s in items if s["spec"].get("driver") == DRIVER  # type: ignore[union-attr]
                and s["spec"].get("nodeName") == self.node]  # type: ignore[union-attr]


@dataclass(frozen=True)
class Cameras:
    daemon: CameraDaemon
    config: Path  # the cameras file the plugin and the controller read


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cameras]:
    """A camera daemon on a free port and a cameras file naming its control socket."""
    with camera_daemon([{"name": "cam0", "width": 320, "height": 240, "port": 0}]) as daemon:
        config = tmp_path_factory.mktemp("cameras") / "cameras.yaml"
        config.write_text(yaml.safe_dump({
            "apiVersion": "cameras.fakehw.dev/v1alpha1", "kind": "CameraList",
            "cameras": [{"name": "cam0", "url": daemon.urls["cam0"], "vendor": "fakehw",
                         "model": "ipc-320", "resolution": "320x240", "fps": 10,
                         "control": {"endpoint": f"unix://{daemon.control}"}}]}))
        yield Cameras(daemon, config)


@pytest.fixture(scope="module")
def driver(draref_cluster: SessionCluster, cameras: Cameras,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDriver]:
    """The driver as a kubelet plugin of the first node, over an edge-node tree (without its
    camera, whose fixed port other tests use; ``cameras`` serves one on a free port)."""
    with running_driver(draref_cluster, cameras, tmp_path_factory.mktemp("draref")) as running:
        yield running


@contextlib.contextmanager
def running_driver(cluster: SessionCluster, cameras: Cameras, work: Path,
                   source: Path | None = None) -> Iterator[RunningDriver]:
    """The driver (from ``source``, a folder holding a copy of ``dra_reference``, if given)
    on the first node over a new edge-node tree in ``work``, until its slices are up; then
    stopped, its slices deleted and the tree removed."""
    assert isinstance(cluster.provider, LocalProvider)
    assert cluster.settings is not None
    node = cluster.provider.nodes(cluster.settings)[0]
    kubectl = cluster.kubectl
    kubectl.run(["apply", "-f", str(DEPLOY / "deviceclasses.yaml")])
    # runtime.up also starts the watcher that plays the kernel for FPGA firmware writes
    state = runtime.up(profiles.load("edge-node"), work / "hw", node.name, cameras=False)
    kubelet = Path(node.kubelet_dir)
    # The node's own CDI directory (read by its containerd): a host process sharing
    # /var/run/cdi with other nodes' drivers would remove their specs as strays on start.
    cdi_dir = Path(node.cdi_dir or "/var/run/cdi")  # "": a cluster made before that existed
    registry = kubelet / "plugins_registry"
    command = [
        sys.executable, "-m", "dra_reference", "--log-level", "debug", "kubelet-plugin",
        "--node-name", node.name, "--sysfs-root", f"{state.root}/sys",
        "--devfs-root", f"{state.root}/dev", "--plugins-dir", str(kubelet / "plugins"),
        "--registry-dir", str(registry), "--cdi-dir", str(cdi_dir),
        "--state-dir", str(work / "state"), "--kubeconfig", str(cluster.kubeconfig),
        "--instance-id", "e2e", "--resync-seconds", "30",
        "--cameras-config", str(cameras.config)]
    running = RunningDriver(node.name, Path(state.root), cdi_dir, registry, command,
                            work / "driver.log", kubectl, source=source)
    running.start()
    try:
        wait_until(running.slices, 60, running)
        yield running
    finally:
        running.stop()
        kubectl.run(["delete", "resourceslices", "--field-selector",
                     f"spec.driver={DRIVER}"], check=False)
        machine.down(Path(state.root))


@contextlib.contextmanager
def running_controller(driver: RunningDriver, cameras: Cameras,
                       cluster: SessionCluster) -> Iterator[subprocess.Popen[bytes]]:
    """The camera controller, which publishes the cameras of ``cameras`` as pools of their
    own; stopped and its slices deleted at the end."""
    log = driver.log.with_name("controller.log")
    with log.open("ab") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "dra_reference", "controller", "--cameras-config",
             str(cameras.config), "--kubeconfig", str(cluster.kubeconfig),
             "--probe-seconds", "2"], stdout=stream, stderr=subprocess.STDOUT,
            env=driver.env)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
        driver.kubectl.run(["delete", "resourceslices", "-l",
                            "dra.fakehw.dev/publisher=camera-controller"], check=False)


def wait_until(condition: Callable[[], object], timeout: float, driver: RunningDriver) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert driver.process is not None
        assert driver.process.poll() is None, f"the driver exited:\n{driver.log_tail()}"
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s; driver log:\n{driver.log_tail()}")
