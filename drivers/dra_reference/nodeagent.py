"""The node plugin's background loop: notice a change, rescan, republish the node's pool.

Changes are noticed by inotify (hot-plug, health counters, a new AFU), by ``nudge`` when the
published slices were changed by someone else (a restarting kubelet deletes them) and,
whatever those miss, by a periodic resync; a failed publish is retried after a short pause
rather than at the next resync, so a restarted API server does not leave stale slices for a
minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from dra_reference.discovery.model import Device
from dra_reference.inventory import Inventory
from dra_reference.publisher import PublishError, SlicePublisher
from dra_reference.slices import Pool
from dra_reference.watch import TreeWatcher

log = logging.getLogger(__name__)
STEP_SECONDS = 0.1  # how soon a stop is seen; the plugin's shutdown (a restart) waits for it


class NodeAgent:
    """Keeps ``pool`` (this node's devices) published while ``run`` runs."""

    def __init__(self, inventory: Inventory, publisher: SlicePublisher, pool: Pool,
                 watcher: TreeWatcher | None, *, resync_seconds: float = 60.0,
                 retry_seconds: float = 5.0, nudge: threading.Event | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.inventory = inventory
        self._publisher = publisher
        self._pool = pool
        self._watcher = watcher
        self._resync = resync_seconds
        self._retry = retry_seconds
        self._clock = clock
        self.nudge = nudge or threading.Event()  # set: republish now
        self.published = threading.Event()  # set after the first successful publish

    def run(self, stop: threading.Event) -> None:
        dirty, next_resync, retry_at = True, 0.0, 0.0
        while not stop.is_set():
            now = self._clock()
            if now >= next_resync:
                dirty, next_resync = True, now + self._resync
            if self.nudge.is_set():
                self.nudge.clear()
                dirty = True
            dirty = self.inventory.refresh() or dirty
            devices = self.inventory.pools().get(self._pool.name, [])
            if self._watcher is not None:
                self._watcher.follow(devices)
            if dirty and now >= retry_at:
                dirty = not self._publish(devices)
                retry_at = now + self._retry if dirty else 0.0
            wake = min(next_resync, retry_at) if dirty else next_resync
            self._wait(stop, wake - self._clock())

    def _publish(self, devices: list[Device]) -> bool:
        try:
            self._publisher.publish([(self._pool, devices)])
        except PublishError as exc:
            log.warning("%s; retrying in %.0fs", exc, self._retry)
            return False
        self.published.set()
        return True

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        """Until something changes in the tree, a nudge, ``seconds`` pass or ``stop``."""
        deadline = self._clock() + seconds
        while not stop.is_set() and not self.nudge.is_set() and self._clock() < deadline:
            step = min(STEP_SECONDS, max(deadline - self._clock(), 0.0))
            if self._watcher is None:
                stop.wait(step)
            elif self._watcher.wait(step):
                return
