"""The record of a materialized tree, kept beside it so any later process can act on it.

``root/.fakehw/state.json`` holds every device record, which are unplugged or unhealthy and
the processes started for the tree. Writes go through a temporary file and a rename, under a
lock, so a reader never sees half a state and two commands never interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fakehw.errors import TreeError, UnknownDeviceError
from fakehw.tree.writer import DeviceRecord, DevNode

STATE_DIR = ".fakehw"
FORMAT = 1


@dataclass
class TreeState:
    root: str
    profile: str
    node_name: str
    devices: list[DeviceRecord]
    unplugged: list[str] = field(default_factory=list)
    unhealthy: dict[str, str] = field(default_factory=dict)
    processes: dict[str, int] = field(default_factory=dict)
    cameras: list[dict[str, str]] = field(default_factory=list)  # name, url as served
    created_root: bool = False

    def find(self, name: str) -> DeviceRecord:
        for record in self.devices:
            if name in (record.name, record.bdf):
                return record
        known = ", ".join(r.name for r in self.devices) or "none"
        raise UnknownDeviceError(f"no device {name!r} in the tree at {self.root}; "
                                 f"devices: {known}")

    def children(self, name: str) -> list[DeviceRecord]:
        return [r for r in self.devices if r.parent == name]


def state_dir(root: Path) -> Path:
    return root / STATE_DIR


def save(state: TreeState) -> None:
    folder = state_dir(Path(state.root))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lock").touch(exist_ok=True)
    data = {"format": FORMAT, **asdict(state)}
    temporary = folder / "state.json.tmp"
    temporary.write_text(json.dumps(data, indent=1))
    os.replace(temporary, folder / "state.json")


def load(root: Path) -> TreeState:
    path = state_dir(root) / "state.json"
    if not path.exists():
        raise TreeError(f"no fakehw tree at {root}; create one with: fakehw up --root {root}")
    data = json.loads(path.read_text())
    data.pop("format", None)
    devices = [DeviceRecord(**{**d, "dev_nodes": [DevNode(**n) for n in d["dev_nodes"]]})
               for d in data.pop("devices")]
    return TreeState(devices=devices, **data)


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Serialize commands acting on one tree."""
    folder = state_dir(root)
    if not folder.is_dir():
        raise TreeError(f"no fakehw tree at {root}; create one with: fakehw up --root {root}")
    with (folder / "lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
