"""Partial reconfiguration: the FPGA manager's states, the bridge, the AFU, and every refusal."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.devices.fpga import (
    BitstreamError,
    FPGABusyError,
    IncompatibleBitstreamError,
    program,
    write_bitstream,
)
from fakehw.errors import DeviceStateError, UnknownDeviceError
from fakehw.tree import state as tree_state
from fakehw.tree.inotify import IN_CLOSE_WRITE, Inotify
from tests.treesnap import snapshot

pytestmark = pytest.mark.unit

COMPAT = "69528db6eb31577a8c3668f9faa081f6"
FIRST_AFU = "d8424dc4a4a3c413f89e433683f9040b"
NEW_AFU = "00112233445566778899aabbccddeeff"
LAB = f"""
apiVersion: fakehw.dev/v1alpha1
kind: HardwareProfile
metadata: {{name: fpga-lab}}
spec:
  cpu: {{numaNodes: 1, cpusPerNode: 4}}
  gpus: [{{model: intel-arc-a770, count: 1}}]
  fpgas:
    - {{model: intel-pac-n3000, count: 2, compatId: {COMPAT}, afuId: {FIRST_AFU},
       programmingTime: 400ms}}
"""
BETWEEN = ("firmware request", "write init", "write", "write complete")


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    state = machine.up(profiles.parse(LAB, "lab.yaml"), tmp_path / "hw", "lab")
    yield Path(state.root)
    machine.down(Path(state.root))


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_bitstream(tmp_path / "good.gbs", COMPAT, NEW_AFU, b"\x55" * 64)


def files(root: Path, index: int = 0) -> dict[str, Path]:
    sys = root / "sys/class"
    return {"state": sys / f"fpga_manager/fpga{index}/state",
            "status": sys / f"fpga_manager/fpga{index}/status",
            "bridge": sys / f"fpga_bridge/br{index}/state",
            "afu": sys / f"fpga_region/region{2 * index}/dfl-port.{index}/afu_id"}


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def sample(paths: dict[str, Path], stop: threading.Event, seen: list[tuple[str, str]]) -> None:
    """Append (state, bridge) pairs as a polling driver would see them, changes only."""
    deadline = time.monotonic() + 10
    while not stop.is_set() and time.monotonic() < deadline:
        now = (paths["state"].read_text().strip(), paths["bridge"].read_text().strip())
        if all(now) and (not seen or seen[-1] != now):  # an in-place rewrite can read empty
            seen.append(now)
        time.sleep(0.001)


def test_programming_walks_every_state_with_the_bridge_disabled(root: Path, good: Path) -> None:
    paths, stop = files(root), threading.Event()
    seen: list[tuple[str, str]] = []
    with ThreadPoolExecutor(1) as pool:
        watcher = pool.submit(sample, paths, stop, seen)
        wait_for(lambda: bool(seen))
        started = time.monotonic()
        result = program(root, "fpga0", good)
        elapsed = time.monotonic() - started
        time.sleep(0.02)
        stop.set()
        watcher.result(timeout=10)
    states = [state for state, _ in seen]
    assert [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s] == [
        "unknown", *BETWEEN, "operating"]
    assert {bridge for state, bridge in seen if state in BETWEEN} == {"disabled"}
    assert seen[-1] == ("operating", "enabled")
    assert 0.4 <= elapsed < 3
    assert result.states == (*BETWEEN, "operating")
    assert (result.previous_afu_id, result.afu_id) == (FIRST_AFU, NEW_AFU)
    assert paths["afu"].read_text() == f"{NEW_AFU}\n"
    assert paths["status"].read_bytes() == b""
    assert tree_state.load(root).find("fpga0").attributes["afuId"] == NEW_AFU


def test_each_step_is_rewritten_in_place_for_inotify_watchers(root: Path, good: Path) -> None:
    state_file = files(root)["state"]
    inode = state_file.stat().st_ino
    with Inotify() as notify, ThreadPoolExecutor(1) as pool:
        notify.add_watch(state_file.parent, IN_CLOSE_WRITE)
        job = pool.submit(program, root, "fpga0", good)
        seen: list[str] = []
        while not (job.done() and seen and seen[-1] == "operating"):
            for event in notify.read(0.05):
                if event.name == "state":
                    seen.append(state_file.read_text().strip())
            assert len(seen) < 50
        job.result(timeout=10)
    assert len(seen) == 5  # one closed write per state
    assert seen[-1] == "operating"
    assert state_file.stat().st_ino == inode


def test_incompatible_image_ends_in_write_init_error(root: Path, tmp_path: Path,
                                                     good: Path) -> None:
    other = write_bitstream(tmp_path / "other.gbs", "f" * 32, NEW_AFU)
    paths = files(root)
    with pytest.raises(IncompatibleBitstreamError,
                       match=f"built for PR interface {'f' * 32}.*compat_id {COMPAT}"):
        program(root, "fpga0", other)
    assert paths["state"].read_text() == "write init error\n"
    assert paths["status"].read_bytes() == b"reconfig incompatible image\n"
    assert paths["afu"].read_text() == f"{FIRST_AFU}\n"
    assert paths["bridge"].read_text() == "disabled\n"  # the port stays in reset
    assert tree_state.load(root).find("fpga0").attributes["afuId"] == FIRST_AFU
    program(root, "fpga0", good)  # a good image recovers the port
    assert (paths["state"].read_text(), paths["bridge"].read_text()) == ("operating\n",
                                                                         "enabled\n")
    assert paths["status"].read_bytes() == b""


def test_a_busy_fpga_refuses_a_second_programming(root: Path, good: Path) -> None:
    paths = files(root)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(program, root, "fpga0", good)
        wait_for(lambda: paths["state"].read_text().strip() in BETWEEN)
        with pytest.raises(FPGABusyError, match="fpga0 is busy"):
            program(root, "fpga0", good)
        program(root, "fpga1", good)  # the other card is not held up
        assert first.result(timeout=10).afu_id == NEW_AFU


def test_a_waiting_programming_runs_after_the_first(root: Path, tmp_path: Path,
                                                    good: Path) -> None:
    last = write_bitstream(tmp_path / "last.gbs", COMPAT, "a" * 32)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(program, root, "fpga0", good)
        wait_for(lambda: files(root)["state"].read_text().strip() in BETWEEN)
        second = program(root, "fpga0", last, wait=True)
        assert first.result(timeout=10).afu_id == NEW_AFU
    assert second.previous_afu_id == NEW_AFU
    assert files(root)["afu"].read_text() == f"{'a' * 32}\n"


@pytest.mark.parametrize(("name", "error", "message"), [
    ("fpga9", UnknownDeviceError, "no device 'fpga9'.*fpga0, fpga1"),
    ("gpu0", UnknownDeviceError, "gpu0 is a gpu, not an FPGA; FPGAs .*: fpga0, fpga1"),
])
def test_unknown_devices_are_refused(root: Path, good: Path, name: str,
                                     error: type[Exception], message: str) -> None:
    before = snapshot(root)
    with pytest.raises(error, match=message):
        program(root, name, good)
    assert snapshot(root) == before


def test_an_unplugged_fpga_is_refused(root: Path, good: Path) -> None:
    machine.unplug(root, "fpga0")
    with pytest.raises(DeviceStateError, match="fpga0 is unplugged; replug it"):
        program(root, "fpga0", good)


def test_a_bad_file_is_refused_before_the_card_is_touched(root: Path, tmp_path: Path) -> None:
    (tmp_path / "junk.gbs").write_bytes(b"not a bitstream at all")
    before = snapshot(root)
    with pytest.raises(BitstreamError, match=r"junk\.gbs: not a valid GBS bitstream"):
        program(root, "fpga0", tmp_path / "junk.gbs")
    with pytest.raises(BitstreamError, match=r"missing\.gbs: cannot read"):
        program(root, "fpga0", tmp_path / "missing.gbs")
    assert snapshot(root) == before


def test_unplugging_during_programming_fails_it_clearly(root: Path, good: Path) -> None:
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(program, root, "fpga0", good)
        wait_for(lambda: files(root)["state"].read_text().strip() == "write")
        machine.unplug(root, "fpga0")
        with pytest.raises(DeviceStateError, match="unplugged while being programmed"):
            job.result(timeout=10)
    assert tree_state.load(root).find("fpga0").attributes["afuId"] == FIRST_AFU
