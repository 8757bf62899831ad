"""Constants shared by the camera tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

from typing import Any

USER, PASSWORD = "admin", "s3cret"
CAMERA_DEFAULTS: dict[str, Any] = {
    "name": "cam0", "width": 320, "height": 240, "fps": 10, "port": 0,
    "username": USER, "password": PASSWORD,
}
