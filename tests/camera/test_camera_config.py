"""CameraConfig and the daemon's camera file: bad values fail early, naming field and fix."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fakehw.camera import CameraConfig
from fakehw.camera.config import from_profile
from fakehw.camera.configfile import load_cameras
from fakehw.errors import ProfileError

pytestmark = pytest.mark.unit


def test_defaults_are_a_valid_camera() -> None:
    config = CameraConfig(name="front-door")
    assert (config.width, config.height, config.auth, config.path) == (640, 360, "digest",
                                                                      "/stream")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("name", "Front Door", "DNS label"),
    ("width", 100, "multiple of 16"),
    ("width", 4096, "out of range"),
    ("height", 60, "out of range"),
    ("fps", 0, "out of range"),
    ("fps", True, "out of range"),
    ("port", 70000, "out of range"),
    ("codec", "h265", "not supported"),
    ("auth", "ntlm", "not an auth scheme"),
    ("username", "a:b", "cannot be sent"),
    ("password", "", "empty"),
    ("host", "localhost", "not an IP address"),
    ("path", "stream", "not a plain absolute path"),
    ("path", "/a b", "not a plain absolute path"),
    ("session_timeout", 0, "out of range"),
    ("nonce_lifetime", 0, "out of range"),
])
def test_bad_values_name_the_field_and_the_fix(field: str, value: Any, words: str) -> None:
    with pytest.raises(ProfileError) as info:
        CameraConfig(**{"name": "cam", field: value})
    assert isinstance(info.value, ValueError)
    assert info.value.field == field
    assert words in info.value.problem
    assert info.value.fix


def test_ipv6_hosts_are_bracketed_in_urls() -> None:
    assert CameraConfig(name="cam", host="::1").url_host == "[::1]"


def test_profile_cameras_convert() -> None:
    declared = SimpleNamespace(name="door", width=640, height=360, fps=15, codec="h264",
                               username="u", password="p", auth="basic", host="127.0.0.1",
                               port=0, path="/live")
    config = from_profile(declared)
    assert config == CameraConfig(name="door", fps=15, username="u", password="p",
                                  auth="basic", port=0, path="/live")


def test_camera_file_in_json(tmp_path: Path) -> None:
    path = tmp_path / "cams.json"
    path.write_text(json.dumps({"cameras": [{"name": "a", "port": 0},
                                            {"name": "b", "port": 0, "auth": "none"}]}))
    assert [c.name for c in load_cameras(path)] == ["a", "b"]


def test_camera_file_in_yaml(tmp_path: Path) -> None:
    path = tmp_path / "cams.yaml"
    path.write_text("cameras:\n  - {name: a, port: 9554, fps: 5}\n")
    (camera,) = load_cameras(path)
    assert (camera.port, camera.fps) == (9554, 5)


@pytest.mark.parametrize(("doc", "field", "words"), [
    ({"cameras": [{"name": "a", "colour": "red"}]}, "cameras[0].colour", "not a camera field"),
    ({"cameras": [{"port": 1}]}, "cameras[0].name", "required"),
    ({"cameras": [{"name": "a"}, {"name": "b", "fps": 99}]}, "cameras[1].fps", "out of range"),
    ({"cameras": [{"name": "a", "port": 0}, {"name": "a", "port": 0}]}, "cameras[1].name",
     "repeated"),
    ({"cameras": [{"name": "a", "port": 9000}, {"name": "b", "port": 9000}]}, "cameras[1].port",
     "taken"),
    ({"cameras": []}, "cameras", "no camera"),
    ({"cams": []}, "cameras", "missing"),
])
def test_camera_file_errors_name_file_and_field(tmp_path: Path, doc: object, field: str,
                                                words: str) -> None:
    path = tmp_path / "cams.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ProfileError) as info:
        load_cameras(path)
    assert info.value.source == str(path)
    assert info.value.field == field
    assert words in info.value.problem


def test_unreadable_and_unparsable_files(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot be read"):
        load_cameras(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ProfileError, match="not valid JSON/YAML"):
        load_cameras(broken)


def test_hardware_profile_cameras_are_served(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text(
        "apiVersion: fakehw.dev/v1alpha1\nkind: HardwareProfile\nmetadata: {name: node}\n"
        "spec:\n  cameras:\n    - {name: front-door, resolution: 320x240, fps: 5, "
        "listen: '127.0.0.1:0', credentials: {username: u, password: p}}\n")
    (camera,) = load_cameras(path)
    assert (camera.name, camera.width, camera.height, camera.fps) == ("front-door", 320, 240, 5)
    assert (camera.username, camera.password, camera.port) == ("u", "p", 0)
