"""Processes a tree keeps running (the cameras' server), started with it and ended with it.

Only processes recorded in the tree's state are ended, by PID, and only when their command
line still shows they are ours, so a recycled PID is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from fakehw.tree.state import TreeState

STOP_TIMEOUT = 10.0
# Popen objects of processes this Python process started, so stopping them reaps them through
# Popen (Python warns about a child it started and never waited for).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def adopt(process: subprocess.Popen[bytes]) -> None:
    """Remember a detached child started here, for ``stop_processes`` to reap."""
    _CHILDREN[process.pid] = process


def is_ours(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"fakehw" in cmdline


def stop_processes(state: TreeState) -> None:
    for name, pid in list(state.processes.items()):
        if is_ours(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while not _gone(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
                while not _gone(pid):
                    time.sleep(0.05)
        del state.processes[name]


def _gone(pid: int) -> bool:
    """Collect the process if it is our child (a zombie shows no command line), then ask."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return False
        del _CHILDREN[pid]
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return not is_ours(pid)
