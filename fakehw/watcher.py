"""The tree's kernel stand-in: reacts to writes a driver makes to the emulated sysfs.

On a real node a write to a sysfs attribute runs kernel code. Here a process started with
the tree watches the writable attributes that have an effect (an FPGA manager's ``firmware``)
and carries the effect out. Run as ``python -m fakehw.watcher --root DIR``; it prints one
ready line, then serves until SIGTERM.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from fakehw.devices.fpga import watch_firmware_requests


@click.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), required=True)
def main(root: Path) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    announce = json.dumps({"ready": True, "watching": ["fpga_manager/*/firmware"]})
    watch_firmware_requests(root, stop, ready=lambda: click.echo(announce))


if __name__ == "__main__":
    main()
