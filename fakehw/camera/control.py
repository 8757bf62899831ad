"""``CameraControl``: the client of a camera daemon's control socket, for the CLI and tests.

Each call opens a connection, sends one JSON line and reads one back, so a client holds no
state and a daemon restart between calls is harmless. A reply carrying ``error`` becomes a
``CameraError`` with the daemon's message, which already names the camera and the fix.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from fakehw.errors import CameraError


class CameraControl:
    """Steers the cameras of the daemon listening on ``socket_path``."""

    def __init__(self, socket_path: str | os.PathLike[str], timeout: float = 10.0) -> None:
        self.socket_path = Path(socket_path)
        self.timeout = timeout

    def request(self, command: str, **args: Any) -> dict[str, Any]:
        """Send one command; the reply without its ``ok`` field, or CameraError."""
        line = json.dumps({"command": command, **args}).encode() + b"\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            try:
                sock.connect(os.fspath(self.socket_path))
                sock.sendall(line)
                data = sock.makefile("rb").readline()
            except (FileNotFoundError, ConnectionRefusedError):
                raise CameraError(
                    f"no camera daemon listens on {self.socket_path}; start one with "
                    f"`fakehw camera serve --config FILE --control-socket {self.socket_path}`"
                ) from None
            except OSError as exc:
                raise CameraError(f"camera daemon at {self.socket_path}: {exc}") from exc
        if not data:
            raise CameraError(f"camera daemon at {self.socket_path} hung up without answering "
                              f"{command!r}; see its log")
        reply: dict[str, Any] = json.loads(data)
        if not reply.get("ok"):
            raise CameraError(str(reply.get("error", f"camera daemon refused {command!r}")))
        reply.pop("ok")
        return reply

    def status(self, camera: str | None = None) -> list[dict[str, Any]]:
        cameras: list[dict[str, Any]] = self.request("status", camera=camera)["cameras"]
        return cameras

    def add_credential(self, camera: str | None, username: str, password: str) -> None:
        self.request("add_credential", camera=camera, username=username, password=password)

    def revoke_credential(self, camera: str | None, username: str) -> bool:
        return bool(self.request("revoke_credential", camera=camera, username=username)["revoked"])

    def refuse_logins(self, camera: str | None, refuse: bool = True) -> None:
        self.request("refuse_logins", camera=camera, refuse=refuse)

    def set_streaming(self, camera: str | None, streaming: bool) -> None:
        self.request("set_streaming", camera=camera, streaming=streaming)

    def shutdown(self) -> None:
        self.request("shutdown")

    def wait_ready(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll until the daemon answers ``status``; its cameras, or CameraError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.status()
            except CameraError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)
