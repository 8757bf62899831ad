"""Partial reconfiguration through the FPGA manager's files: write a name, watch ``state``.

The file interface is the Xilinx kernel's ``fpga_manager/fpgaN/firmware``: writing a firmware
file's name loads it through the kernel's firmware loader, and the manager's ``state`` walks
``firmware request -> write init -> write -> write complete -> operating``, or stops in an
``... error`` state with the reason in ``status``. A kernel finishes the load inside the
write; an emulation (or a loader running elsewhere) may finish it later, so a state that was
already ``operating`` only counts once it has been rewritten, or once nothing changed for a
settle period (the synchronous case). Another load under way is waited for first.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from dra_reference.errors import PreparerError
from dra_reference.preparers.base import DeviceSetupError

BUSY = ("power up", "reset", "firmware request", "write init", "write", "write complete")
SETTLE_SECONDS = 1.0
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class ManagerFiles:
    """One FPGA manager's folder (``.../fpga_manager/fpgaN``), an absolute path."""

    folder: Path

    def read(self, name: str) -> str:
        try:
            return (self.folder / name).read_text().strip()
        except OSError as exc:
            raise PreparerError(f"reading {self.folder / name}: {exc.strerror}") from exc

    def stamp(self) -> tuple[int, str]:
        """When ``state`` last changed, as far as we can tell, and what it says."""
        try:
            return os.stat(self.folder / "state").st_mtime_ns, self.read("state")
        except OSError as exc:
            raise PreparerError(f"FPGA manager {self.folder} vanished: {exc.strerror}") from exc


def load(manager: ManagerFiles, firmware: str, timeout: float) -> None:
    """Load ``firmware`` and return once the manager is ``operating``; errors say why not."""
    deadline = time.monotonic() + timeout
    _wait_idle(manager, deadline)
    before = manager.stamp()
    _request(manager, firmware)
    written = time.monotonic()
    while True:
        now = manager.stamp()
        changed = now != before
        state = now[1]
        if state.endswith("error") and changed:
            status = next((line for line in manager.read("status").splitlines() if line), "")
            raise DeviceSetupError(f"loading {firmware!r}: the FPGA manager stopped in "
                                   f"{state!r}" + (f": {status}" if status else ""))
        if state == "operating" and (changed or time.monotonic() - written > SETTLE_SECONDS):
            return
        if time.monotonic() > deadline:
            raise PreparerError(f"loading {firmware!r}: the FPGA manager still shows "
                                f"{state!r} after {timeout:.0f}s; nothing acted on the request "
                                "(is a firmware loader serving this manager?)")
        time.sleep(POLL_SECONDS)


def _wait_idle(manager: ManagerFiles, deadline: float) -> None:
    """Another load holds the port in reset: wait until it ends (a blocking write would)."""
    while (state := manager.read("state")) in BUSY:
        if time.monotonic() > deadline:
            raise PreparerError(f"the FPGA manager {manager.folder.name} stayed busy "
                                f"({state!r}) with another load; retried later")
        time.sleep(POLL_SECONDS)


def _request(manager: ManagerFiles, firmware: str) -> None:
    path = manager.folder / "firmware"
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, firmware.encode())
        finally:
            os.close(fd)  # closing is what hands the request over
    except OSError as exc:
        raise PreparerError(f"writing {firmware!r} to {path}: {exc.strerror}; this kernel "
                            "may not offer file-triggered FPGA programming") from exc
