"""A camera's credential service: one JSON object per line over a unix socket.

The protocol is fakehw's camera daemon's (and simple enough for a real camera gateway to
offer): ``{"command": "add_credential", "camera": ..., "username": ..., "password": ...}``
answered by ``{"ok": true}`` or ``{"ok": false, "error": "..."}``. A connection per request
keeps the client stateless, so a restarted service is simply used again. An unreachable
service is a retryable error; a refusal is the service's own message.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from dra_reference.errors import PreparerError
from dra_reference.preparers.base import DeviceSetupError

MAX_REPLY = 64 * 1024


class ServiceUnreachableError(PreparerError):
    """No connection could be made: the request was certainly not carried out."""


class CredentialService:
    """The control endpoint at ``socket_path``."""

    def __init__(self, socket_path: Path, timeout: float = 10.0) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    def add(self, camera: str, username: str, password: str) -> None:
        self._request({"command": "add_credential", "camera": camera, "username": username,
                       "password": password})

    def revoke(self, camera: str, username: str) -> bool:
        """Revoke ``username``; False if the camera did not know it (revoked already)."""
        reply = self._request({"command": "revoke_credential", "camera": camera,
                               "username": username})
        return bool(reply.get("revoked", True))

    def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        line = json.dumps(message).encode() + b"\n"
        where = f"camera control endpoint unix://{self.socket_path}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            try:
                sock.connect(str(self.socket_path))
            except OSError as exc:
                raise ServiceUnreachableError(f"{where}: {exc.strerror or exc}") from exc
            try:
                sock.sendall(line)
                data = sock.makefile("rb").readline(MAX_REPLY)
            except OSError as exc:
                raise PreparerError(f"{where}: {exc.strerror or exc} during "
                                    f"{message['command']}") from exc
        try:
            reply = json.loads(data)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise PreparerError(f"camera control endpoint unix://{self.socket_path} answered "
                                f"{data[:200]!r} to {message['command']}")
        if not reply.get("ok"):
            raise DeviceSetupError(f"camera control endpoint refused {message['command']}: "
                                   f"{reply.get('error', 'no reason given')}")
        return reply
