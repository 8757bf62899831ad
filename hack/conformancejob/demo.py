"""``make demo``: a pod claims the edge node's camera and a GPU, and the claim's credentials
open the camera from the host until the claim is gone.

The cluster and the drivers are the conformance job's steps; then

    pod      a ResourceClaim for one camera and one GPU, and a pod printing what it got:
             its FAKEHW_* variables and /dev/dri; it stays running, because the kubelet
             unprepares (and the driver revokes the camera credential) once a pod ends
    frame    ffmpeg reads one frame over RTSP with the URL and credentials the pod saw and
             writes it as a PNG; the frame's marks say which camera sent it
    revoke   pod and claim deleted: the same credentials must now be refused

What the pod saw and what the host did go to ``summary.json`` beside the frame.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakehw.cluster.images import WORKLOAD_IMAGE

from .settings import DRIVER

NAME = "fakehw-demo"
READY = "--- ready"
DRI = "--- /dev/dri"
POD_TIMEOUT = 120.0
REVOKE_TIMEOUT = 30.0
GRAB_TIMEOUT = 30.0
SCRIPT = f"env | grep ^FAKEHW_ | sort; echo '{DRI}'; ls -ln /dev/dri; echo '{READY}'; " \
         "exec sleep 3600"


class DemoError(RuntimeError):
    """A demo step that did not do what the demo shows; the message says what happened."""


def manifests(name: str = NAME) -> dict[str, Any]:
    """A claim for one camera and one GPU, and the pod using it."""
    claim = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
             "metadata": {"name": name}, "spec": {"devices": {"requests": [
                 {"name": "camera", "exactly": {"deviceClassName": f"camera.{DRIVER}"}},
                 {"name": "gpu", "exactly": {"deviceClassName": f"gpu.{DRIVER}"}}]}}}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
        "resourceClaims": [{"name": "devices", "resourceClaimName": name}],
        "containers": [{"name": "main", "image": WORKLOAD_IMAGE, "imagePullPolicy": "Never",
                        "command": ["sh", "-c", SCRIPT],
                        "resources": {"claims": [{"name": "devices"}]}}]}}
    return {"apiVersion": "v1", "kind": "List", "items": [claim, pod]}


@dataclass
class PodView:
    """What the pod printed: its FAKEHW_* variables and its /dev/dri listing."""

    env: dict[str, str] = field(default_factory=dict)
    dev_nodes: list[str] = field(default_factory=list)
    ready: bool = False

    @property
    def camera_url(self) -> str:
        return self.env.get("FAKEHW_CAMERA_URL", "")


def parse_log(text: str) -> PodView:
    view, section = PodView(), "env"
    for line in text.splitlines():
        if line == DRI:
            section = "dri"
        elif line == READY:
            view.ready = True
        elif section == "env" and "=" in line:
            key, _, value = line.partition("=")
            view.env[key] = value
        elif section == "dri" and line.strip() and not line.startswith("total"):
            view.dev_nodes.append(line)
    return view


def grab_command(url: str, transport: str, output: Path | None) -> list[str]:
    """ffmpeg reading one frame from ``url`` (credentials included) into ``output`` (None:
    decoded and dropped). The SDP describes the stream, so ffmpeg need not probe seconds of
    it first: a frame takes half a second instead of two."""
    sink = ["-update", "1", "-y", str(output)] if output else ["-f", "null", "-"]
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
            "-rtsp_transport", transport or "tcp", "-timeout", "10000000",
            "-probesize", "32", "-analyzeduration", "0",
            "-i", url, "-frames:v", "1", *sink]


def refused(stderr: str) -> bool:
    """Whether ffmpeg's error says the camera refused the credentials."""
    return "401" in stderr or "Unauthorized" in stderr


def ffmpeg_error(stderr: str, url: str) -> str:
    """ffmpeg's last error line, without the URL (and the password in it) it starts with."""
    lines = stderr.strip().splitlines()
    return lines[-1].removeprefix(f"{url}: ") if lines else "no error given"


def read_frame(path: Path) -> tuple[int, int, int, int]:
    """``(width, height, camera id, frame number)`` of the image at ``path``."""
    import av  # noqa: PLC0415

    from fakehw.camera import read_frame_marks  # noqa: PLC0415

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        gray = frame.to_ndarray(format="gray")
    camera, number = read_frame_marks(gray)
    return frame.width, frame.height, camera, number


def camera_for(url: str, cameras: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The running camera (an entry of the tree's cameras.json) that ``url`` points at."""
    for camera in cameras:
        if url == f"rtsp://{camera['host']}:{camera['port']}{camera['path']}":
            return camera
    raise DemoError(f"the pod's camera URL {url!r} is none of the cameras the node runs: "
                    f"{[c['name'] for c in cameras]}")


def wait_for(check: Any, timeout: float, what: str, interval: float = 1.0) -> float:
    """Poll ``check()`` until true; returns the seconds it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise DemoError(f"{what}: not so after {timeout:.0f}s")
        time.sleep(interval)
    return time.monotonic() - start


def run_ffmpeg(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(list(command), capture_output=True, text=True, check=False,
                              timeout=GRAB_TIMEOUT)
    except FileNotFoundError as exc:
        raise DemoError("ffmpeg is not installed: `make setup` installs it") from exc
    except subprocess.TimeoutExpired as exc:
        raise DemoError(f"ffmpeg read no frame in {GRAB_TIMEOUT:.0f}s") from exc


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(json.dumps(summary, indent=2) + "\n")
