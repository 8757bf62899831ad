"""The kubelet's health stream, fed by the inventory: a snapshot now and after every change.

Health changes only when a scan sees them, and scans are driven by inotify and the periodic
resync, so this source just waits for the inventory's next version (a tenth of a second at a
time: the plugin's shutdown waits for this thread, and a restart for the shutdown) and sends
the complete list.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from dra_reference.inventory import Inventory
from dra_reference.plugin.model import DeviceHealth

WAIT_SECONDS = 0.1


class InventoryHealth:
    """A ``plugin.seams.HealthSource`` over an ``Inventory``."""

    def __init__(self, inventory: Inventory, timeout_seconds: int = 0) -> None:
        self._inventory = inventory
        self._timeout = timeout_seconds

    def watch(self, stop: threading.Event) -> Iterator[Sequence[DeviceHealth]]:
        seen = self._inventory.version
        yield self._inventory.health(self._timeout)
        while not stop.is_set():
            version = self._inventory.wait_newer(seen, WAIT_SECONDS)
            if version > seen:
                seen = version
                yield self._inventory.health(self._timeout)
