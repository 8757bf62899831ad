"""A whole node up and down: the tree, its cameras reachable by ffprobe, nothing left after."""

from __future__ import annotations

import socket
import subprocess
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


def camera_processes() -> list[str]:
    ps = subprocess.run(["pgrep", "-af", "fakehw.camera serve"], capture_output=True, text=True,
                        check=False)
    return ps.stdout.splitlines()


def ffprobe(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
         "stream=codec_name,width,height", "-of", "csv=p=0", url],
        capture_output=True, text=True, timeout=60, check=False)


def test_up_serves_the_camera_and_down_stops_it(tmp_path: Path) -> None:
    port = free_port()
    before = camera_processes()
    state = runtime.up(profile_on(port), tmp_path / "hw", "node-a")
    try:
        assert state.cameras == [{"name": "lobby", "url": f"rtsp://127.0.0.1:{port}/stream"}]
        assert runtime.control_socket(tmp_path / "hw").is_socket()
        probe = ffprobe(f"rtsp://admin:pw@127.0.0.1:{port}/stream")
        assert probe.stdout.strip() == "h264,640,360", probe.stderr
        assert ffprobe(f"rtsp://admin:wrong@127.0.0.1:{port}/stream").returncode != 0
    finally:
        runtime.machine.down(tmp_path / "hw")
    assert not (tmp_path / "hw").exists()
    assert camera_processes() == before


def test_camera_port_in_use_fails_up_and_leaves_nothing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CameraError, match=str(port)):
            runtime.up(profile_on(port), tmp_path / "hw", "node-a")
    assert not (tmp_path / "hw").exists()
    assert camera_processes() == []
