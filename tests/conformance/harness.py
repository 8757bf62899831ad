"""The reference driver's kubelet plugin, wired up so the conformance suite can judge it.

The suite never imports a driver; its own tests may. This builds the reference
``PluginServer`` on short unix-socket paths over a test Preparer (string parameters of the
effective opaque config become environment variables, as in the upstream test driver), keeps
its claims in memory, and offers the suite a ClaimStore writing into that memory. The
``harness_plugin`` module hands the running harness to an in-process pytest run.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dra_conformance.claims.model import ClaimRef, ClaimSpec, DeviceRef
from dra_reference.cdi import ContainerEdits, DeviceNode
from dra_reference.checkpoint import CheckpointEntry
from dra_reference.errors import PermanentError
from dra_reference.plugin.memory import Config, MemoryClaimSource, Result, resource_claim
from dra_reference.plugin.model import PreparedDevice, PrepareRequest
from dra_reference.plugin.server import PluginServer
from dra_reference.plugin.settings import PluginSettings

DRIVER = "gpu.fakehw.dev"
CDI_KIND = "fakehw.dev/gpu"
NODE = "node-a"
VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")
DEVICES = tuple(DeviceRef(NODE, f"gpu-{index}") for index in range(4))


class EnvPreparer:
    """Every device gets FAKE_DEVICE and one variable per string parameter; a device the
    harness does not publish cannot be prepared, as on a real node, and a parameter that is
    no variable name is refused."""

    def prepare(self, request: PrepareRequest) -> Sequence[PreparedDevice]:
        known = {(d.pool, d.device) for d in DEVICES}
        for device in request.devices:
            if (device.pool, device.device) not in known:
                raise PermanentError(f"no device {device.pool}/{device.device} on this node")
            if wrong := [k for k in device.parameters if not VARIABLE.fullmatch(k)]:
                raise PermanentError(f"unknown parameters {wrong}: each must be a variable name")
        return [PreparedDevice(device, _edits(device.device, device.parameters))
                for device in request.devices]

    def unprepare(self, entry: CheckpointEntry) -> None:
        pass

    def rollback(self, entry: CheckpointEntry) -> None:
        pass


def _edits(device: str, parameters: Any) -> ContainerEdits:
    env = [f"FAKE_DEVICE={device}"] + [f"{key}={value}" for key, value in
                                       sorted(parameters.items()) if isinstance(value, str)]
    return ContainerEdits(env=tuple(env), device_nodes=(
        DeviceNode(f"/dev/fake/{device}", type="c", major=10, minor=200, permissions="rw"),))


class MemoryStore:
    """A ClaimStore over the driver's in-memory claim source."""

    def __init__(self, source: MemoryClaimSource, namespace: str = "conformance") -> None:
        self.source = source
        self.namespace = namespace

    def create(self, spec: ClaimSpec) -> ClaimRef:
        ref = ClaimRef(self.namespace, spec.name, str(uuid.uuid4()))
        results = None if spec.results is None else [
            Result(r.request, r.driver, r.pool, r.device, share_id=r.share_id,
                   consumed_capacity=r.consumed_capacity) for r in spec.results]
        configs = [Config(c.source, c.driver, c.parameters, c.requests) for c in spec.configs]
        self.source.put(resource_claim(ref.namespace, ref.name, ref.uid, results, configs))
        return ref

    def replace(self, ref: ClaimRef, spec: ClaimSpec) -> ClaimRef:
        self.delete(ref)
        return self.create(spec)

    def delete(self, ref: ClaimRef) -> None:
        self.source.delete(ref.namespace, ref.name)

    def close(self) -> None:
        pass


@dataclass
class Harness:
    """A running reference plugin in a short temporary directory."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="drac-",
                                                                     dir="/tmp")))
    claims: MemoryClaimSource = field(default_factory=MemoryClaimSource)
    generation: int = 0
    server: PluginServer | None = None

    @property
    def registry(self) -> Path:
        return self.root / "registry"

    @property
    def cdi_dir(self) -> Path:
        return self.root / "cdi"

    def settings(self) -> PluginSettings:
        return PluginSettings(DRIVER, CDI_KIND, instance_id=f"i{self.generation}",
                              registry_dir=self.registry, plugins_dir=self.root / "plugins",
                              cdi_dir=self.cdi_dir, health_resend_seconds=0.5)

    def start(self) -> Harness:
        self.server = PluginServer(self.settings(), preparer=EnvPreparer(), claims=self.claims)
        self.server.start()
        return self

    def restart(self) -> None:
        """A new instance with a new socket name, as a new driver pod would have."""
        self.stop()
        self.generation += 1
        self.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server.raise_thread_errors()
            self.server = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def store(self) -> MemoryStore:
        return MemoryStore(self.claims)

    def profile_yaml(self, features: Sequence[str] = ("v1beta1", "consumableCapacity"),
                     extra: str = "") -> str:
        return f"""apiVersion: conformance.fakehw.dev/v1alpha1
kind: DriverProfile
metadata: {{name: reference-in-process}}
spec:
  driver: {{name: {DRIVER}, version: test}}
  deviceClasses: [{DRIVER}]
  features: [{", ".join(features)}]
  nodes: [{NODE}]
  cdi: {{specDirs: [{self.cdi_dir}]}}
  config:
    parameters: {{MODE: fast}}
    expectEnv: {{MODE: fast}}
    classParameters: {{MODE: slow}}
    classExpectEnv: {{MODE: slow}}
{extra}"""
