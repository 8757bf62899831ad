"""Which CXL regions this driver made, and which it could not delete yet.

Discovery must tell the driver's regions (whose capacity the scheduler already accounts for)
from the administrator's (whose capacity is not on offer). And the kernel frees device memory
from the top only: a region below another one cannot be destroyed yet (EBUSY), so its claim
is unprepared with the region parked here as *pending*, to be destroyed as soon as the regions
above it are gone. Both lists live in one small file under the driver's state directory.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from dra_reference.cdi import write_atomically


class RegionLedger:
    """``<state>/cxl-regions.json``: ``{"owned": [...], "pending": [...]}``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def owned(self) -> set[str]:
        """Regions of ours in use by claims (not those waiting to be destroyed)."""
        data = self._read()
        return set(data["owned"]) - set(data["pending"])

    def pending(self) -> list[str]:
        """Regions to destroy as soon as the kernel lets us."""
        return sorted(self._read()["pending"], key=_number)

    def add(self, region: str) -> None:
        self._change(lambda data: data["owned"].append(region))

    def defer(self, region: str) -> None:
        self._change(lambda data: data["pending"].append(region))

    def drop(self, region: str) -> None:
        def remove(data: dict[str, list[str]]) -> None:
            for key in ("owned", "pending"):
                data[key] = [name for name in data[key] if name != region]
        self._change(remove)

    def _change(self, edit: Callable[[dict[str, list[str]]], None]) -> None:
        with self._lock:
            data = self._read()
            edit(data)
            data = {key: sorted(set(names), key=_number) for key, names in data.items()}
            write_atomically(self.path, json.dumps(data) + "\n")

    def _read(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"owned": [], "pending": []}
        return {"owned": list(data.get("owned", [])), "pending": list(data.get("pending", []))}


def _number(region: str) -> int:
    digits = region.removeprefix("region")
    return int(digits) if digits.isdigit() else -1
