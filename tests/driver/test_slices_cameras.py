"""The camera controller: a pool per camera, tainted when it stops answering, following edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dra_reference.cameracontroller import CONTROLLER_LABEL, CameraController
from dra_reference.camerapools import CameraProber
from dra_reference.discovery.cameras import CameraSpec
from dra_reference.publisher import SlicePublisher
from dra_reference.slices import taint_key

from tests.driver.driverkit import FakeResourceApi, camera_daemon

DRIVER = "dra.fakehw.dev"
HEAD = {"apiVersion": "cameras.fakehw.dev/v1alpha1", "kind": "CameraList"}


class Answers:
    """A probe whose answers the test sets: URL -> "" (up) or a reason."""

    def __init__(self) -> None:
        self.down: dict[str, str] = {}
        self.calls = 0

    def __call__(self, url: str) -> str:
        self.calls += 1
        return self.down.get(url, "")


def write(path: Path, cameras: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({**HEAD, "cameras": cameras}))
    return path


def controller(path: Path, api: FakeResourceApi, answers: Answers) -> CameraController:
    def prober(cameras: list[CameraSpec], interval: float) -> CameraProber:
        return CameraProber(cameras, interval=0, check=answers)

    return CameraController(path, SlicePublisher(api, DRIVER, label=CONTROLLER_LABEL), DRIVER,
                            "0.1.0", interval=0.01, prober=prober)  # type: ignore[arg-type]


@pytest.mark.unit
def test_each_camera_is_a_pool_with_its_nodes(tmp_path: Path) -> None:
    api, answers = FakeResourceApi(), Answers()
    path = write(tmp_path / "c.yaml", [
        {"name": "door", "url": "rtsp://10.0.0.7/s", "nodes": ["node-a"]},
        {"name": "yard", "url": "rtsp://10.0.0.8/s"}])
    assert controller(path, api, answers).publish_once() == 2
    [door] = api.pool("camera-door")
    assert door["spec"]["nodeSelector"]["nodeSelectorTerms"][0]["matchFields"][0]["values"] == [
        "node-a"]
    assert "nodeName" not in door["spec"]
    assert door["metadata"]["labels"]["dra.fakehw.dev/publisher"] == CONTROLLER_LABEL
    [yard] = api.pool("camera-yard")
    assert yard["spec"]["allNodes"] is True
    assert set(api.devices("camera-door")) == {"door"}


@pytest.mark.unit
def test_a_silent_camera_is_tainted_and_recovers(tmp_path: Path) -> None:
    api, answers = FakeResourceApi(), Answers()
    path = write(tmp_path / "c.yaml", [{"name": "door", "url": "rtsp://10.0.0.7/s"}])
    running = controller(path, api, answers)
    running.publish_once()
    answers.down["rtsp://10.0.0.7/s"] = "RTSP OPTIONS to 10.0.0.7:554 failed: timed out"
    assert running.publish_once() == 1
    [device] = api.devices("camera-door").values()
    assert [t["key"] for t in device["taints"]] == [taint_key(DRIVER)]
    assert api.pool("camera-door")[0]["spec"]["pool"]["generation"] == 2
    answers.down.clear()
    running.publish_once()
    assert not api.devices("camera-door")["door"].get("taints")
    assert api.pool("camera-door")[0]["spec"]["pool"]["generation"] == 3
    assert running.publish_once() == 0  # nothing changed: nothing written


@pytest.mark.unit
def test_an_edited_file_is_followed_and_a_broken_one_ignored(tmp_path: Path) -> None:
    api, answers = FakeResourceApi(), Answers()
    path = write(tmp_path / "c.yaml", [{"name": "door", "url": "rtsp://10.0.0.7/s"},
                                       {"name": "yard", "url": "rtsp://10.0.0.8/s"}])
    running = controller(path, api, answers)
    running.publish_once()
    write(path, [{"name": "door", "url": "rtsp://10.0.0.7/s"}])
    running._reload_if_changed()
    running.publish_once()
    assert not api.pool("camera-yard")
    path.write_text("cameras: [")
    running._reload_if_changed()
    running.publish_once()
    assert api.pool("camera-door")


@pytest.mark.socket
def test_a_real_camera_is_probed_over_rtsp(tmp_path: Path) -> None:
    api = FakeResourceApi()
    with camera_daemon([{"name": "cam0", "width": 320, "height": 240, "port": 0}]) as daemon:
        path = write(tmp_path / "c.yaml", [{"name": "cam0", "url": daemon.urls["cam0"]}])
        publisher = SlicePublisher(api, DRIVER, label=CONTROLLER_LABEL)
        running = CameraController(path, publisher, DRIVER, "0.1.0", interval=0)
        running.publish_once()
        assert not api.devices("camera-cam0")["cam0"].get("taints")
        daemon.process.terminate()
        daemon.process.wait(timeout=15)
        running.publish_once()
        assert api.devices("camera-cam0")["cam0"].get("taints")
