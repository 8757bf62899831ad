"""The kubelet plugin: two gRPC servers on two unix sockets, started and stopped in order.

The DRA socket (both DRAPlugin versions and both DRAResourceHealth versions) comes up first
and goes down last, so the kubelet never finds a registration that points at nothing. Socket
files left by a killed predecessor with the same name are replaced; the plugin removes its
own on the way out, because the kubelet drops a plugin only once its registration socket is
gone (or stops answering).
"""

from __future__ import annotations

import logging
import signal
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType, TracebackType

import grpc

from dra_reference.cdi import SpecDir
from dra_reference.checkpoint import Checkpoint
from dra_reference.errors import ConfigurationError
from dra_reference.plugin.draservice import DRAServicer
from dra_reference.plugin.health import HealthFeed, HealthServicer
from dra_reference.plugin.lifecycle import ClaimLifecycle
from dra_reference.plugin.registration import DRA_SERVICES, HEALTH_SERVICES, RegistrationService
from dra_reference.plugin.seams import ClaimSource, HealthSource, Preparer
from dra_reference.plugin.services import add_service
from dra_reference.plugin.settings import PluginSettings
from dra_reference.plugin.threaderrors import ThreadErrors
from dra_reference.plugin.wire import (
    DRA_V1,
    DRA_V1BETA1,
    HEALTH_V1,
    HEALTH_V1ALPHA1,
    REGISTRATION,
)

log = logging.getLogger(__name__)
_Adder = Callable[[grpc.Server], None]


class PluginServer:
    """Owns the sockets, the servers and the claim lifecycle of one plugin instance."""

    def __init__(self, settings: PluginSettings, *, preparer: Preparer, claims: ClaimSource,
                 health: HealthSource | None = None) -> None:
        settings.validate()
        self.settings = settings
        self.errors = ThreadErrors()
        self._preparer = preparer
        self._claims = claims
        self._feed = HealthFeed(health, self.errors) if health is not None else None
        services = DRA_SERVICES + (HEALTH_SERVICES if health is not None else ())
        self.registration = RegistrationService(settings.driver_name,
                                                str(settings.dra_socket), services)
        self._servers: list[tuple[grpc.Server, Path]] = []
        self._lifecycle: ClaimLifecycle | None = None

    def start(self) -> None:
        """Recover from the checkpoint, then serve DRA, then register with the kubelet."""
        settings = self.settings
        lifecycle = ClaimLifecycle(settings.driver_name, self._claims, self._preparer,
                                   Checkpoint.load(settings.checkpoint),
                                   SpecDir(settings.cdi_dir, settings.cdi_kind))
        self._lifecycle = lifecycle
        lifecycle.recover()
        try:
            self._serve(settings.dra_socket, self._add_dra_services(lifecycle))
            if self._feed is not None:
                self._feed.start()
            registration = self.registration
            self._serve(settings.registration_socket, lambda server: add_service(
                server, REGISTRATION, "Registration", registration))
        except BaseException:
            self.stop()
            raise
        log.info("DRA driver %s serving on %s, registered through %s", settings.driver_name,
                 settings.dra_socket, settings.registration_socket)

    def stop(self, grace: float = 1.0) -> None:
        """Unregister, end health streams, stop serving; every socket file is gone on return.

        The socket files are removed before anything else (gRPC also removes a listener's
        file when the listener closes, at the start of a server's stop; this does not rely
        on it): calls in flight finish on their open connections, no new connection finds
        a file, and a process killed while waiting for those calls (the pod's grace period
        over) leaves no file behind. The registration socket goes first (it started last),
        so the kubelet never follows a registration to a DRA socket that is already gone.
        """
        for _, path in reversed(self._servers):
            path.unlink(missing_ok=True)
        if self._feed is not None:
            self._feed.stop()
        while self._servers:
            server, _ = self._servers.pop()
            server.stop(grace).wait()
        if self._lifecycle is not None:
            self._lifecycle.close()

    def raise_thread_errors(self) -> None:
        """Re-raise exceptions caught in server threads (for tests and supervisors)."""
        self.errors.raise_recorded()

    def __enter__(self) -> PluginServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def _add_dra_services(self, lifecycle: ClaimLifecycle) -> _Adder:
        errors, feed, resend = self.errors, self._feed, self.settings.health_resend_seconds

        def add(server: grpc.Server) -> None:
            for pb, share_ids in ((DRA_V1, True), (DRA_V1BETA1, False)):
                add_service(server, pb, "DRAPlugin",
                            DRAServicer(pb, lifecycle, errors, share_ids=share_ids))
            if feed is not None:
                for pb in (HEALTH_V1, HEALTH_V1ALPHA1):
                    add_service(server, pb, "DRAResourceHealth",
                                HealthServicer(pb, feed, resend))
        return add

    def _serve(self, path: Path, add_services: _Adder) -> None:
        _clear_stale_socket(path)
        server = grpc.server(ThreadPoolExecutor(max_workers=self.settings.max_workers,
                                                thread_name_prefix=f"grpc-{path.name}"))
        add_services(server)
        try:
            server.add_insecure_port(f"unix:{path}")
        except RuntimeError as exc:
            raise ConfigurationError(f"cannot listen on {path}: {exc}") from exc
        server.start()
        self._servers.append((server, path))


def _clear_stale_socket(path: Path) -> None:
    """A socket file here is a dead predecessor's (names are per instance): remove it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ConfigurationError(f"{path} exists and is not a socket; refusing to replace it")
    log.info("replacing stale socket %s", path)
    path.unlink()


def run_until_signal(server: PluginServer,
                     signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT),
                     ) -> signal.Signals:
    """Serve until one of ``signals`` arrives, then stop cleanly; must run in the main thread."""
    received: list[signal.Signals] = []
    wake = threading.Event()

    def handler(number: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(number))
        wake.set()

    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        with server:
            while not wake.wait(0.5):  # a timeout keeps the wait responsive to signals
                pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    log.info("stopped on %s", received[0].name)
    return received[0]
