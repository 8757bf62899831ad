"""A running node's hardware: the tree plus its cameras, which live until ``fakehw down``.

The camera daemon runs detached from the command that started it (its own session), logs to
``ROOT/.fakehw/cameras.log`` and is steered through ``ROOT/.fakehw/cameras.sock``. ``up``
waits for its ready line, so a port already in use fails ``up`` with the daemon's reason.
"""

from __future__ import annotations

import dataclasses
import json
import select
import subprocess
import sys
import time
from pathlib import Path

from fakehw import machine
from fakehw.camera.config import from_profile
from fakehw.errors import CameraError
from fakehw.profiles.model import HardwareProfile
from fakehw.tree import state as tree_state

READY_TIMEOUT = 30.0
LOG_TAIL = 15
# The daemon outlives the Popen that started it on purpose; holding the objects keeps Python
# from warning that a child it spawned is still running when they are collected.
_DETACHED: list[subprocess.Popen[bytes]] = []


def up(profile: HardwareProfile, root: Path, node_name: str = "", *,
       cameras: bool = True) -> tree_state.TreeState:
    """Materialize the profile and start its cameras; on any failure remove all of it."""
    machine.up(profile, root, node_name)
    try:
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
    folder = tree_state.state_dir(root.absolute())
    config = folder / "cameras.json"
    config.write_text(json.dumps(
        {"cameras": [dataclasses.asdict(from_profile(c)) for c in profile.cameras]}))
    log = folder / "cameras.log"
    with log.open("ab") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "fakehw.camera", "serve", "--config", str(config),
             "--control-socket", str(control_socket(root))],
            stdout=subprocess.PIPE, stderr=errors, start_new_session=True)
    ready = _wait_ready(process, log)
    _DETACHED.append(process)
    with tree_state.locked(root):
        state = tree_state.load(root)
        state.processes["cameras"] = process.pid
        state.cameras = ready["cameras"]
        tree_state.save(state)
    return ready["cameras"]


def _wait_ready(process: subprocess.Popen[bytes], log: Path) -> dict[str, list[dict[str, str]]]:
    if process.stdout is None:
        raise CameraError("the camera daemon was started without an output pipe")
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
    raise CameraError(f"the camera daemon did not start (exit {process.returncode}); "
                      f"its log {log} ends with:\n{tail}")

