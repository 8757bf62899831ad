"""The cluster's one camera controller: probe every camera, publish a pool for each.

Cameras belong to no node, so no kubelet plugin publishes them; this controller does, from
the cameras file. Every interval it probes the cameras (RTSP OPTIONS), and a camera that does
not answer is tainted rather than removed, so pods already using it keep their allocation
while new claims avoid it. An edited cameras file is picked up on the next round; a broken
edit is logged and the last good file stays in force. Removed cameras' pools are deleted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from dra_reference.camerapools import CameraProber, camera_pool
from dra_reference.discovery.cameras import CameraSpec, load_cameras
from dra_reference.errors import ConfigurationError
from dra_reference.publisher import PublishError, SlicePublisher

log = logging.getLogger(__name__)
CONTROLLER_LABEL = "camera-controller"


class CameraController:
    def __init__(self, cameras_file: Path, publisher: SlicePublisher, driver: str,
                 driver_version: str, *, interval: float = 10.0,
                 prober: Callable[[Sequence[CameraSpec], float], CameraProber] = CameraProber,
                 ) -> None:
        self._file = cameras_file
        self._publisher = publisher
        self._driver = driver
        self._version = driver_version
        self._interval = interval
        self._make_prober = prober
        self._stamp = self._file_stamp()
        self._prober = prober(load_cameras(cameras_file), interval)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._reload_if_changed()
            try:
                self.publish_once()
            except PublishError as exc:
                log.warning("%s; retrying in %.0fs", exc, self._interval)
            stop.wait(self._interval)

    def publish_once(self) -> int:
        """Probe (if due) and publish every camera pool; return how many were rewritten."""
        devices = self._prober.devices()
        pools = [(camera_pool(camera, self._driver, self._version), devices[camera.pool])
                 for camera in self._prober.cameras]
        return self._publisher.publish(pools)

    def _reload_if_changed(self) -> None:
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            cameras = load_cameras(self._file)
        except ConfigurationError as exc:
            log.warning("keeping the previous cameras: %s", exc)
            return
        log.info("cameras file changed: now %s", ", ".join(c.name for c in cameras) or "none")
        self._prober = self._make_prober(cameras, self._interval)

    def _file_stamp(self) -> tuple[int, int]:
        try:
            info = self._file.stat()
        except OSError:
            return (0, 0)
        return (info.st_mtime_ns, info.st_size)
