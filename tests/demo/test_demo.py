"""``make demo`` end to end: its own one-node edge cluster, a pod claiming the camera and a
GPU, a frame saved on the host with the claim's credentials, the credentials refused once
the claim is deleted, and everything removed afterwards.

The frame is checked against the marks the camera paints (its id and a frame number), so a
picture from anything but that camera would not pass. Like every cluster test, it runs only
with ``-m cluster`` or ``FAKEHW_CLUSTER_TESTS=1``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

from fakehw.camera import camera_id, read_frame_marks

pytestmark = pytest.mark.cluster
REPO = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT = 840


@pytest.mark.timeout(DEMO_TIMEOUT + 60)
def test_the_demo_saves_a_frame_of_the_claimed_camera_and_cleans_up(tmp_path: Path) -> None:
    results = tmp_path / "demo"
    done = subprocess.run([sys.executable, str(REPO / "hack/demo.py"), "--results",
                           str(results)], capture_output=True, text=True, check=False,
                          timeout=DEMO_TIMEOUT)
    assert done.returncode == 0, done.stderr[-4000:]

    with av.open(str(results / "frame.png")) as image:
        frame = next(image.decode(video=0))
    assert (frame.width, frame.height) == (640, 360)  # the edge node's camera
    camera, number = read_frame_marks(frame.to_ndarray(format="gray"))
    assert camera == camera_id("front-door")

    summary = json.loads((results / "summary.json").read_text())
    assert summary["frame"]["frame_number"] == number
    allocated = {d["request"]: d["device"] for d in summary["devices"]}
    assert allocated["camera"] == "front-door"
    env = summary["env"]
    assert env["FAKEHW_GPU_DEVICES"] == allocated["gpu"]
    assert env["FAKEHW_CAMERA_URL"] == "rtsp://127.0.0.1:10554/stream"
    assert env["FAKEHW_CAMERA_USERNAME"].startswith("dra-")  # the claim's own credential
    assert any(line.startswith("c") and "226," in line for line in summary["dev_nodes"])
    assert summary["revoked"]["refused"]
    assert "401" in summary["revoked"]["ffmpeg"]
    assert "front-door" in done.stdout  # the printed summary

    status = subprocess.run([sys.executable, "-m", "fakehw.cli", "cluster", "status",
                             "--name", "demo", "--json"], capture_output=True, text=True,
                            check=False)
    assert not json.loads(status.stdout or "{}").get("running"), status.stdout
