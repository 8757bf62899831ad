"""A running node's hardware: the tree plus the processes that live until ``fakehw down``.

Two processes may run beside a tree, detached from the command that started them (their own
session), each logging to ``ROOT/.fakehw/<name>.log``: the camera daemon, steered through
``ROOT/.fakehw/cameras.sock``, and the watcher that plays the kernel's part when a driver
writes an attribute with an effect (``fakehw.watcher``). ``up`` waits for each one's ready
line, so a camera port already in use fails ``up`` with the daemon's reason.
"""

from __future__ import annotations

import dataclasses
import json
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from fakehw import daemon, machine
from fakehw.camera.config import from_profile
from fakehw.errors import CameraError, TreeError
from fakehw.profiles.model import HardwareProfile
from fakehw.tree import state as tree_state

READY_TIMEOUT = 30.0
LOG_TAIL = 15


def up(profile: HardwareProfile, root: Path, node_name: str = "", *,
       cameras: bool = True) -> tree_state.TreeState:
    """Materialize the profile and start its cameras; on any failure remove all of it."""
    machine.up(profile, root, node_name)
    try:
        if profile.fpgas or profile.cxl:
            start_watcher(root)
        if cameras and profile.cameras:
            start_cameras(root, profile)
    except BaseException:
        machine.down(root)
        raise
    return tree_state.load(root.absolute())


def control_socket(root: Path) -> Path:
    return tree_state.state_dir(root.absolute()) / "cameras.sock"


def start_cameras(root: Path, profile: HardwareProfile) -> list[dict[str, str]]:
    """Start the daemon serving the profile's cameras; record it in the tree's state."""
    config = tree_state.state_dir(root.absolute()) / "cameras.json"
    config.write_text(json.dumps(
        {"cameras": [dataclasses.asdict(from_profile(c)) for c in profile.cameras]}))
    ready = _spawn(root, "cameras", ["-m", "fakehw.camera", "serve", "--config", str(config),
                                     "--control-socket", str(control_socket(root))])
    cameras: list[dict[str, str]] = ready["cameras"]
    with tree_state.locked(root):
        state = tree_state.load(root)
        state.cameras = cameras
        tree_state.save(state)
    return cameras


def start_watcher(root: Path) -> None:
    """Start the process that plays the kernel's part for writable attributes."""
    _spawn(root, "watcher", ["-m", "fakehw.watcher", "--root", str(root.absolute())])


def _spawn(root: Path, name: str, arguments: list[str]) -> dict[str, Any]:
    """Start ``python ARGUMENTS`` detached, wait for its JSON ready line, record its PID."""
    log = tree_state.state_dir(root.absolute()) / f"{name}.log"
    with log.open("ab") as errors:
        process = subprocess.Popen([sys.executable, *arguments], stdout=subprocess.PIPE,
                                   stderr=errors, start_new_session=True)
    ready = _wait_ready(process, log, name)
    daemon.adopt(process)
    with tree_state.locked(root):
        state = tree_state.load(root)
        state.processes[name] = process.pid
        tree_state.save(state)
    return ready


def _wait_ready(process: subprocess.Popen[bytes], log: Path, name: str) -> dict[str, Any]:
    if process.stdout is None:
        raise CameraError(f"the {name} process was started without an output pipe")
    with process.stdout as output:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            readable, _, _ = select.select([output], [], [], 0.2)
            line = output.readline() if readable else b""
            if line:
                return json.loads(line)  # type: ignore[no-any-return]
            if process.poll() is not None:
                break
    if process.poll() is None:
        process.kill()
    process.wait()
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-LOG_TAIL:])
    error = CameraError if name == "cameras" else TreeError
    raise error(f"the {name} process did not start (exit {process.returncode}); "
                f"its log {log} ends with:\n{tail}")
