"""Partial reconfiguration: loading a GBS image into an FPGA's port, as the kernel shows it.

A real PR (fpga_region_program_fpga) disables the region's bridge, which holds the port in
reset, walks the FPGA manager through ``firmware request``, ``write init``, ``write`` and
``write complete``, then re-enables the bridge with the new AFU in place and the manager
``operating``. A failed load leaves the manager in its error state with the reason in
``status`` and the bridge disabled: the port stays in reset until a good image is loaded.
This module replays that on the tree, taking the profile's programming time in total, and
rewrites each file in place so a driver watching it (inotify or polling) sees every step.

The check that an image fits is done where the PR hardware does it, at ``write init``: an image
built for another PR interface than the region's ``compat_id`` ends in ``write init error``
with ``reconfig incompatible image``. One programming at a time per FPGA: a second one fails
as busy (or, with ``wait``, queues behind the first, as a blocking sysfs write would).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from fakehw.devices.fpga.errors import FPGABusyError, IncompatibleBitstreamError
from fakehw.devices.fpga.gbs import Bitstream, read_bitstream
from fakehw.devices.fpga.layout import FPGALayout
from fakehw.errors import DeviceStateError, UnknownDeviceError
from fakehw.tree import state as tree_state
from fakehw.tree.writer import DeviceRecord

STEPS = (("firmware request", 0.1), ("write init", 0.1), ("write", 0.7), ("write complete", 0.1))
INCOMPATIBLE = "reconfig incompatible image"
T = TypeVar("T")


@dataclass(frozen=True)
class ProgramResult:
    fpga: str
    bitstream: str
    interface_id: str
    afu_id: str
    previous_afu_id: str
    seconds: float
    states: tuple[str, ...]


def program(root: Path, fpga_name: str, bitstream_path: Path | str, *,
            wait: bool = False) -> ProgramResult:
    """Load the GBS file into ``fpga_name``'s port; return what changed.

    Raises ``UnknownDeviceError`` (no such FPGA), ``DeviceStateError`` (unplugged),
    ``BitstreamError`` (unreadable or not GBS; the tree is left alone),
    ``IncompatibleBitstreamError`` (wrong PR interface) and ``FPGABusyError``.
    """
    root = Path(root).absolute()
    find_fpga(root, fpga_name)
    image = read_bitstream(bitstream_path)
    with _claim(root, fpga_name, wait):
        record = find_fpga(root, fpga_name)  # it may have gone while we waited
        return _load(root, record, image, str(bitstream_path))


def find_fpga(root: Path, name: str) -> DeviceRecord:
    """The plugged-in FPGA called ``name`` (or with that BDF), or an error saying what is."""
    with tree_state.locked(root):
        state = tree_state.load(root)
    record = state.find(name)
    if record.kind != "fpga":
        fpgas = ", ".join(r.name for r in state.devices if r.kind == "fpga") or "none"
        raise UnknownDeviceError(f"{record.name} is a {record.kind}, not an FPGA; "
                                 f"FPGAs in the tree at {root}: {fpgas}")
    if record.name in state.unplugged:
        raise DeviceStateError(f"{record.name} is unplugged; replug it with "
                               f"'fakehw replug {record.name}' before programming it")
    return record


def fail_request(root: Path, name: str) -> None:
    """Show that the FPGA manager could not load the requested firmware file."""
    record = find_fpga(Path(root).absolute(), name)
    _Card(Path(root).absolute(), record).put("state", "firmware request error")


@contextlib.contextmanager
def _claim(root: Path, name: str, wait: bool) -> Iterator[None]:
    """Hold the FPGA's port for one programming; a lock dies with its process, never stale."""
    folder = tree_state.state_dir(root) / "fpga"
    folder.mkdir(exist_ok=True)
    with (folder / f"{name}.busy").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise FPGABusyError(
                f"{name} is busy: a bitstream is being programmed into its port; wait until "
                f"its fpga_manager state reads 'operating' and program again") from None
        yield


def _load(root: Path, record: DeviceRecord, image: Bitstream, source: str) -> ProgramResult:
    card = _Card(root, record)
    seconds = int(record.attributes.get("programmingMillis", 0)) / 1000
    previous, compat = card.read("afu_id"), card.read("compat_id")
    states: list[str] = []
    card.put("bridge", "disabled")
    for state, share in STEPS:
        card.put("state", state)
        states.append(state)
        time.sleep(seconds * share)
        if state == "write init" and image.interface_id != compat:
            card.put("status", f"{INCOMPATIBLE}\n")  # first, so it is there with the state
            card.put("state", "write init error")
            raise IncompatibleBitstreamError(
                f"{source}: built for PR interface {image.interface_id}, but {record.name}'s "
                f"region has compat_id {compat}; its fpga_manager is in 'write init error' "
                f"and its AFU is unchanged. Use a bitstream built for {compat}")
        if state == "write init":
            card.put("status", "")
    card.put("afu_id", image.afu_id)
    card.put("state", "operating")
    card.put("bridge", "enabled")
    _remember(root, record.name, image.afu_id)
    return ProgramResult(record.name, source, image.interface_id, image.afu_id, previous,
                         seconds, (*states, "operating"))


def _remember(root: Path, name: str, afu_id: str) -> None:
    with tree_state.locked(root):
        state = tree_state.load(root)
        state.find(name).attributes["afuId"] = afu_id
        tree_state.save(state)


class _Card:
    """The files programming touches, rewritten in place (same inode, one write each)."""

    def __init__(self, root: Path, record: DeviceRecord) -> None:
        layout, sys = FPGALayout.of(record), root / "sys"
        self.name = record.name
        self.files = {
            "state": sys / layout.manager_path / "state",
            "status": sys / layout.manager_path / "status",
            "bridge": sys / layout.bridge_path / "state",
            "compat_id": sys / layout.compat_path / "compat_id",
            "afu_id": sys / layout.port_path / "afu_id",
        }

    def read(self, key: str) -> str:
        return self._guard(lambda: self.files[key].read_text().strip())

    def put(self, key: str, text: str) -> None:
        data = (text if key == "status" else f"{text}\n").encode()  # status: lines or nothing
        self._guard(lambda: _rewrite(self.files[key], data))

    def _guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except FileNotFoundError:
            raise DeviceStateError(f"{self.name} was unplugged while being programmed; "
                                   f"replug it and program it again") from None


def _rewrite(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
