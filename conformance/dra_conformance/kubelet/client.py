"""Calling a driver's sockets as the kubelet does, with answers as plain dataclasses.

The kubelet keeps one connection to the DRA socket and reuses it; so does this client. The
answers are converted to dataclasses at once so tests compare values, not protobuf objects,
and so a missing map entry (a claim the driver did not answer) stays visible as missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from dra_kubelet_api.wire import DRA, DRA_GRPC, HEALTH, HEALTH_GRPC, REGISTRATION, REGISTRATION_GRPC

from dra_conformance.claims.model import ClaimRef

KUBELET_TIMEOUT = 45.0  # the kubelet's deadline for prepare and unprepare


@dataclass(frozen=True)
class PluginInfo:
    type: str
    name: str
    endpoint: str
    supported_versions: tuple[str, ...]


@dataclass(frozen=True)
class Device:
    request_names: tuple[str, ...]
    pool: str
    device: str
    cdi_ids: tuple[str, ...]
    share_id: str | None = None


@dataclass(frozen=True)
class PrepareResult:
    devices: tuple[Device, ...]
    error: str


@dataclass(frozen=True)
class DeviceHealth:
    pool: str
    device: str
    health: int  # 0 unknown, 1 healthy, 2 unhealthy
    last_updated: int
    timeout_seconds: int
    message: str


KUBELET_ROOT = "/var/lib/kubelet"


class KubeletClient:
    """One driver instance: its registration socket and (after GetInfo) its DRA socket."""

    def __init__(self, registration_socket: Path, plugin_socket: Path | None = None,
                 kubelet_root: Path | None = None) -> None:
        self.registration_socket = registration_socket
        self.kubelet_root = kubelet_root
        self._registration = grpc.insecure_channel(f"unix:{registration_socket}")
        self._plugin_socket = plugin_socket
        self._dra: grpc.Channel | None = None

    @property
    def plugin_socket(self) -> Path:
        """The DRA socket: given, else the endpoint GetInfo advertises."""
        if self._plugin_socket is None:
            self._plugin_socket = Path(self.get_info().endpoint)
        return self._plugin_socket

    def get_info(self, timeout: float = 5.0) -> PluginInfo:
        info = REGISTRATION_GRPC.RegistrationStub(self._registration).GetInfo(
            REGISTRATION.InfoRequest(), timeout=timeout)
        return PluginInfo(info.type, info.name, self.seen_here(info.endpoint),
                          tuple(info.supported_versions))

    def seen_here(self, endpoint: str) -> str:
        """The endpoint as this host sees it: below /var/lib/kubelet it is below the node's
        kubelet root when one is given, as the node's kubelet would resolve it."""
        if self.kubelet_root is None:
            return endpoint
        if endpoint == KUBELET_ROOT or endpoint.startswith(f"{KUBELET_ROOT}/"):
            return str(self.kubelet_root) + endpoint[len(KUBELET_ROOT):]
        return endpoint

    def notify(self, registered: bool, error: str = "", timeout: float = 5.0) -> None:
        REGISTRATION_GRPC.RegistrationStub(self._registration).NotifyRegistrationStatus(
            REGISTRATION.RegistrationStatus(plugin_registered=registered, error=error),
            timeout=timeout)

    def prepare(self, claims: Sequence[ClaimRef], version: str = "v1",
                timeout: float = KUBELET_TIMEOUT) -> dict[str, PrepareResult]:
        """NodePrepareResources; the answer keyed by claim UID, as the driver sent it."""
        pb = DRA[version]
        response = self._dra_stub(version).NodePrepareResources(
            pb.NodePrepareResourcesRequest(claims=_claims(pb, claims)), timeout=timeout)
        return {uid: PrepareResult(tuple(_device(d) for d in entry.devices), entry.error)
                for uid, entry in response.claims.items()}

    def unprepare(self, claims: Sequence[ClaimRef], version: str = "v1",
                  timeout: float = KUBELET_TIMEOUT) -> dict[str, str]:
        """NodeUnprepareResources; each claim UID's error text ("" for success)."""
        pb = DRA[version]
        response = self._dra_stub(version).NodeUnprepareResources(
            pb.NodeUnprepareResourcesRequest(claims=_claims(pb, claims)), timeout=timeout)
        return {uid: entry.error for uid, entry in response.claims.items()}

    def watch_health(self, version: str = "v1",
                     timeout: float = 30.0) -> Iterator[tuple[DeviceHealth, ...]]:
        """NodeWatchResources: each message is the driver's complete device list."""
        stub = HEALTH_GRPC[version].DRAResourceHealthStub(self._dra_channel())
        for message in stub.NodeWatchResources(HEALTH[version].NodeWatchResourcesRequest(),
                                               timeout=timeout):
            yield tuple(DeviceHealth(d.device.pool_name, d.device.device_name, d.health,
                                     d.last_updated_time, d.health_check_timeout_seconds,
                                     d.message) for d in message.devices)

    def raw_prepare(self, request: Any, version: str = "v1") -> Any:
        """Send a hand-built request message (for malformed-input tests)."""
        return self._dra_stub(version).NodePrepareResources(request, timeout=KUBELET_TIMEOUT)

    def close(self) -> None:
        self._registration.close()
        if self._dra is not None:
            self._dra.close()
            self._dra = None

    def _dra_channel(self) -> grpc.Channel:
        if self._dra is None:
            self._dra = grpc.insecure_channel(f"unix:{self.plugin_socket}")
        return self._dra

    def _dra_stub(self, version: str) -> Any:
        return DRA_GRPC[version].DRAPluginStub(self._dra_channel())


def _claims(pb: Any, claims: Sequence[ClaimRef]) -> list[Any]:
    return [pb.Claim(namespace=c.namespace, name=c.name, uid=c.uid) for c in claims]


def _device(device: Any) -> Device:
    share_id = None
    if "share_id" in device.DESCRIPTOR.fields_by_name and device.HasField("share_id"):
        share_id = str(device.share_id)
    return Device(tuple(device.request_names), device.pool_name, device.device_name,
                  tuple(device.cdi_device_ids), share_id)
