"""Starting and stopping the cluster's processes, by PID and process group only.

Each component runs in a session of its own (`start_new_session`), so its PID is also its
process-group ID and SIGTERM reaches its helpers. A record keeps the process's start time from
/proc, so a later `down` never signals an unrelated process that reused the PID.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fakehw.cluster.binaries.gotool import tail
from fakehw.cluster.errors import ComponentError
from fakehw.cluster.local.hints import explain


@dataclass(frozen=True)
class ProcessRecord:
    """A process the cluster started: enough to find it again and to explain its death."""

    name: str
    pid: int
    start_time: int
    log: str
    argv: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessRecord:
        return cls(data["name"], int(data["pid"]), int(data["start_time"]), data["log"],
                   tuple(data["argv"]))


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces; fields follow the last ')'.
    return text[text.rindex(")") + 2 :].split()


def start_time(pid: int) -> int:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    fields = _stat(pid)
    return int(fields[19]) if fields else -1


def is_running(record: ProcessRecord) -> bool:
    """True while the recorded process exists, is the same process, and is not a zombie."""
    fields = _stat(record.pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == record.start_time


# Popen objects of processes this Python process started, kept so they are reaped (and so
# Python does not warn that a still-running child was garbage-collected).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def spawn(name: str, argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None
          ) -> ProcessRecord:
    """Start `argv` in a new session with stdout and stderr appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as stream:
        process = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=stream, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True, env=dict(env) if env is not None else None,
        )
    _CHILDREN[process.pid] = process
    return ProcessRecord(name, process.pid, start_time(process.pid), str(log), tuple(argv))


def _reap(pid: int) -> None:
    # Only possible when this Python process started it; harmless otherwise.
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _signal(record: ProcessRecord, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(record.pid) == record.pid:
            os.killpg(record.pid, sig)
        else:
            os.kill(record.pid, sig)


def stop(record: ProcessRecord, timeout: float = 10.0) -> None:
    """SIGTERM the process group, wait up to `timeout`, then SIGKILL it."""
    if not is_running(record):
        _reap(record.pid)
        return
    _signal(record, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(record.pid)
        if not is_running(record):
            _reap(record.pid)  # it may have turned zombie after the first look
            return
        time.sleep(0.05)
    _signal(record, signal.SIGKILL)
    while is_running(record):
        _reap(record.pid)
        time.sleep(0.02)
    _reap(record.pid)


def wait_ready(record: ProcessRecord, ready: Callable[[], bool], timeout: float,
               what: str = "ready") -> None:
    """Poll `ready` until it holds; fail with the log tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return
        if not is_running(record):
            _reap(record.pid)
            raise _failure(record, f"exited before it was {what}")
        if time.monotonic() > deadline:
            raise _failure(record, f"not {what} after {timeout:.0f}s")
        time.sleep(0.1)


def _failure(record: ProcessRecord, problem: str) -> ComponentError:
    log_tail = tail(Path(record.log), 25)
    return ComponentError(record.name, problem, log_tail, explain(log_tail))


def pids_of_executable(executable: Path, argument: str) -> list[int]:
    """PIDs running `executable` whose command line contains `argument` (our shims)."""
    found: list[int] = []
    target = str(executable.resolve())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            exe = os.readlink(entry / "exe")
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if exe == target and argument in cmdline:
            found.append(int(entry.name))
    return found


def kill_pids(pids: Sequence[int]) -> None:
    """SIGKILL each PID (processes we identified as ours, e.g. container shims)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
