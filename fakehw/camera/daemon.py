"""A process hosting several cameras, steered by other processes over a unix socket.

A DRA driver, the conformance suite or a person at a shell changes credentials and injects
faults while the cameras run; they do it by sending one JSON object per line to the control
socket and reading one JSON object back:

    {"command": "add_credential", "camera": "front-door", "username": "u", "password": "p"}
    {"ok": true}
    {"command": "refuse_logins", "camera": "nope"}
    {"ok": false, "error": "no camera named 'nope'; this daemon serves: front-door"}

Commands: add_credential, revoke_credential, refuse_logins, set_streaming, status, shutdown.
``camera`` may be left out when the daemon hosts a single camera. The socket is made 0600
(it mints credentials) and removed on exit; SIGTERM and SIGINT stop the daemon cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fakehw.camera.camera import Camera
from fakehw.camera.config import CameraConfig
from fakehw.errors import CameraError, FakeHWError

MAX_LINE = 64 * 1024
COMMANDS = ("add_credential", "revoke_credential", "refuse_logins", "set_streaming", "status",
            "shutdown")
Reply = dict[str, Any]


class CameraDaemon:
    """Cameras plus the command interpreter behind the control socket."""

    def __init__(self, configs: Iterable[CameraConfig]) -> None:
        self.cameras = {c.name: Camera(c) for c in configs}
        self.stopping = asyncio.Event()

    def start(self) -> None:
        started: list[Camera] = []
        try:
            for cam in self.cameras.values():
                started.append(cam.start())
        except BaseException:
            for cam in started:
                cam.stop()
            raise

    def stop(self) -> None:
        for cam in self.cameras.values():
            cam.stop()

    def status(self) -> list[Reply]:
        rows = []
        for name, cam in self.cameras.items():
            stats = cam.stats()
            rows.append({"name": name, "url": cam.url, "auth": cam.config.auth,
                         "streaming": stats.streaming, "refuse_logins": stats.refuse_logins,
                         "clients": stats.clients, "sessions": stats.sessions,
                         "frames_encoded": stats.frames_encoded,
                         "frame_number": stats.frame_number,
                         "users": cam.list_credentials()})
        return rows

    def camera(self, name: object) -> Camera:
        if name is None and len(self.cameras) == 1:
            return next(iter(self.cameras.values()))
        names = ", ".join(self.cameras)
        if name is None:
            raise CameraError(f"name a camera: this daemon serves {names}")
        cam = self.cameras.get(str(name))
        if cam is None:
            raise CameraError(f"no camera named {name!r}; this daemon serves: {names}")
        return cam

    def execute(self, request: object) -> Reply:
        """Run one command; failures come back as ``{"ok": false, "error": ...}``."""
        try:
            if not isinstance(request, dict) or not isinstance(request.get("command"), str):
                raise CameraError('send a JSON object with a "command" string')
            return {"ok": True, **self._run(request["command"], request)}
        except (FakeHWError, KeyError) as exc:
            message = f"missing argument {exc}" if isinstance(exc, KeyError) else str(exc)
            return {"ok": False, "error": message}

    def _run(self, command: str, args: dict[str, Any]) -> Reply:
        if command not in COMMANDS:
            raise CameraError(f"unknown command {command!r}; use one of: {', '.join(COMMANDS)}")
        if command == "status":
            rows = self.status()
            if args.get("camera") is not None:
                rows = [r for r in rows if r["name"] == self.camera(args["camera"]).config.name]
            return {"cameras": rows}
        if command == "shutdown":
            self.stopping.set()
            return {}
        cam = self.camera(args.get("camera"))
        if command == "add_credential":
            cam.add_credential(str(args["username"]), str(args["password"]))
            return {}
        if command == "revoke_credential":
            return {"revoked": cam.revoke_credential(str(args["username"]))}
        if command == "refuse_logins":
            cam.set_refuse_logins(_flag(args, "refuse", True))
            return {}
        cam.set_streaming(_flag(args, "streaming", None))  # the one command left
        return {}

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                except ValueError:
                    reply: Reply = {"ok": False, "error": "not a JSON object on one line"}
                else:
                    reply = self.execute(request)
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, ValueError):
            pass  # the client left, or sent a line longer than MAX_LINE
        finally:
            writer.close()

    async def serve(self, socket_path: Path | None, ready: Callable[[], None]) -> None:
        """Run until ``shutdown``, SIGTERM or SIGINT; cameras must be started already."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stopping.set)
        server = None
        if socket_path is not None:
            _claim_socket_path(socket_path)
            try:
                server = await asyncio.start_unix_server(self._client, socket_path,
                                                         limit=MAX_LINE)
            except OSError as exc:
                raise CameraError(f"cannot listen on control socket {socket_path}: "
                                  f"{exc.strerror}; pick a path in an existing, writable "
                                  "directory, under 108 bytes long") from exc
            socket_path.chmod(0o600)
        try:
            ready()
            await self.stopping.wait()
        finally:
            if server is not None:
                server.close()
                socket_path.unlink(missing_ok=True)  # type: ignore[union-attr]


def _flag(args: dict[str, Any], name: str, default: bool | None) -> bool:
    value = args.get(name, default)
    if not isinstance(value, bool):
        raise CameraError(f'"{name}" must be true or false, got {value!r}')
    return value


def _claim_socket_path(path: Path) -> None:
    """Remove a socket left by a dead daemon; refuse to take over a live one."""
    if not path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(os.fspath(path))
    except OSError:
        path.unlink()  # nobody listens: a leftover
        return
    finally:
        probe.close()
    raise CameraError(f"a camera daemon already listens on {path}; stop it with "
                      f"`fakehw camera shutdown --control-socket {path}` or use another path")


def run(configs: Iterable[CameraConfig], socket_path: Path | None,
        ready: Callable[[CameraDaemon], None]) -> None:
    """Start the cameras, serve the control socket until told to stop, then stop everything."""
    daemon = CameraDaemon(configs)
    daemon.start()
    try:
        asyncio.run(daemon.serve(socket_path, lambda: ready(daemon)))
    finally:
        daemon.stop()
    for cam in daemon.cameras.values():
        cam.check_errors()
