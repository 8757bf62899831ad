"""Network cameras, which no bus can enumerate: they come from a file the operator writes.

An RTSP camera is reachable from some nodes and not others (a VLAN, a site), so each entry
says which: node names, node labels, or (neither) every node. The camera controller publishes
each camera as its own pool with that node selection; the kubelet plugin of whichever node a
pod lands on prepares it, minting credentials through the camera's control endpoint. The
file is versioned and read strictly: a misspelt field stops the driver at start.

    apiVersion: cameras.fakehw.dev/v1alpha1
    kind: CameraList
    cameras:
    - name: front-door                       # a DNS label, the device and pool name
      url: rtsp://10.0.0.7:8554/stream
      control: {endpoint: unix:///run/fakehw/cameras.sock, camera: front-door}
      vendor: fakehw
      model: ipc-640
      resolution: 640x360
      codec: h264
      fps: 15
      nodes: [node-a]                        # or nodeSelector: {site: lobby}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from dra_reference.discovery.model import Device
from dra_reference.errors import ConfigurationError
from dra_reference.fields import Reader

API_VERSION = "cameras.fakehw.dev/v1alpha1"
KIND = "CameraList"
DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
LABEL_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
CODECS = ("h264", "h265", "mjpeg")


@dataclass(frozen=True)
class CameraSpec:
    name: str
    url: str
    control_endpoint: str  # unix:///path of a JSON-lines credential service; "" = none
    control_name: str  # the camera's name at that endpoint
    vendor: str
    model: str
    width: int
    height: int
    codec: str
    fps: int
    nodes: tuple[str, ...] = ()
    node_labels: dict[str, str] = field(default_factory=dict)

    @property
    def pool(self) -> str:
        return f"camera-{self.name}"

    @property
    def control_socket(self) -> Path | None:
        return Path(self.control_endpoint.removeprefix("unix://")) if self.control_endpoint \
            else None


def load_cameras(path: Path) -> list[CameraSpec]:
    """Parse the cameras file; any problem is a ConfigurationError naming file and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cameras file {path}: {exc}") from exc
    top = Reader(raw, str(path), ConfigurationError)
    top.string("apiVersion", choices=(API_VERSION,))
    top.string("kind", choices=(KIND,))
    cameras = [_camera(entry) for entry in top.objects("cameras")]
    top.done()
    names = [camera.name for camera in cameras]
    if duplicate := next((n for n in names if names.count(n) > 1), None):
        raise ConfigurationError(f"cameras file {path}: camera {duplicate!r} appears twice")
    return cameras


def _camera(entry: Reader) -> CameraSpec:
    name = entry.string("name", pattern=DNS_LABEL, hint="use a DNS label (a-z, 0-9, '-')")
    url = entry.string("url")
    parts = urlsplit(url)
    if parts.scheme not in ("rtsp", "rtsps") or not parts.hostname or parts.username:
        entry.fail(f"{url!r} must be rtsp://host[:port]/path without credentials", "url")
    control = entry.object("control")
    endpoint, control_name = "", name
    if control is not None:
        endpoint = control.string("endpoint", pattern=r"unix:///.+",
                                  hint="write unix:///absolute/path/of/the/socket")
        control_name = control.string("camera", name)
        control.done()
    width, _, height = entry.string("resolution", "640x360", pattern=r"[1-9]\d{1,4}x[1-9]\d{1,4}",
                                    hint="write WIDTHxHEIGHT, e.g. 1920x1080").partition("x")
    spec = CameraSpec(
        name=name, url=url, control_endpoint=endpoint, control_name=control_name,
        vendor=entry.string("vendor", "unknown"), model=entry.string("model", "unknown"),
        width=int(width), height=int(height), codec=entry.string("codec", "h264", choices=CODECS),
        fps=entry.integer("fps", 15, minimum=1, maximum=240), nodes=entry.strings("nodes"),
        node_labels={key: str(value) for key, value in entry.scalars("nodeSelector").items()})
    for node in spec.nodes:
        if not node:
            entry.fail("node names must not be empty", "nodes")
    for key, value in spec.node_labels.items():
        if not value or len(value) > 63 or not re.fullmatch(LABEL_VALUE, value):
            entry.fail(f"{value!r} is not a label value", f"nodeSelector.{key}")
    if spec.nodes and spec.node_labels:
        entry.fail("give nodes or nodeSelector, not both (neither: every node)", "nodes")
    entry.done()
    return spec


def camera_device(camera: CameraSpec, healthy: bool = True, message: str = "") -> Device:
    """The camera as a device of its own pool, with what a DeviceClass selector needs."""
    attributes: dict[str, str | int | bool] = {
        "type": "camera", "vendor": camera.vendor, "model": camera.model,
        "codec": camera.codec, "fps": camera.fps, "width": camera.width,
        "height": camera.height, "resolution": f"{camera.width}x{camera.height}",
        "host": urlsplit(camera.url).hostname or "",
        "credentials": bool(camera.control_endpoint),
    }
    return Device(name=camera.name, kind="camera", attributes=attributes, healthy=healthy,
                  health_message=message)
