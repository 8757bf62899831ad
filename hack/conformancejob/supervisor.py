"""The driver processes: started, kept running, restarted on request, stopped.

The supervisor plays the kubelet's part for a DaemonSet: a driver that exits is started
again. The suite's restartCommand (``restart-driver``) leaves a marker and sends SIGTERM, so
a requested restart is told apart from a crash, which is reported. Every start is written to
a registry file, read by ``restart-driver`` and by the next run, which stops drivers a run
with ``--keep`` left behind (by PID and start time, never by name).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.markup import escape

STOP_TIMEOUT = 20.0
POLL = 0.05
CRASH_LIMIT = 5


class DriverError(RuntimeError):
    """A driver process that does not run as it must."""


def process_start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), telling it from a reused PID;
    None once it has ended (a zombie counts as ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


@dataclass
class Supervised:
    """One driver process, started again whenever it exits until told to stop."""

    label: str
    command: list[str]
    log: Path
    node: str = ""
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    requested_restarts: int = 0

    @property
    def crashes(self) -> int:
        return max(0, self.starts - 1 - self.requested_restarts)

    def start(self) -> None:
        with self.log.open("ab") as sink:
            sink.write(f"--- start {self.starts + 1}: {shlex.join(self.command)}\n".encode())
            sink.flush()
            # A session of its own: a ^C on the terminal reaches only the job, which stops
            # the drivers itself rather than racing the supervisor.
            self.process = subprocess.Popen(self.command, stdout=sink, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Supervisor:
    registry: Path
    echo: Callable[[str], None]
    drivers: list[Supervised] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def add(self, driver: Supervised) -> None:
        with self._lock:
            driver.start()
            self.drivers.append(driver)
            self._save()
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
            self._thread.start()

    def check_running(self) -> None:
        """Raise DriverError if a driver keeps exiting on its own."""
        for driver in self.drivers:
            if driver.crashes >= CRASH_LIMIT:
                raise DriverError(f"{driver.label} exited {driver.crashes} times; its log "
                                  f"{driver.log} ends:\n{driver.tail()}")

    def stop(self) -> None:
        """Stop watching, then SIGTERM every driver; SIGKILL what outlives STOP_TIMEOUT."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            running = [d.process for d in self.drivers
                       if d.process is not None and d.process.poll() is None]
            for process in running:
                process.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT
            for driver in self.drivers:
                if driver.process is None:
                    continue
                try:
                    driver.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.echo(f"{driver.label} ignored SIGTERM for {STOP_TIMEOUT:.0f}s; killed")
                    driver.process.kill()
                    driver.process.wait()
            if self.drivers:
                self.registry.unlink(missing_ok=True)

    def _watch(self) -> None:
        while not self._stopping.wait(POLL):
            with self._lock:
                for driver in self.drivers:
                    if driver.process is None or driver.process.poll() is None:
                        continue
                    if _take_marker(self.registry, driver.node or driver.label):
                        driver.requested_restarts += 1
                    else:
                        self.echo(f"[yellow]{driver.label} exited with status "
                                  f"{driver.process.returncode}; starting it again. Its log "
                                  f"{driver.log} ends:[/]\n{escape(driver.tail(5))}")
                    driver.start()
                    self._save()

    def _save(self) -> None:
        entries = [{"label": d.label, "node": d.node, "pid": d.process.pid,
                    "started": process_start_time(d.process.pid), "starts": d.starts,
                    "command": d.command} for d in self.drivers if d.process is not None]
        temp = self.registry.with_suffix(".tmp")
        temp.write_text(json.dumps(entries, indent=2))
        temp.replace(self.registry)


def _marker(registry: Path, who: str) -> Path:
    return registry.with_name(f"restart-{who}")


def _take_marker(registry: Path, who: str) -> bool:
    try:
        _marker(registry, who).unlink()
    except FileNotFoundError:
        return False
    return True


def stop_recorded(registry: Path, echo: Callable[[str], None]) -> None:
    """Stop the drivers a run with ``--keep`` left running, as its registry records them."""
    try:
        entries = json.loads(registry.read_text())
    except (OSError, ValueError):
        return
    for entry in entries:
        pid = int(entry["pid"])
        if entry.get("started") and process_start_time(pid) == entry["started"]:
            echo(f"stopping {entry['label']} (pid {pid}) left running by an earlier run")
            end_process(pid, entry["started"])
    registry.unlink(missing_ok=True)


def end_process(pid: int, started: str, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM ``pid`` if it is still the process that started at ``started`` (not a reused
    PID), SIGKILL it after ``timeout`` seconds."""
    if process_start_time(pid) != started:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while process_start_time(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    if process_start_time(pid) is not None:
        os.kill(pid, signal.SIGKILL)


def restart(registry: Path, node: str, timeout: float) -> tuple[int, int]:
    """Ask the supervisor to restart ``node``'s driver; wait until the new process listens
    on its registration socket. Returns the old and the new PID."""
    old = _entry(registry, node)
    _marker(registry, node).touch()
    os.kill(int(old["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(POLL)
        new = _entry(registry, node)
        if new["pid"] != old["pid"] and _serving(new):
            return int(old["pid"]), int(new["pid"])
    raise DriverError(f"the driver of {node} was not serving again after {timeout:.0f}s; "
                      f"see its log beside {registry}")


def _entry(registry: Path, node: str) -> dict[str, Any]:
    for entry in json.loads(registry.read_text()):
        if entry["node"] == node:
            return dict(entry)
    raise DriverError(f"{registry} lists no driver of node {node}")


def _serving(entry: dict[str, Any]) -> bool:
    """Whether the process listens on its registration socket: the old process has
    exited, so a listener there is the new one."""
    command = list(entry["command"])
    try:
        registry_dir = command[command.index("--registry-dir") + 1]
        instance = command[command.index("--instance-id") + 1]
        driver = command[command.index("--driver-name") + 1]
    except (ValueError, IndexError):
        return False
    return listening(Path(f"{registry_dir}/{driver}-{instance}-reg.sock"))


def listening(path: Path) -> bool:
    """Whether a process accepts connections on the unix socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
