"""Fixtures for the kubelet-plugin tests: a real plugin on real unix sockets, driven the way
the kubelet drives it, over test doubles for the seams (Preparer, HealthSource, ClaimSource).

Socket paths must fit in 107 bytes, which pytest's tmp_path does not promise, so the plugin's
directories live in a short temporary directory under /tmp.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from dra_kubelet_api._generated import (
    dra_health_v1_pb2,
    dra_health_v1_pb2_grpc,
    dra_health_v1alpha1_pb2,
    dra_health_v1alpha1_pb2_grpc,
    dra_v1_pb2,
    dra_v1_pb2_grpc,
    dra_v1beta1_pb2,
    dra_v1beta1_pb2_grpc,
    pluginregistration_v1_pb2,
    pluginregistration_v1_pb2_grpc,
)
from dra_reference.cdi import ContainerEdits, DeviceNode
from dra_reference.checkpoint import CheckpointEntry
from dra_reference.plugin.memory import MemoryClaimSource, Result, resource_claim
from dra_reference.plugin.model import DeviceHealth, PreparedDevice, PrepareRequest
from dra_reference.plugin.server import PluginServer
from dra_reference.plugin.settings import PluginSettings

DRIVER = "gpu.fakehw.dev"
CDI_KIND = "fakehw.dev/gpu"
NODE = "node-a"
DRA = {"v1": (dra_v1_pb2, dra_v1_pb2_grpc), "v1beta1": (dra_v1beta1_pb2, dra_v1beta1_pb2_grpc)}
HEALTH = {"v1": (dra_health_v1_pb2, dra_health_v1_pb2_grpc),
          "v1alpha1": (dra_health_v1alpha1_pb2, dra_health_v1alpha1_pb2_grpc)}


class FakePreparer:
    """A Preparer that records every call; devices named in ``failing`` make prepare fail.

    ``changes`` is its answer to ``changes_devices``; ``on_prepare`` runs at the start of
    each prepare (to look at the checkpoint while the Preparer works, say).
    """

    def __init__(self, *, changes: bool = True) -> None:
        self.prepared: list[PrepareRequest] = []
        self.unprepared: list[CheckpointEntry] = []
        self.rolled_back: list[CheckpointEntry] = []
        self.failing: set[str] = set()
        self.broken_rollback = False
        self.changes = changes
        self.on_prepare: Callable[[PrepareRequest], None] | None = None

    def changes_devices(self, request: PrepareRequest) -> bool:
        return self.changes

    def prepare(self, request: PrepareRequest) -> Sequence[PreparedDevice]:
        self.prepared.append(request)
        if self.on_prepare is not None:
            self.on_prepare(request)
        for device in request.devices:
            if device.device in self.failing:
                raise RuntimeError(f"device {device.device} is on fire")
        return [PreparedDevice(device, _edits(device.device, device.parameters),
                               undo={"reset": device.device}) for device in request.devices]

    def unprepare(self, entry: CheckpointEntry) -> None:
        self.unprepared.append(entry)

    def rollback(self, entry: CheckpointEntry) -> None:
        self.rolled_back.append(entry)
        if self.broken_rollback:
            raise RuntimeError("rollback is broken too")

    def prepared_uids(self) -> list[str]:
        return [request.claim.uid for request in self.prepared]


def _edits(device: str, parameters: Any) -> ContainerEdits:
    """Like the upstream test driver: string parameters become environment variables."""
    env = [f"FAKE_DEVICE={device}"] + [f"{key}={value}" for key, value in
                                       sorted(parameters.items()) if isinstance(value, str)]
    return ContainerEdits(env=tuple(env), device_nodes=(
        DeviceNode(f"/dev/fake/{device}", type="c", major=10, minor=200, permissions="rw"),))


class QueueHealthSource:
    """A HealthSource fed by the test through ``publish``."""

    def __init__(self) -> None:
        self._snapshots: queue.Queue[Sequence[DeviceHealth] | Exception] = queue.Queue()

    def publish(self, snapshot: Sequence[DeviceHealth] | Exception) -> None:
        self._snapshots.put(snapshot)

    def watch(self, stop: threading.Event) -> Iterator[Sequence[DeviceHealth]]:
        while not stop.is_set():
            try:
                item = self._snapshots.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, Exception):
                raise item
            yield item


class Kubelet:
    """The kubelet's side of the sockets, built from the generated stubs."""

    def __init__(self, settings: PluginSettings) -> None:
        self.registration_channel = grpc.insecure_channel(f"unix:{settings.registration_socket}")
        self.registration = pluginregistration_v1_pb2_grpc.RegistrationStub(
            self.registration_channel)
        self.dra_channel = grpc.insecure_channel(f"unix:{settings.dra_socket}")  # reused

    def get_info(self) -> Any:
        return self.registration.GetInfo(pluginregistration_v1_pb2.InfoRequest(), timeout=1)

    def notify(self, registered: bool, error: str = "") -> None:
        self.registration.NotifyRegistrationStatus(pluginregistration_v1_pb2.RegistrationStatus(
            plugin_registered=registered, error=error), timeout=5)

    def prepare(self, *claims: tuple[str, str, str], version: str = "v1") -> Any:
        pb, stubs = DRA[version]
        request = pb.NodePrepareResourcesRequest(claims=[
            pb.Claim(namespace=ns, name=name, uid=uid) for ns, name, uid in claims])
        return stubs.DRAPluginStub(self.dra_channel).NodePrepareResources(request, timeout=45)

    def unprepare(self, *claims: tuple[str, str, str], version: str = "v1") -> Any:
        pb, stubs = DRA[version]
        request = pb.NodeUnprepareResourcesRequest(claims=[
            pb.Claim(namespace=ns, name=name, uid=uid) for ns, name, uid in claims])
        return stubs.DRAPluginStub(self.dra_channel).NodeUnprepareResources(request, timeout=45)

    def watch_health(self, version: str = "v1") -> Any:
        pb, stubs = HEALTH[version]
        return stubs.DRAResourceHealthStub(self.dra_channel).NodeWatchResources(
            pb.NodeWatchResourcesRequest(), timeout=30)

    def close(self) -> None:
        self.registration_channel.close()
        self.dra_channel.close()


