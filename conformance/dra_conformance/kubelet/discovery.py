"""Finding a driver's registration socket the way the kubelet's plugin watcher does.

A driver may name its socket per instance (rolling updates need two side by side), so after
a restart the path can change. Given the plugins_registry directory instead of one socket, the
suite asks every socket there for its name, as the watcher does, skipping dot files.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path

import grpc
from dra_kubelet_api.wire import REGISTRATION, REGISTRATION_GRPC


def plugin_name(socket: Path, timeout: float = 2.0) -> str | None:
    """The ``name`` GetInfo answers on ``socket``, or None if nothing answers."""
    with grpc.insecure_channel(f"unix:{socket}") as channel:
        try:
            info = REGISTRATION_GRPC.RegistrationStub(channel).GetInfo(
                REGISTRATION.InfoRequest(), timeout=timeout)
        except grpc.RpcError:
            return None
    return str(info.name)


def find_registration_socket(path: Path, driver: str, timeout: float = 0.0) -> Path | None:
    """``path`` itself if it is a socket, else the socket in directory ``path`` whose plugin
    calls itself ``driver``; waits up to ``timeout`` seconds for one to appear."""
    deadline = time.monotonic() + timeout
    while True:
        found = _find_once(path, driver)
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def _find_once(path: Path, driver: str) -> Path | None:
    if not path.is_dir():
        return path if _is_socket(path) else None
    candidates = sorted((p for p in path.iterdir() if not p.name.startswith(".")
                         and _is_socket(p)), key=lambda p: p.stat().st_mtime, reverse=True)
    for candidate in candidates:  # newest first: a new instance wins, as in the kubelet
        if plugin_name(candidate) == driver:
            return candidate
    return None


def plugin_names(path: Path) -> list[str]:
    """The names the sockets at ``path`` (a socket or a directory) answer GetInfo with."""
    sockets = [path] if not path.is_dir() else sorted(
        p for p in path.iterdir() if not p.name.startswith(".") and _is_socket(p))
    return sorted({name for socket in sockets if _is_socket(socket)
                   if (name := plugin_name(socket)) is not None})


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.stat().st_mode)
    except OSError:
        return False
