"""Cameras: a credential of the claim's own, minted on the camera and revoked with the claim.

Sharing the camera's admin password with every pod would make it impossible to cut one pod
off; a credential per claim can be revoked when the claim goes. The user name derives from
the claim UID, so a rollback after a crash can revoke it without having seen the password.
The note naming it is journaled before the camera is asked, so the revoke is never missed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from dra_reference.cdi import ContainerEdits
from dra_reference.discovery.cameras import CameraSpec
from dra_reference.params.types import CameraConfig
from dra_reference.plugin.model import JSON
from dra_reference.preparers.base import (
    DeviceJob,
    DeviceSetupError,
    DeviceUnavailableError,
    Note,
    env_name,
)
from dra_reference.preparers.cameracontrol import CredentialService, ServiceUnreachableError

log = logging.getLogger(__name__)
Services = Callable[[Path], CredentialService]


class CameraPreparer:
    kind = "camera"
    changes_devices = True

    def __init__(self, cameras: Mapping[str, CameraSpec],
                 services: Services = CredentialService) -> None:
        self._cameras = cameras
        self._services = services

    def prepare(self, job: DeviceJob, note: Note) -> ContainerEdits:
        camera = self._cameras.get(job.device.name)
        if camera is None:
            raise DeviceUnavailableError(f"camera {job.device.name} is not in the cameras file")
        config: CameraConfig = job.config
        username, password = "", ""
        if camera.control_socket is not None:
            username, password = f"dra-{job.claim.uid}", secrets.token_urlsafe(18)
            note({"endpoint": str(camera.control_socket), "camera": camera.control_name,
                  "username": username})
            try:
                self._services(camera.control_socket).add(camera.control_name, username,
                                                          password)
            except ServiceUnreachableError:
                note({"username": ""})  # never reached the camera: nothing to revoke
                raise
        values = {"URL": camera.url, "USERNAME": username, "PASSWORD": password,
                  "TRANSPORT": config.transport,
                  "URL_WITH_CREDENTIALS": _with_credentials(camera.url, username, password)}
        prefix = f"FAKEHW_CAMERA_{env_name(camera.name)}_"
        env = [f"{prefix}{key}={value}" for key, value in values.items()]
        if len(job.peers) == 1:  # the short names only when they cannot clash
            env += [f"FAKEHW_CAMERA_{key}={value}" for key, value in values.items()]
        return ContainerEdits(env=tuple(env))

    def undo(self, notes: Mapping[str, JSON]) -> None:
        if not notes.get("username"):
            return  # nothing was minted
        service = self._services(Path(str(notes["endpoint"])))
        try:
            service.revoke(str(notes["camera"]), str(notes["username"]))
        except DeviceSetupError as exc:  # the camera itself is gone: so is the credential
            log.warning("revoking %s: %s", notes["username"], exc)


def _with_credentials(url: str, username: str, password: str) -> str:
    if not username:
        return url
    parts = urlsplit(url)
    userinfo = f"{quote(username, safe='')}:{quote(password, safe='')}@"
    return parts._replace(netloc=userinfo + parts.netloc).geturl()