@dataclass
class Plugin:
    """A running plugin instance plus the kubelet talking to it; ``restart`` replaces both."""

    root: Path
    preparer: FakePreparer = field(default_factory=FakePreparer)
    claims: MemoryClaimSource = field(default_factory=MemoryClaimSource)
    health: QueueHealthSource | None = None
    generation: int = 0
    server: PluginServer = field(init=False)
    kubelet: Kubelet = field(init=False)

    def settings(self, instance: str | None = None) -> PluginSettings:
        return PluginSettings(DRIVER, CDI_KIND, instance_id=instance or f"i{self.generation}",
                              registry_dir=self.root / "registry",
                              plugins_dir=self.root / "plugins", cdi_dir=self.root / "cdi",
                              health_resend_seconds=0.5)

    def start(self) -> Plugin:
        self.server = PluginServer(self.settings(), preparer=self.preparer, claims=self.claims,
                                   health=self.health)
        self.server.start()
        self.kubelet = Kubelet(self.server.settings)
        return self

    def stop(self) -> None:
        self.kubelet.close()
        self.server.stop()
        self.server.raise_thread_errors()

    def restart(self) -> None:
        """A new instance (a new pod: another instance ID) over the same node directories."""
        self.stop()
        self.generation += 1
        self.start()

    @property
    def cdi_dir(self) -> Path:
        return self.root / "cdi"

    def cdi_files(self) -> list[str]:
        return sorted(path.name for path in self.cdi_dir.glob("*.json"))

    @property
    def checkpoint_path(self) -> Path:
        return self.server.settings.checkpoint

    def add_claim(self, name: str, uid: str, devices: Sequence[str] = ("gpu-0",),
                  namespace: str = "default", **kwargs: Any) -> tuple[str, str, str]:
        results = [Result("gpu", DRIVER, NODE, device) for device in devices]
        self.claims.put(resource_claim(namespace, name, uid, results, **kwargs))
        return namespace, name, uid


@pytest.fixture
def short_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="dra-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def plugin(short_dir: Path) -> Iterator[Plugin]:
    """A started plugin without a health source; stopping re-raises server-thread errors."""
    running = Plugin(short_dir).start()
    yield running
    running.stop()


@pytest.fixture
def health_plugin(short_dir: Path) -> Iterator[Plugin]:
    running = Plugin(short_dir, health=QueueHealthSource()).start()
    yield running
    running.stop()


def devices_of(response: Any, uid: str) -> list[tuple[Any, ...]]:
    """One claim's devices as comparable tuples; fails if the claim carries an error."""
    entry = response.claims[uid]
    assert entry.error == ""
    return [_device_tuple(device) for device in entry.devices]


def _device_tuple(device: Any) -> tuple[Any, ...]:
    share_id = None
    if "share_id" in device.DESCRIPTOR.fields_by_name and device.HasField("share_id"):
        share_id = device.share_id
    return (tuple(device.request_names), device.pool_name, device.device_name,
            tuple(device.cdi_device_ids), share_id)
