"""The node side of the driver assembled: discovery, preparers, slice publishing, the plugin.

Everything is built and checked before anything starts (roots, cameras file, credentials,
the Node), so a misconfigured driver exits at once with the reason instead of registering
with the kubelet and failing every claim. Then the kubelet plugin serves and the node agent
publishes until a signal; an unexpected error in the agent stops the whole process, so the
DaemonSet restarts it rather than leaving a plugin whose slices no longer follow the node.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

from dra_reference.camerapools import CameraProber
from dra_reference.discovery.cameras import CameraSpec, load_cameras
from dra_reference.discovery.model import Device
from dra_reference.discovery.node import NodeHardware
from dra_reference.health import InventoryHealth
from dra_reference.inventory import Inventory
from dra_reference.kube import api_client, node_uid
from dra_reference.nodeagent import NodeAgent
from dra_reference.plugin.claims import KubeClaimSource
from dra_reference.plugin.server import PluginServer
from dra_reference.plugin.settings import PluginSettings
from dra_reference.preparers.base import KindPreparer
from dra_reference.preparers.camera import CameraPreparer
from dra_reference.preparers.cxl import CxlPreparer
from dra_reference.preparers.cxlledger import RegionLedger
from dra_reference.preparers.cxlregions import SysfsRegions
from dra_reference.preparers.dispatch import KindDispatcher
from dra_reference.preparers.fpga import FpgaPreparer
from dra_reference.preparers.gpu import GpuPreparer
from dra_reference.preparers.journal import Journal
from dra_reference.publisher import SlicePublisher
from dra_reference.slices import Pool
from dra_reference.watch import TreeWatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeSettings:
    driver_name: str
    node_name: str
    driver_version: str
    sysfs_root: Path = Path("/sys")
    devfs_root: Path = Path("/dev")
    procfs_root: Path | None = None  # None: the proc folder beside the sysfs root
    kinds: tuple[str, ...] = ("gpu", "fpga", "cxl")
    plugins_dir: Path = Path("/var/lib/kubelet/plugins")
    registry_dir: Path = Path("/var/lib/kubelet/plugins_registry")
    cdi_dir: Path = Path("/var/run/cdi")
    state_dir: Path | None = None  # default: <plugins_dir>/<driver_name>
    kubeconfig: Path | None = None
    cameras_config: Path | None = None
    instance_id: str = ""
    resync_seconds: float = 60.0

    @property
    def state(self) -> Path:
        return self.state_dir or self.plugins_dir / self.driver_name


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop``. Installed before anything else starts: as PID 1 of
    its container the driver ignores a signal it has no handler for, so a pod deleted while
    the driver starts would otherwise be killed only at the end of its grace period, with
    its sockets still on the node."""

    def on_signal(number: int, frame: FrameType | None) -> None:
        log.info("stopping on %s", signal.Signals(number).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)


class NodeDriver:
    """The built driver; ``run`` serves until SIGTERM or SIGINT."""

    def __init__(self, settings: NodeSettings) -> None:
        self.settings = settings
        ledger = RegionLedger(settings.state / "cxl-regions.json")
        hardware = NodeHardware(settings.sysfs_root, settings.devfs_root, settings.kinds,
                                owned_regions=ledger.owned, procfs_root=settings.procfs_root)
        hardware.check()
        cameras = load_cameras(settings.cameras_config) if settings.cameras_config else []
        prober = CameraProber(cameras, settings.resync_seconds)

        def scan() -> dict[str, list[Device]]:
            return {settings.node_name: hardware.scan(), **prober.devices()}

        self.inventory = Inventory(scan)
        api = api_client(settings.kubeconfig)
        pool = Pool(settings.driver_name, settings.node_name, 0, settings.driver_version,
                    node_name=settings.node_name, node_uid=node_uid(api, settings.node_name))
        self.publisher = SlicePublisher(api, settings.driver_name,
                                        node_name=settings.node_name)
        self.agent = NodeAgent(
            self.inventory, self.publisher, pool,
            TreeWatcher(settings.sysfs_root, settings.devfs_root),
            resync_seconds=settings.resync_seconds)
        self.server = PluginServer(self._plugin_settings(), preparer=KindDispatcher(
            self._preparers(ledger, {c.name: c for c in cameras}), self.inventory.lookup,
            Journal(settings.state / "journal")), claims=KubeClaimSource(api),
            health=InventoryHealth(self.inventory))

    def run(self, stop: threading.Event | None = None) -> None:
        """Serve until ``stop`` is set (by default: until SIGTERM or SIGINT). A ``stop`` set
        already (a signal while the driver was starting) ends the run before it serves."""
        if stop is None:
            stop = threading.Event()
            stop_on_signals(stop)
        failures: list[BaseException] = []

        def agent() -> None:
            try:
                self.agent.run(stop)
            except BaseException as exc:
                failures.append(exc)
                stop.set()

        if stop.is_set():
            return
        self.inventory.refresh()
        thread = threading.Thread(target=agent, name="node-agent", daemon=True)
        slices = threading.Thread(target=self.publisher.watch, args=(stop, self.agent.nudge),
                                  name="slice-watch", daemon=True)
        with self.server:
            thread.start()
            slices.start()
            while not stop.wait(0.5):
                self.server.raise_thread_errors()
        thread.join(timeout=10)
        if failures:
            raise failures[0]

    def _plugin_settings(self) -> PluginSettings:
        s = self.settings
        settings = PluginSettings(s.driver_name, f"{s.driver_name}/device",
                                  registry_dir=s.registry_dir, plugins_dir=s.plugins_dir,
                                  cdi_dir=s.cdi_dir, checkpoint_path=s.state / "checkpoint.json")
        return replace(settings, instance_id=s.instance_id) if s.instance_id else settings

    def _preparers(self, ledger: RegionLedger,
                   cameras: dict[str, CameraSpec]) -> list[KindPreparer]:
        s = self.settings
        kinds: list[KindPreparer] = []
        if "gpu" in s.kinds:
            kinds.append(GpuPreparer())
        if "fpga" in s.kinds:
            kinds.append(FpgaPreparer(s.sysfs_root))
        if "cxl" in s.kinds:
            kinds.append(CxlPreparer(s.sysfs_root, s.devfs_root, SysfsRegions(s.sysfs_root),
                                     ledger))
        if cameras:
            kinds.append(CameraPreparer(cameras))
        return kinds
