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


MISNAMED_GRACE = 3.0  # seconds a socket named after the driver may answer with another name


def find_registration_socket(path: Path, driver: str, timeout: float = 0.0) -> Path | None:
    """``path`` itself if it is a socket, else the socket in directory ``path`` whose plugin
    calls itself ``driver``; waits up to ``timeout`` seconds for one to appear. Gives up
    sooner when a socket named after the driver (``<driver>-reg.sock``, the kubeletplugin
    helper's name, or ``<driver>-<instance>-reg.sock``) keeps answering with another name
    for MISNAMED_GRACE seconds: that is the driver, registering under a name it should not."""
    deadline = time.monotonic() + timeout
    misnamed_since: float | None = None
    while True:
        found, misnamed = _find_once(path, driver)
        now = time.monotonic()
        misnamed_since = (misnamed_since or now) if misnamed else None
        if found is not None or now >= deadline or (
                misnamed_since is not None and now - misnamed_since >= MISNAMED_GRACE):
            return found
        time.sleep(0.2)


def _find_once(path: Path, driver: str) -> tuple[Path | None, bool]:
    """The driver's socket, and whether a socket named after it answers with another name."""
    if not path.is_dir():
        return (path if _is_socket(path) else None), False
    candidates = sorted((p for p in path.iterdir() if not p.name.startswith(".")
                         and _is_socket(p)), key=lambda p: p.stat().st_mtime, reverse=True)
    misnamed = False
    for candidate in candidates:  # newest first: a new instance wins, as in the kubelet
        name = plugin_name(candidate)
        if name == driver:
            return candidate, False
        misnamed |= name is not None and candidate.name.startswith(f"{driver}-")
    return None, misnamed


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
