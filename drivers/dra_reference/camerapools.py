"""Cameras as pools: one pool per camera, reachable from the nodes its entry names.

A camera's pool is selected by node name (``matchFields`` on ``metadata.name``), by node
labels, or offered to every node. Its health is the answer to an RTSP OPTIONS probe, taken
at most once per interval and for all cameras at once, so a dead camera (whose probe waits
for its timeout) does not hold up the others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dra_reference.discovery.cameras import CameraSpec, camera_device
from dra_reference.discovery.model import Device
from dra_reference.discovery.rtsp import probe
from dra_reference.slices import Pool

Probe = Callable[[str], str]  # url -> "" when the camera answers, else why not


def camera_pool(camera: CameraSpec, driver: str, driver_version: str) -> Pool:
    return Pool(driver=driver, name=camera.pool, generation=0, driver_version=driver_version,
                node_selector=node_selector(camera))


def node_selector(camera: CameraSpec) -> dict[str, Any] | None:
    """A ``v1.NodeSelector`` for the camera's nodes; None means every node."""
    if camera.nodes:
        return {"nodeSelectorTerms": [{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": sorted(camera.nodes)}]}]}
    if camera.node_labels:
        return {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": key, "operator": "In", "values": [value]}
            for key, value in sorted(camera.node_labels.items())]}]}
    return None


class CameraProber:
    """Camera devices with their health, re-probed when older than ``interval`` seconds."""

    def __init__(self, cameras: Sequence[CameraSpec], interval: float = 10.0,
                 check: Probe = probe, clock: Callable[[], float] = time.monotonic) -> None:
        self.cameras = list(cameras)
        self._interval = interval
        self._check = check
        self._clock = clock
        self._results: dict[str, str] = {}
        self._taken = -float("inf")
        self._lock = threading.Lock()  # scans come from the agent and from prepare lookups

    def devices(self) -> dict[str, list[Device]]:
        """Pool name -> its one camera device."""
        with self._lock:
            if self._clock() - self._taken >= self._interval:
                self._probe()
        return {camera.pool: [camera_device(camera, not self._results.get(camera.name),
                                            self._results.get(camera.name, ""))]
                for camera in self.cameras}

    def _probe(self) -> None:
        if self.cameras:
            with ThreadPoolExecutor(min(len(self.cameras), 16)) as pool:
                answers = pool.map(self._check, [camera.url for camera in self.cameras])
                self._results = dict(zip([c.name for c in self.cameras], answers, strict=True))
        self._taken = self._clock()
