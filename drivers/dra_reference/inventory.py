"""What the driver knows about its devices right now, shared by the publisher, health and prepare.

One scan feeds everyone, so the slice the scheduler sees, the health the kubelet sees and
the device a claim is prepared on agree. A device that disappears stays known as *vanished*
(unhealthy, for the kubelet's health stream) until it comes back, because a pod may still
hold it. Readers can wait for the next change through a version number.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from dra_reference.discovery.model import Device
from dra_reference.plugin.model import DeviceHealth, HealthStatus

Scan = Callable[[], dict[str, list[Device]]]  # pool name -> its devices


class Inventory:
    """The latest scan, by pool; ``refresh`` rescans and says whether anything changed."""

    def __init__(self, scan: Scan, clock: Callable[[], float] = time.time) -> None:
        self._scan = scan
        self._clock = clock
        self._pools: dict[str, list[Device]] = {}
        self._vanished: dict[tuple[str, str], int] = {}  # (pool, device) -> when it went
        self._version = 0
        self._changed = threading.Condition()

    def refresh(self) -> bool:
        pools = {pool: sorted(devices, key=lambda d: d.name)
                 for pool, devices in self._scan().items()}
        with self._changed:
            if pools == self._pools and self._version:
                return False
            now = int(self._clock())
            present = {(pool, d.name) for pool, devices in pools.items() for d in devices}
            for pool, devices in self._pools.items():
                for device in devices:
                    if (pool, device.name) not in present:
                        self._vanished.setdefault((pool, device.name), now)
            for key in present:
                self._vanished.pop(key, None)
            self._pools = pools
            self._version += 1
            self._changed.notify_all()
            return True

    @property
    def version(self) -> int:
        with self._changed:
            return self._version

    def pools(self) -> dict[str, list[Device]]:
        with self._changed:
            return dict(self._pools)

    def lookup(self, pool: str, name: str) -> Device | None:
        """The device, rescanning once if it is not known (it may have just appeared)."""
        for attempt in range(2):
            with self._changed:
                found = next((d for d in self._pools.get(pool, []) if d.name == name), None)
            if found is not None or attempt:
                return found
            self.refresh()
        return None

    def wait_newer(self, seen: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self._version > seen, timeout)
            return self._version

    def health(self, timeout_seconds: int = 0) -> list[DeviceHealth]:
        """Every device's health now, vanished ones included as unhealthy."""
        now = int(self._clock())
        with self._changed:
            found = [DeviceHealth(pool, d.name, HealthStatus.HEALTHY if d.healthy
                                  else HealthStatus.UNHEALTHY, now, timeout_seconds,
                                  d.health_message)
                     for pool, devices in sorted(self._pools.items()) for d in devices]
            found += [DeviceHealth(pool, name, HealthStatus.UNHEALTHY, now, timeout_seconds,
                                   f"device vanished at {since} (unplugged or unbound)")
                      for (pool, name), since in sorted(self._vanished.items())]
        return found
