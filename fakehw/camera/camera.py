"""``Camera``: an emulated RTSP IP camera that tests and the daemon start, steer and stop.

The camera owns two threads: the encoder's and the event loop serving RTSP. Calls from the
owner's thread are handed to the loop and waited for, so when ``revoke_credential`` returns,
sessions opened with that credential are already gone. An exception raised on either thread
is kept and re-raised to the owner by ``check_errors`` (and on leaving a ``with`` block), the
way pytest-httpserver surfaces handler errors in the test that caused them.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

from fakehw.camera.auth import Authenticator, Credentials
from fakehw.camera.config import CameraConfig, check_credential
from fakehw.camera.encoder import Encoder
from fakehw.camera.h264 import AccessUnit
from fakehw.camera.server import CameraServer
from fakehw.errors import CameraError

T = TypeVar("T")
CALL_TIMEOUT = 10.0  # seconds to wait for the loop thread; a stuck loop is a bug to report


@dataclass(frozen=True)
class CameraStats:
    """A snapshot of what the camera is doing."""

    frames_encoded: int
    frame_number: int  # the frame due now: the counter follows the clock, watched or not
    clients: int  # sessions that are playing
    sessions: int
    connections: int
    streaming: bool
    refuse_logins: bool


class Camera:
    """An RTSP camera serving ``config``; use as a context manager or call start()/stop()."""

    def __init__(self, config: CameraConfig) -> None:
        if not isinstance(config, CameraConfig):
            raise TypeError(f"Camera needs a CameraConfig, got {type(config).__name__}")
        self.config = config
        self.credentials = Credentials()
        self.credentials.add(config.username, config.password)
        self._errors: list[BaseException] = []
        self._errors_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._used = False
        self._thread: threading.Thread | None = None
        self._encoder = Encoder(config.name, config.width, config.height, config.fps,
                                deliver=self._deliver, on_error=self._record_error)
        authenticator = Authenticator(config.auth, self.credentials, config.nonce_lifetime)
        self._server = CameraServer(config, authenticator, self._encoder, self._record_error)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Camera:
        if self._used:
            raise CameraError(f"camera {self.config.name!r} was already started; a camera runs "
                              "once: make a new Camera from the same config to start again")
        self._used = True
        self._encoder.start()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name=f"camera-{self.config.name}",
                                        daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._server.start(), loop).result(CALL_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Hang up every client and release the ports; safe to call twice."""
        self._encoder.stop()
        loop, self._loop = self._loop, None
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._server.close(), loop).result(CALL_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(CALL_TIMEOUT)
            loop.close()

    def __enter__(self) -> Camera:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
        if kind is None:
            self.check_errors()

    # -- what clients connect to -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port (the configured one, or the one picked for port 0)."""
        return self._server.port or self.config.port

    @property
    def url(self) -> str:
        return f"rtsp://{self.config.url_host}:{self.port}{self.config.path}"

    def url_with_credentials(self, username: str, password: str) -> str:
        """The URL with ``user:password@`` in it, the form ffmpeg and VLC take."""
        return f"rtsp://{username}:{password}@{self.config.url_host}:{self.port}{self.config.path}"

    # -- steering ----------------------------------------------------------------------------

    def add_credential(self, username: str, password: str) -> None:
        """Accept ``username``/``password`` too; a new password for a known user ends its
        sessions opened with the old one."""
        check_credential(f"camera {self.config.name!r}", username, password)
        self.credentials.add(username, password)
        self._call(self._server.revalidate)

    def revoke_credential(self, username: str) -> bool:
        """Stop accepting ``username`` and end its sessions; False if it was not accepted."""
        removed = self.credentials.revoke(username)
        self._call(self._server.revalidate)
        return removed

    def list_credentials(self) -> list[str]:
        """The user names accepted now (passwords are never handed out)."""
        return self.credentials.users()

    def set_refuse_logins(self, refuse: bool) -> None:
        """Fault: answer every authenticated request with 401 (403 without auth) while set."""
        self._call(lambda: setattr(self._server, "refuse_logins", bool(refuse)))

    def set_streaming(self, streaming: bool) -> None:
        """Fault: stop sending RTP and answer DESCRIBE/SETUP/PLAY with 503, or resume."""
        self._call(lambda: self._server.set_streaming(bool(streaming)))

    def stats(self) -> CameraStats:
        def snapshot() -> CameraStats:
            server = self._server
            return CameraStats(
                frames_encoded=self._encoder.frames_encoded,
                frame_number=self._encoder.frame_number,
                clients=sum(1 for s in server.sessions.values() if s.playing),
                sessions=len(server.sessions), connections=len(server.connections),
                streaming=server.streaming, refuse_logins=server.refuse_logins)
        return self._call(snapshot)

    # -- errors from the camera's threads ----------------------------------------------------

    def check_errors(self) -> None:
        """Re-raise the first exception raised on the camera's threads, if any."""
        with self._errors_lock:
            errors, self._errors = self._errors, []
        if errors:
            raise errors[0]

    def _record_error(self, exc: BaseException) -> None:
        with self._errors_lock:
            self._errors.append(exc)

    def _call(self, function: Callable[[], T]) -> T:
        """Run ``function`` on the loop thread (or here, before start) and return its result."""
        loop = self._loop
        if loop is None:
            return function()

        async def run() -> T:
            return function()
        return asyncio.run_coroutine_threadsafe(run(), loop).result(CALL_TIMEOUT)

    def _deliver(self, unit: AccessUnit) -> None:
        loop = self._loop
        if loop is not None:
            # RuntimeError: the loop closed while this picture was being encoded
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._server.broadcast, unit)
