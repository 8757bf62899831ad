"""Programming triggered by a file write: a Xilinx-style ``fpga_manager/fpgaN/firmware``.

Mainline Linux programs a DFL card only through an ioctl on ``/dev/dfl-fme.N``, which an
emulated device node cannot serve. Xilinx's kernel adds a writable ``firmware`` attribute:
writing an image's name to it loads that image. fakehw offers the same file so that a driver,
which only sees the tree, can program a card: this watcher (run by the tree's daemon) notices
the write, runs ``program``, and the outcome shows where the kernel shows it, in the manager's
``state`` and ``status``. A file that cannot be loaded ends in ``firmware request error``.

A bare name is looked up as the kernel's firmware loader would, under ``<root>/lib/firmware``;
an absolute path is used as it is, on the machine that runs the watcher. Requests to one FPGA
are served in order, requests to different FPGAs at the same time.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from types import TracebackType

from fakehw.devices.fpga.errors import BitstreamError
from fakehw.devices.fpga.layout import FPGALayout
from fakehw.devices.fpga.programming import fail_request, program
from fakehw.errors import FakeHWError
from fakehw.tree import state as tree_state
from fakehw.tree.inotify import IN_CLOSE_WRITE, Inotify
from fakehw.tree.state import TreeState
from fakehw.tree.writer import DeviceRecord

log = logging.getLogger(__name__)
FIRMWARE_DIR = "lib/firmware"


def watch_firmware_requests(root: Path, stop_event: threading.Event, *,
                            tick: float = 0.1, ready: Callable[[], None] | None = None) -> None:
    """Serve firmware requests for every FPGA of the tree at ``root`` until ``stop_event``.

    Returns once the event is set and the programmings under way have finished. An unexpected
    error in a programming (not a bad or incompatible image, which the tree shows) is raised.
    ``ready`` is called once every manager is watched, so no request can be missed after it.
    """
    root = Path(root).absolute()
    with tree_state.locked(root):
        state = tree_state.load(root)
    with Inotify() as notify, _Requests(root) as requests:
        watches = _watch_managers(notify, state)
        if ready is not None:
            ready()
        while not stop_event.is_set():
            for event in notify.read(tick):
                if event.wd in watches and event.name == "firmware":
                    requests.take(watches[event.wd])
            requests.raise_unexpected()


def _watch_managers(notify: Inotify, state: TreeState) -> dict[int, str]:
    """Watch every FPGA manager's folder, wherever it is now; map each watch to its FPGA."""
    return {notify.add_watch(_manager_folder(state, record), IN_CLOSE_WRITE): record.name
            for record in state.devices if record.kind == "fpga"}


def _manager_folder(state: TreeState, record: DeviceRecord) -> Path:
    layout, root = FPGALayout.of(record), Path(state.root)
    if record.name not in state.unplugged:
        return root / "sys" / layout.manager_path
    # machine.unplug parks the device's folder here; the watch follows it back on replug.
    inside = PurePosixPath(layout.manager_path).relative_to(record.sysfs)
    return tree_state.state_dir(root) / "unplugged" / record.name / inside


def resolve(root: Path, request: str) -> Path:
    """Where a requested image is: an absolute path, or a name under ``<root>/lib/firmware``."""
    path = Path(request)
    return path if path.is_absolute() else root / FIRMWARE_DIR / path


def serve(root: Path, name: str, request: str) -> None:
    """Program one request; expected failures are shown in the tree and logged, not raised."""
    path = resolve(root, request)
    try:
        try:
            result = program(root, name, path, wait=True)
        except BitstreamError:
            fail_request(root, name)
            raise
    except FakeHWError as exc:
        log.warning("%s: firmware request %r failed: %s", name, request, exc)
    else:
        log.info("%s: loaded AFU %s from %s", name, result.afu_id, path)


class _Requests:
    """One worker per FPGA, so its requests run in order while other FPGAs program in parallel."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pools: dict[str, ThreadPoolExecutor] = {}
        self.futures: list[Future[None]] = []

    def take(self, name: str) -> None:
        """Read and clear the FPGA's firmware file, then queue what was written there."""
        with tree_state.locked(self.root):
            state = tree_state.load(self.root)
        firmware = _manager_folder(state, state.find(name)) / "firmware"
        try:
            request = firmware.read_text().strip()
            os.truncate(firmware, 0)  # ready for the next write, which reopens and closes it
        except OSError as exc:  # e.g. unplugged right after the write
            log.warning("%s: cannot read its firmware request: %s", name, exc)
            return
        if request:
            pool = self.pools.setdefault(name, ThreadPoolExecutor(1, f"fakehw-{name}"))
            self.futures.append(pool.submit(serve, self.root, name, request))

    def raise_unexpected(self) -> None:
        done = [future for future in self.futures if future.done()]
        self.futures = [future for future in self.futures if not future.done()]
        for future in done:
            future.result()

    def __enter__(self) -> _Requests:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=True)
        if kind is None:
            self.raise_unexpected()
