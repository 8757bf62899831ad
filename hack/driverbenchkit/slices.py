"""The driver's pool as the API server shows it, followed with a watch, with arrival times.

A watch hands over every change as soon as the API server has stored it, so the time an
event arrives here is the time the change became visible to any client (the scheduler
included), without a polling interval blurring it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client, watch

Devices = frozenset[str]


class PoolWatch:
    """Device names in the driver's slices for one node, as a history of (time, devices)."""

    def __init__(self, api: client.ResourceV1Api, driver: str, node: str) -> None:
        self._api = api
        self._selector = f"spec.driver={driver},spec.nodeName={node}"
        self._slices: dict[str, Devices] = {}
        self._history: list[tuple[float, Devices]] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="slice-watch", daemon=True)

    def __enter__(self) -> PoolWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def now(self) -> Devices:
        with self._changed:
            return self._history[-1][1] if self._history else frozenset()

    def wait_for(self, wanted: Callable[[Devices], bool], since: float,
                 timeout: float = 60) -> float:
        """The arrival time of the first state after ``since`` for which ``wanted`` holds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if self._failure is not None:
                    raise RuntimeError("the slice watch failed") from self._failure
                for arrived, devices in self._history:
                    if arrived >= since and wanted(devices):
                        return arrived
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the pool did not reach the wanted state in "
                                       f"{timeout:.0f}s; it shows {sorted(self.now())}")
                self._changed.wait(left)

    def _run(self) -> None:
        version = ""
        try:
            while not self._stop.is_set():
                watcher: Any = watch.Watch()  # type: ignore[no-untyped-call]
                stream = watcher.stream(
                    self._api.list_resource_slice, field_selector=self._selector,
                    resource_version=version or None, timeout_seconds=5)
                for event in stream:
                    version = self._apply(event)
        except BaseException as exc:  # handed to the waiting thread
            with self._changed:
                self._failure = exc
                self._changed.notify_all()

    def _apply(self, event: dict[str, Any]) -> str:
        arrived = time.monotonic()
        item = event["object"]
        name = item.metadata.name
        with self._changed:
            if event["type"] == "DELETED":
                self._slices.pop(name, None)
            else:
                self._slices[name] = frozenset(d.name for d in item.spec.devices or ())
            self._history.append((arrived, frozenset().union(*self._slices.values())))
            self._changed.notify_all()
        return str(item.metadata.resource_version)
