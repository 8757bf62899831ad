"""Device health for the kubelet: the HealthSource's latest snapshot, fanned out to streams.

One thread reads the HealthSource; each NodeWatchResources stream (v1 or v1alpha1, and a new
one after every kubelet reconnect) sends the complete list whenever it changes. The kubelet
stamps each device with the time it *received* it and turns it Unknown once that is older
than the device's timeout (30 s by default, ``healthinfo.go``), so an unchanged list is sent
again every ``resend_seconds`` as well.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

from dra_reference.plugin.model import DeviceHealth
from dra_reference.plugin.seams import HealthSource
from dra_reference.plugin.threaderrors import ThreadErrors

MESSAGE_MAX = 1024
_POLL_SECONDS = 0.2  # how quickly a stream notices the kubelet left or the plugin stops


class HealthFeed:
    """The latest complete snapshot and a version number that grows with every change."""

    def __init__(self, source: HealthSource, errors: ThreadErrors) -> None:
        self._source = source
        self._errors = errors
        self._changed = threading.Condition()
        self._version = 0
        self._snapshot: tuple[DeviceHealth, ...] = ()
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="health-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(timeout=5)

    def wait_newer(self, seen: int, timeout: float) -> tuple[int, tuple[DeviceHealth, ...]]:
        """The current (version, snapshot), after waiting up to ``timeout`` for a newer one."""
        with self._changed:
            self._changed.wait_for(lambda: self._version > seen or self.stopping.is_set(),
                                   timeout)
            return self._version, self._snapshot

    def _pump(self) -> None:
        try:
            for snapshot in self._source.watch(self.stopping):
                with self._changed:
                    self._version += 1
                    self._snapshot = tuple(snapshot)
                    self._changed.notify_all()
                if self.stopping.is_set():
                    return
        except Exception as exc:
            self._errors.record("the HealthSource", exc)


class HealthServicer:
    """DRAResourceHealth for one API version; ``pb`` is that version's generated module."""

    def __init__(self, pb: ModuleType, feed: HealthFeed, resend_seconds: float) -> None:
        self._pb = pb
        self._feed = feed
        self._resend = resend_seconds

    def NodeWatchResources(self, request: Any, context: Any) -> Iterator[Any]:
        seen, sent_at = 0, 0.0
        while context.is_active() and not self._feed.stopping.is_set():
            version, snapshot = self._feed.wait_newer(seen, _POLL_SECONDS)
            if version == 0:
                continue  # the source has not said anything yet
            if version > seen or time.monotonic() - sent_at >= self._resend:
                seen, sent_at = version, time.monotonic()
                yield self._pb.NodeWatchResourcesResponse(devices=self._devices(snapshot))

    def _devices(self, snapshot: Sequence[DeviceHealth]) -> list[Any]:
        return [self._pb.DeviceHealth(
            device=self._pb.DeviceIdentifier(pool_name=item.pool, device_name=item.device),
            health=int(item.status), last_updated_time=item.last_updated,
            health_check_timeout_seconds=item.timeout_seconds,
            message=_truncate(item.message)) for item in snapshot]


def _truncate(message: str) -> str:
    """The kubelet's own rule, applied here so the message the driver logs is the one shown."""
    return message if len(message) <= MESSAGE_MAX else message[:MESSAGE_MAX - 3] + "..."
