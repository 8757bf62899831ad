"""A whole node up and down: the tree, its cameras reachable by ffprobe, nothing left after."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from fakehw import profiles, runtime
from fakehw.errors import CameraError
from fakehw.profiles.model import HardwareProfile

pytestmark = pytest.mark.tools

PROFILE = """apiVersion: fakehw.dev/v1alpha1
kind: HardwareProfile
metadata: {name: cam-node}
spec:
  gpus: [{model: intel-arc-a770}]
  cameras:
    - {name: lobby, listen: "127.0.0.1:PORT", auth: digest,
       credentials: {username: admin, password: pw}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def profile_on(port: int) -> HardwareProfile:
    return profiles.parse(PROFILE.replace("PORT", str(port)), "cam-node.yaml")


def processes(pattern: str, under: Path) -> list[str]:
    """Our processes matching ``pattern`` whose command line names a path under ``under``."""
    ps = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True, check=False)
    return [line for line in ps.stdout.splitlines() if str(under) in line]


def ffprobe(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
         "stream=codec_name,width,height", "-of", "csv=p=0", url],
        capture_output=True, text=True, timeout=60, check=False)


def test_up_serves_the_camera_and_down_stops_it(tmp_path: Path) -> None:
    port = free_port()
    state = runtime.up(profile_on(port), tmp_path / "hw", "node-a")
    try:
        assert state.cameras == [{"name": "lobby", "url": f"rtsp://127.0.0.1:{port}/stream"}]
        assert runtime.control_socket(tmp_path / "hw").is_socket()
        assert len(processes("fakehw.camera serve", tmp_path)) == 1
        probe = ffprobe(f"rtsp://admin:pw@127.0.0.1:{port}/stream")
        assert probe.stdout.strip() == "h264,640,360", probe.stderr
        assert ffprobe(f"rtsp://admin:wrong@127.0.0.1:{port}/stream").returncode != 0
    finally:
        runtime.machine.down(tmp_path / "hw")
    assert not (tmp_path / "hw").exists()
    assert processes("fakehw.camera serve", tmp_path) == []


def test_camera_port_in_use_fails_up_and_leaves_nothing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CameraError, match=str(port)):
            runtime.up(profile_on(port), tmp_path / "hw", "node-a")
    assert not (tmp_path / "hw").exists()
    assert processes("fakehw.camera serve", tmp_path) == []


def test_a_driver_programs_an_fpga_by_writing_its_firmware_file(tmp_path: Path) -> None:
    from fakehw.devices.fpga import write_bitstream  # noqa: PLC0415

    state = runtime.up(profiles.load("edge-node"), tmp_path / "hw", "node-a", cameras=False)
    try:
        fpga = state.find("fpga0")
        image = write_bitstream(tmp_path / "nlb.gbs", str(fpga.attributes["compatId"]),
                                "0123456789abcdef0123456789abcdef")
        manager = (tmp_path / "hw/sys/class/fpga_manager/fpga0").resolve()
        (manager / "firmware").write_text(f"{image}\n")
        port_afu = next((tmp_path / "hw/sys/class/fpga_region/region0").resolve()
                        .glob("dfl-port.*/afu_id"))
        deadline = time.monotonic() + 30
        while port_afu.read_text().strip() != "0123456789abcdef0123456789abcdef":
            assert time.monotonic() < deadline, (manager / "state").read_text()
            time.sleep(0.05)
        assert (manager / "state").read_text().strip() == "operating"
        assert len(processes("fakehw.watcher", tmp_path)) == 1
    finally:
        runtime.machine.down(tmp_path / "hw")
    assert processes("fakehw.watcher", tmp_path) == []
