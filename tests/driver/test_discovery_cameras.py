"""Cameras from the operator's file, read strictly, and their health from an RTSP probe."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dra_reference.discovery.cameras import camera_device, load_cameras
from dra_reference.discovery.rtsp import probe
from dra_reference.errors import ConfigurationError

from tests.driver.driverkit import camera_daemon

HEAD = {"apiVersion": "cameras.fakehw.dev/v1alpha1", "kind": "CameraList"}
DOOR = {"name": "front-door", "url": "rtsp://127.0.0.1:8554/stream",
        "control": {"endpoint": "unix:///run/fakehw/cameras.sock"},
        "vendor": "acme", "model": "ipc-640", "resolution": "640x360", "fps": 15,
        "nodes": ["node-a"]}


def write(tmp_path: Path, *cameras: dict[str, Any], **head: Any) -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(yaml.safe_dump({**HEAD, **head, "cameras": list(cameras)}))
    return path


@pytest.mark.unit
def test_a_camera_entry_becomes_a_device_with_selector_attributes(tmp_path: Path) -> None:
    [door] = load_cameras(write(tmp_path, DOOR))
    assert (door.name, door.pool, door.control_name) == ("front-door", "camera-front-door",
                                                         "front-door")
    assert door.control_socket == Path("/run/fakehw/cameras.sock")
    assert door.nodes == ("node-a",)
    device = camera_device(door)
    assert device.kind == "camera"
    assert device.attributes == {
        "type": "camera", "vendor": "acme", "model": "ipc-640", "codec": "h264", "fps": 15,
        "width": 640, "height": 360, "resolution": "640x360", "host": "127.0.0.1",
        "credentials": True}


@pytest.mark.unit
def test_node_labels_or_nothing_select_nodes(tmp_path: Path) -> None:
    lobby = {**DOOR, "name": "lobby", "nodes": None, "nodeSelector": {"site": "lobby"}}
    yard = {"name": "yard", "url": "rtsp://10.0.0.9/live"}
    cameras = {c.name: c for c in load_cameras(write(tmp_path, lobby, yard))}
    assert cameras["lobby"].node_labels == {"site": "lobby"}
    assert not cameras["yard"].nodes
    assert not cameras["yard"].node_labels
    assert cameras["yard"].control_socket is None


@pytest.mark.unit
@pytest.mark.parametrize(("change", "words"), [
    ({"apiVersion": "cameras.fakehw.dev/v1"}, ["apiVersion", "v1alpha1"]),
    ({"kind": "Cameras"}, ["kind", "CameraList"]),
    ({"cameras": [{**DOOR, "fsp": 5}]}, ["cameras[0]", "unknown field 'fsp'"]),
    ({"cameras": [{**DOOR, "name": "Front_Door"}]}, ["cameras[0].name", "DNS label"]),
    ({"cameras": [{**DOOR, "url": "rtsp://u:p@cam/s"}]}, ["cameras[0].url", "credentials"]),
    ({"cameras": [{**DOOR, "url": "http://cam/s"}]}, ["cameras[0].url"]),
    ({"cameras": [{**DOOR, "resolution": "640*360"}]}, ["resolution", "WIDTHxHEIGHT"]),
    ({"cameras": [{**DOOR, "nodeSelector": {"a": "b"}}]}, ["not both"]),
    ({"cameras": [{**DOOR, "control": {"endpoint": "tcp://1.2.3.4:5"}}]},
     ["control.endpoint", "unix:///"]),
    ({"cameras": [DOOR, DOOR]}, ["'front-door' appears twice"]),
    ({"cameras": [{**DOOR, "fps": 0}]}, ["cameras[0].fps", "outside"]),
])
def test_a_bad_cameras_file_names_the_field(tmp_path: Path, change: dict[str, Any],
                                            words: list[str]) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(yaml.safe_dump({**HEAD, "cameras": [DOOR], **change}))
    with pytest.raises(ConfigurationError) as failure:
        load_cameras(path)
    assert str(path) in str(failure.value)
    for word in words:
        assert word in str(failure.value)


@pytest.mark.unit
def test_a_missing_or_garbled_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cameras file"):
        load_cameras(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("cameras: [")
    with pytest.raises(ConfigurationError, match=r"bad\.yaml"):
        load_cameras(tmp_path / "bad.yaml")


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP server that answers anything with an HTTP reply: not a camera."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        with server, server.accept()[0] as conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield server
    thread.join(timeout=5)


@pytest.mark.socket
def test_a_camera_that_answers_options_is_healthy_and_one_that_went_is_not() -> None:
    with camera_daemon([{"name": "cam0", "width": 320, "height": 240, "port": 0}]) as daemon:
        url = daemon.urls["cam0"]
        assert probe(url) == ""
        daemon.process.terminate()
        daemon.process.wait(timeout=15)
        assert "failed" in probe(url, timeout=1)


@pytest.mark.socket
def test_a_server_that_is_not_a_camera_is_unhealthy(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    assert "HTTP/1.1 400" in probe(f"rtsp://127.0.0.1:{port}/stream", timeout=2)
