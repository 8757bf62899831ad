"""Where the plugin puts its sockets and files, decided once when the program starts.

Socket names carry an instance ID so that two instances of the driver can run side by side
during a rolling update (the kubelet prefers the newest registration and falls back to the
other); the registration socket lives in the kubelet's plugins_registry, the DRA socket in
the driver's own directory under plugins. A pod UID (36 characters) makes the registration
socket's path too long for a unix socket under a deep kubelet directory (a test bed's); then
the sockets carry a short digest of the ID instead, still distinct per instance.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from dra_reference.cdi import DEFAULT_SPEC_DIR, validate_name
from dra_reference.errors import ConfigurationError

UNIX_PATH_MAX = 107  # sockaddr_un.sun_path holds 108 bytes including the terminating NUL
SHORT_ID = 8  # hex digits of a shortened instance ID: 2**32 values, for a few instances a node
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")
_INSTANCE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_-]{0,62}[A-Za-z0-9])?")


@dataclass(frozen=True)
class PluginSettings:
    driver_name: str  # a DNS subdomain, e.g. gpu.fakehw.dev
    cdi_kind: str  # vendor/class of the CDI specs, e.g. fakehw.dev/gpu
    instance_id: str = field(default_factory=lambda: secrets.token_hex(4))  # or the pod UID
    registry_dir: Path = Path("/var/lib/kubelet/plugins_registry")
    plugins_dir: Path = Path("/var/lib/kubelet/plugins")
    cdi_dir: Path = DEFAULT_SPEC_DIR
    checkpoint_path: Path | None = None  # default: <plugins_dir>/<driver>/checkpoint.json
    max_workers: int = 16  # each kubelet health stream holds one for its lifetime
    health_resend_seconds: float = 10.0  # the kubelet forgets health after 30 s by default

    @property
    def socket_id(self) -> str:
        """The instance ID, or its digest's first 8 hex digits if the ID would not fit."""
        if max(len(bytes(path)) for path in self._sockets(self.instance_id)) <= UNIX_PATH_MAX:
            return self.instance_id
        return short_id(self.instance_id)

    @property
    def registration_socket(self) -> Path:
        return self._sockets(self.socket_id)[0]

    @property
    def dra_socket(self) -> Path:
        return self._sockets(self.socket_id)[1]

    def _sockets(self, suffix: str) -> tuple[Path, Path]:
        return (self.registry_dir / f"{self.driver_name}-{suffix}-reg.sock",
                self.plugins_dir / self.driver_name / f"dra-{suffix}.sock")

    @property
    def checkpoint(self) -> Path:
        return self.checkpoint_path or self.plugins_dir / self.driver_name / "checkpoint.json"

    def validate(self) -> None:
        """Refuse settings that would fail later, in a worse place."""
        if not _DNS_SUBDOMAIN.fullmatch(self.driver_name):
            raise ConfigurationError(f"driver name {self.driver_name!r} is not a DNS subdomain")
        if not _INSTANCE.fullmatch(self.instance_id):
            raise ConfigurationError(f"instance ID {self.instance_id!r}: use letters, digits, "
                                     "'-' and '_', at most 64 characters")
        vendor, _, cdi_class = self.cdi_kind.partition("/")
        validate_name("vendor", vendor)
        validate_name("class", cdi_class)
        for socket in (self.registration_socket, self.dra_socket):
            if not socket.is_absolute() or len(bytes(socket)) > UNIX_PATH_MAX:
                raise ConfigurationError(
                    f"socket path {socket} must be absolute and at most {UNIX_PATH_MAX} bytes "
                    "(a unix socket limit); use shorter directories or instance ID")


def short_id(instance_id: str) -> str:
    """What sockets are named by when ``instance_id`` would not fit: its digest's start."""
    return hashlib.sha256(instance_id.encode()).hexdigest()[:SHORT_ID]
