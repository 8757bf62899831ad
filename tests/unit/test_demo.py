"""``make demo``'s pure parts: the claim and pod it creates, how it reads what the pod saw,
the ffmpeg commands, the frame check and its command line. The demo itself runs in
``tests/demo`` (a cluster test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import av
import numpy as np
import pytest
from click.testing import CliRunner

from fakehw.camera import camera_id
from fakehw.camera.marks import paint_marks
from hack.conformancejob import demo
from hack.conformancejob.settings import JobSettings
from tests.unit import hackscripts

pytestmark = pytest.mark.unit
URL = "rtsp://dra-1:pw@127.0.0.1:10554/stream"
LOG = f"""FAKEHW_CAMERA_TRANSPORT=tcp
FAKEHW_CAMERA_URL=rtsp://127.0.0.1:10554/stream
FAKEHW_CAMERA_URL_WITH_CREDENTIALS={URL}
FAKEHW_GPU_DEVICES=gpu-0000-01-00-0
{demo.DRI}
total 0
crw-rw-rw-    1 0        0         226,   0 Nov 28 12:16 card0
crw-rw-rw-    1 0        0         226, 128 Nov 28 12:16 renderD128
{demo.READY}
"""
CAMERA = {"name": "front-door", "host": "127.0.0.1", "port": 10554, "path": "/stream",
          "width": 640, "height": 360}


def test_one_claim_asks_for_a_camera_and_a_gpu_and_the_pod_keeps_it() -> None:
    claim, pod = demo.manifests()["items"]
    requests = claim["spec"]["devices"]["requests"]
    assert [r["exactly"]["deviceClassName"] for r in requests] == [
        "camera.dra.fakehw.dev", "gpu.dra.fakehw.dev"]
    assert pod["spec"]["resourceClaims"] == [{"name": "devices",
                                              "resourceClaimName": claim["metadata"]["name"]}]
    [container] = pod["spec"]["containers"]
    assert container["resources"]["claims"] == [{"name": "devices"}]
    script = container["command"][-1]
    # the pod stays running after printing: a pod that ends gets its claim unprepared
    assert script.index(demo.READY) < script.index("sleep")


def test_the_pods_log_gives_its_environment_and_device_nodes() -> None:
    view = demo.parse_log(LOG)
    assert view.ready
    assert view.camera_url == "rtsp://127.0.0.1:10554/stream"
    assert view.env["FAKEHW_CAMERA_URL_WITH_CREDENTIALS"] == URL
    assert [line.split()[-1] for line in view.dev_nodes] == ["card0", "renderD128"]
    assert not demo.parse_log(LOG.replace(demo.READY, "")).ready


def test_ffmpeg_reads_one_frame_with_the_claims_url() -> None:
    command = demo.grab_command(URL, "tcp", Path("/r/frame.png"))
    assert command[0] == "ffmpeg"
    assert command[command.index("-i") + 1] == URL
    assert command[command.index("-rtsp_transport") + 1] == "tcp"
    assert command[command.index("-frames:v") + 1] == "1"
    assert command[-1] == "/r/frame.png"
    assert demo.grab_command(URL, "", None)[-3:] == ["-f", "null", "-"]


def test_a_refusal_is_told_from_other_errors_and_the_password_is_not_repeated() -> None:
    said = f"{URL}: Server returned 401 Unauthorized (authorization failed)\n"
    assert demo.ffmpeg_error(said, URL) == "Server returned 401 Unauthorized " \
                                           "(authorization failed)"
    assert demo.refused(demo.ffmpeg_error(said, URL))
    assert not demo.refused(f"{URL}: Connection refused")


def test_the_pods_url_names_one_of_the_running_cameras() -> None:
    assert demo.camera_for("rtsp://127.0.0.1:10554/stream", [CAMERA]) == CAMERA
    with pytest.raises(demo.DemoError, match="front-door"):
        demo.camera_for("rtsp://127.0.0.1:8554/stream", [CAMERA])


def test_a_saved_frame_gives_its_size_and_the_cameras_marks(tmp_path: Path) -> None:
    plane = np.full((360, 640), 128, np.uint8)
    paint_marks(plane, camera_id("front-door"), 466)
    path = tmp_path / "frame.png"
    with av.open(str(path), "w", format="image2") as output:
        stream = output.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = 640, 360, "gray"
        frame = av.VideoFrame.from_ndarray(plane, format="gray")
        for packet in [*stream.encode(frame), *stream.encode()]:
            output.mux(packet)
    assert demo.read_frame(path) == (640, 360, camera_id("front-door"), 466)


# -- the command line -------------------------------------------------------------------------

@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """hack/demo.py as Python runs it: its folder first on sys.path."""
    yield from hackscripts.loaded(monkeypatch, "demo.py")


def test_the_demo_runs_one_edge_node_beside_the_other_clusters(
        script: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[Any] = []

    def execute(run: Any, show: Any) -> int:
        seen.append(run.job.s)
        return 0
    monkeypatch.setattr(script, "execute", execute)
    result = CliRunner().invoke(script.main, ["--results", str(tmp_path)],
                                env={"FAKEHW_DEMO_KEEP": "1"})
    assert result.exit_code == 0, result.output
    (s,) = seen
    assert (s.name, s.nodes, s.hardware_profile, s.keep) == ("demo", 1, "edge-node", True)
    ports = {s.apiserver_port, s.etcd_port, s.kubelet_port, s.controller_manager_port,
             s.scheduler_port, s.camera_port}
    assert ports == {8443, 4379, 12250, 12257, 12259, 10554}
    others = JobSettings()  # make conformance, and the test suites' clusters
    taken = {others.apiserver_port, others.etcd_port, others.kubelet_port, 7443, 3379, 11250,
             6843, 2879, 10850, 8554}
    assert not ports & taken
    assert s.pod_subnet == "10.247.0.0/16"
    assert s.results == tmp_path
