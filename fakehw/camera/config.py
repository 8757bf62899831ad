"""What one emulated camera is: a frozen, eagerly validated ``CameraConfig``.

A bad value fails when the config is built, not when a client first connects, so a typo in a
test or a profile surfaces at its source with the field named and the fix spelled out
(``ProfileError``, a ``ValueError``). The accepted ranges are those of the hardware profile
schema, so every camera a profile can describe is a valid ``CameraConfig`` and vice versa.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Protocol

from fakehw.errors import ProfileError

AUTH_SCHEMES = ("digest", "basic", "none")
CODECS = ("h264",)
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
_USER = re.compile(r"^[!-9;-~]{1,64}$")  # printable ASCII without ':' (Basic splits on it)
_PASSWORD = re.compile(r"^[ -~]{1,128}$")


@dataclass(frozen=True)
class CameraConfig:
    """One camera: its stream, its first credential and where it listens (port 0 = any free)."""

    name: str
    width: int = 640
    height: int = 360
    fps: int = 15
    codec: str = "h264"
    username: str = "admin"
    password: str = "admin"  # noqa: S105 - the factory default of many real cameras
    auth: str = "digest"
    host: str = "127.0.0.1"
    port: int = 8554
    path: str = "/stream"
    session_timeout: int = 60
    nonce_lifetime: int = 300  # seconds a Digest nonce is accepted; then stale=true

    def __post_init__(self) -> None:
        source = f"camera {self.name!r}"
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ProfileError(source, "name", "is not a DNS label",
                               "use lowercase letters, digits and '-', at most 63 characters")
        _integer(source, "width", self.width, 64, 1920, step=16)
        _integer(source, "height", self.height, 64, 1080, step=8)
        _integer(source, "fps", self.fps, 1, 60)
        _integer(source, "port", self.port, 0, 65535)
        _integer(source, "session_timeout", self.session_timeout, 1, 3600)
        _integer(source, "nonce_lifetime", self.nonce_lifetime, 1, 86400)
        if self.codec not in CODECS:
            raise ProfileError(source, "codec", f"{self.codec!r} is not supported",
                               "use h264, the only codec the camera encodes")
        if self.auth not in AUTH_SCHEMES:
            raise ProfileError(source, "auth", f"{self.auth!r} is not an auth scheme",
                               f"use one of: {', '.join(AUTH_SCHEMES)}")
        check_credential(source, self.username, self.password)
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            raise ProfileError(source, "host", f"{self.host!r} is not an IP address",
                               "use an address such as 127.0.0.1 (or 0.0.0.0 for all)") from None
        if not isinstance(self.path, str) or not _PATH.match(self.path):
            raise ProfileError(source, "path", f"{self.path!r} is not a plain absolute path",
                               "write e.g. /stream (letters, digits, '.', '_', '~', '-', '/')")

    @property
    def url_host(self) -> str:
        """The host as written in a URL: IPv6 addresses go in brackets."""
        return f"[{self.host}]" if ":" in self.host else self.host


def check_credential(source: str, username: str, password: str) -> None:
    """Refuse a user name or password that RTSP's Basic or Digest auth could not carry."""
    if not isinstance(username, str) or not _USER.match(username):
        raise ProfileError(source, "username", f"{username!r} cannot be sent by RTSP clients",
                           "use 1-64 printable ASCII characters without ':' or spaces")
    if not isinstance(password, str) or not _PASSWORD.match(password):
        raise ProfileError(source, "password", "is empty, too long or not printable ASCII",
                           "use 1-128 printable ASCII characters")


def _integer(source: str, field: str, value: object, low: int, high: int, *,
             step: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProfileError(source, field, f"{value!r} is out of range",
                           f"use a whole number from {low} to {high}")
    if value % step:
        raise ProfileError(source, field, f"{value} is not a multiple of {step}",
                           f"round it to a multiple of {step} (the encoder works in blocks)")


class ProfileCamera(Protocol):
    """A camera as a hardware profile declares it (``fakehw.profiles.Camera``)."""

    @property
    def name(self) -> str: ...

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    @property
    def fps(self) -> int: ...

    @property
    def codec(self) -> str: ...

    @property
    def username(self) -> str: ...

    @property
    def password(self) -> str: ...

    @property
    def auth(self) -> str: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def path(self) -> str: ...


def from_profile(camera: ProfileCamera) -> CameraConfig:
    """The config of a camera declared in a hardware profile (``spec.cameras``)."""
    return CameraConfig(
        name=camera.name, width=camera.width, height=camera.height, fps=camera.fps,
        codec=camera.codec, username=camera.username, password=camera.password,
        auth=camera.auth, host=camera.host, port=camera.port, path=camera.path,
    )
