"""Reading a node's CDI spec directories, to check the device IDs a driver hands out.

The kubelet passes a driver's CDI device IDs to the container runtime, which fails the
container if an ID does not resolve; a stale spec left after unprepare would let another
container get the device. So the suite resolves IDs itself, the way CDI's registry does:
every ``*.json``/``*.yaml`` in the spec directories, later directories winning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

# container-device-interface pkg/parser: vendor and class names, then the device name
CDI_ID = re.compile(r"(?P<kind>[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]?/[A-Za-z][A-Za-z0-9_.-]*"
                    r"[A-Za-z0-9]?)=(?P<name>[A-Za-z0-9][A-Za-z0-9_.:-]*)")


def is_valid_id(cdi_id: str) -> bool:
    return CDI_ID.fullmatch(cdi_id) is not None


class CdiRegistry:
    """A snapshot of the devices defined in ``dirs`` (re-read with ``refresh``)."""

    def __init__(self, dirs: Iterable[Path]) -> None:
        self.dirs = tuple(dirs)
        self.devices: dict[str, dict[str, Any]] = {}
        self.files: dict[str, Path] = {}
        self.refresh()

    def visible(self) -> bool:
        """Whether any spec directory can be read from here (not on a remote node)."""
        return any(directory.is_dir() for directory in self.dirs)

    def refresh(self) -> CdiRegistry:
        self.devices.clear()
        self.files.clear()
        for directory in self.dirs:
            for path in sorted(directory.glob("*")) if directory.is_dir() else ():
                if path.suffix in (".json", ".yaml") and not path.name.startswith("."):
                    self._load(path)
        return self

    def resolve(self, cdi_id: str) -> dict[str, Any] | None:
        """The device's containerEdits merged with its spec's, or None."""
        return self.devices.get(cdi_id)

    def env(self, cdi_ids: Iterable[str]) -> dict[str, str]:
        """The environment the runtime would set for these devices."""
        env: dict[str, str] = {}
        for cdi_id in cdi_ids:
            for item in (self.resolve(cdi_id) or {}).get("env") or ():
                name, _, value = str(item).partition("=")
                env[name] = value
        return env

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text()
            spec = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError):
            return  # a runtime skips an unreadable spec too; the ID then does not resolve
        if not isinstance(spec, Mapping):
            return
        kind = str(spec.get("kind", ""))
        common = spec.get("containerEdits") or {}
        for device in spec.get("devices") or ():
            if isinstance(device, Mapping) and "name" in device:
                cdi_id = f"{kind}={device['name']}"
                self.devices[cdi_id] = _merge(common, device.get("containerEdits") or {})
                self.files[cdi_id] = path


def _merge(common: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key in set(common) | set(own):
        merged[key] = list(common.get(key) or []) + list(own.get(key) or [])
    return merged
