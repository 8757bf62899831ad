"""The tree's kernel stand-in: reacts to writes a driver makes to the emulated sysfs.

On a real node a write to a sysfs attribute runs kernel code. Here a process started with
the tree watches the writable attributes that have an effect and carries the effect out: an
FPGA manager's ``firmware`` (``fakehw.devices.fpga.firmware``) and the CXL region sequence
(``fakehw.devices.cxl.watch``), each in its own thread. Run as
``python -m fakehw.watcher --root DIR``; it prints one ready line once both watch, then
serves until SIGTERM.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from fakehw.devices.cxl.watch import watch_region_writes
from fakehw.devices.fpga import watch_firmware_requests


class _CXLThread(threading.Thread):
    """The CXL watcher; its exception is kept and raised in the main thread at the end."""

    def __init__(self, root: Path, stop: threading.Event) -> None:
        super().__init__(name="fakehw-cxl", daemon=True)
        self.root, self.stop = root, stop
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            watch_region_writes(self.root, self.stop, ready=self.ready.set)
        except BaseException as exc:
            self.error = exc
            self.ready.set()
            self.stop.set()  # a watcher that lost its CXL half should not look healthy


@click.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), required=True)
def main(root: Path) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    cxl = _CXLThread(root, stop)
    cxl.start()
    announce = json.dumps({"ready": True, "watching": ["fpga_manager/*/firmware",
                                                       "cxl regions"]})

    def ready() -> None:
        cxl.ready.wait()
        if cxl.error is None:
            click.echo(announce)

    watch_firmware_requests(root, stop, ready=ready)
    cxl.join()
    if cxl.error is not None:
        raise cxl.error


if __name__ == "__main__":
    main()
