"""Programming by writing a path to fpga_manager/fpgaN/firmware, the way a file-only driver can."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.devices.fpga import watch_firmware_requests, write_bitstream

pytestmark = pytest.mark.unit

COMPAT = "69528db6eb31577a8c3668f9faa081f6"
NEW_AFU = "00112233445566778899aabbccddeeff"
LAB = f"""
apiVersion: fakehw.dev/v1alpha1
kind: HardwareProfile
metadata: {{name: fpga-lab}}
spec:
  cpu: {{numaNodes: 1, cpusPerNode: 4}}
  fpgas: [{{model: intel-pac-n3000, count: 2, compatId: {COMPAT}, programmingTime: 100ms}}]
"""


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def read(root: Path, path: str) -> str:
    return (root / "sys/class" / path).read_text().strip()


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    state = machine.up(profiles.parse(LAB, "lab.yaml"), tmp_path / "hw", "lab")
    yield Path(state.root)
    machine.down(Path(state.root))


@pytest.fixture
def watched(root: Path) -> Iterator[Path]:
    """The tree with a watcher running; its unexpected errors fail the test at teardown."""
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        watcher = pool.submit(watch_firmware_requests, root, stop, tick=0.02)
        time.sleep(0.1)  # let it place its watches
        yield root
        stop.set()
        watcher.result(timeout=10)


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_bitstream(tmp_path / "good.gbs", COMPAT, NEW_AFU, b"payload")


def request(root: Path, index: int, text: str) -> None:
    (root / f"sys/class/fpga_manager/fpga{index}/firmware").write_text(f"{text}\n")


def test_a_written_path_is_programmed(watched: Path, good: Path) -> None:
    request(watched, 0, str(good))
    wait_for(lambda: read(watched, "fpga_manager/fpga0/state") == "operating")
    assert read(watched, "fpga_region/region0/dfl-port.0/afu_id") == NEW_AFU
    assert (watched / "sys/class/fpga_manager/fpga0/firmware").read_bytes() == b""


def test_a_bare_name_is_found_under_lib_firmware(watched: Path, good: Path) -> None:
    firmware = watched / "lib/firmware"
    firmware.mkdir(parents=True)
    (firmware / "nlb.gbs").write_bytes(good.read_bytes())
    request(watched, 1, "nlb.gbs")
    wait_for(lambda: read(watched, "fpga_manager/fpga1/state") == "operating")
    assert read(watched, "fpga_region/region2/dfl-port.1/afu_id") == NEW_AFU
    assert read(watched, "fpga_manager/fpga0/state") == "unknown"


def test_an_unloadable_file_is_a_firmware_request_error(watched: Path, tmp_path: Path) -> None:
    request(watched, 0, str(tmp_path / "missing.gbs"))
    wait_for(lambda: read(watched, "fpga_manager/fpga0/state") == "firmware request error")
    assert read(watched, "fpga_bridge/br0/state") == "enabled"


def test_an_incompatible_image_shows_in_state_and_status(watched: Path, tmp_path: Path) -> None:
    other = write_bitstream(tmp_path / "other.gbs", "e" * 32, NEW_AFU)
    request(watched, 0, str(other))
    wait_for(lambda: read(watched, "fpga_manager/fpga0/state") == "write init error")
    assert read(watched, "fpga_manager/fpga0/status") == "reconfig incompatible image"
    assert read(watched, "fpga_region/region0/dfl-port.0/afu_id") != NEW_AFU


def test_requests_still_work_after_unplug_and_replug(watched: Path, good: Path) -> None:
    machine.unplug(watched, "fpga0")
    machine.replug(watched, "fpga0")
    request(watched, 0, str(good))
    wait_for(lambda: read(watched, "fpga_manager/fpga0/state") == "operating")


def test_a_watcher_started_while_unplugged_serves_after_replug(root: Path, good: Path) -> None:
    machine.unplug(root, "fpga1")
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        watcher = pool.submit(watch_firmware_requests, root, stop, tick=0.02)
        time.sleep(0.1)
        machine.replug(root, "fpga1")
        request(root, 1, str(good))
        wait_for(lambda: read(root, "fpga_manager/fpga1/state") == "operating")
        stop.set()
        watcher.result(timeout=10)
