"""Fixtures for the camera tests: cameras on free loopback ports, stopped and checked after.

Every camera a test starts is stopped at teardown and its threads' exceptions re-raised, so a
server-side bug fails the test that triggered it even when the client saw only a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from camera_testbed import CAMERA_DEFAULTS
from ffmpeg_clients import FfmpegViewer

from fakehw.camera import Camera, CameraConfig


@pytest.fixture
def make_camera() -> Iterator[Callable[..., Camera]]:
    cameras: list[Camera] = []

    def make(**overrides: Any) -> Camera:
        camera = Camera(CameraConfig(**{**CAMERA_DEFAULTS, **overrides}))
        cameras.append(camera)
        return camera.start()

    yield make
    for camera in cameras:
        camera.stop()
    for camera in cameras:
        camera.check_errors()


@pytest.fixture
def camera(make_camera: Callable[..., Camera]) -> Camera:
    return make_camera()


@pytest.fixture
def viewers() -> Iterator[Callable[..., FfmpegViewer]]:
    """Start ffmpeg clients; all are stopped at teardown whatever the test did."""
    started: list[FfmpegViewer] = []

    def view(url: str, camera: Camera, transport: str = "tcp") -> FfmpegViewer:
        viewer = FfmpegViewer(url, camera.config.width, camera.config.height, transport)
        started.append(viewer)
        return viewer

    yield view
    for viewer in started:
        viewer.stop()
