"""What a local cluster has created, written to `<run>/state.json` after every change.

`down` undoes exactly what is listed here (processes by PID, bridges, cgroup roots), so a
cluster whose `up` failed half-way, or whose creating process was killed, can still be
removed. The file's presence is what "this cluster is up" means.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakehw.cluster.local.processes import ProcessRecord


@dataclass
class ClusterState:
    """Processes, kernel objects and facts of one running local cluster."""

    path: Path
    name: str
    processes: list[ProcessRecord] = field(default_factory=list)
    bridges: list[str] = field(default_factory=list)
    cgroups: list[str] = field(default_factory=list)
    directories: list[str] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def save(self) -> None:
        """Write atomically, so a reader never sees half a file."""
        data = {
            "name": self.name,
            "processes": [p.to_json() for p in self.processes],
            "bridges": self.bridges,
            "cgroups": self.cgroups,
            "directories": self.directories,
            "nodes": self.nodes,
            "facts": self.facts,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(temporary, self.path)

    @classmethod
    def load(cls, path: Path) -> ClusterState | None:
        """The saved state, or None if there is none (or it is unreadable)."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return cls(
            path=path,
            name=data.get("name", ""),
            processes=[ProcessRecord.from_json(p) for p in data.get("processes", [])],
            bridges=list(data.get("bridges", [])),
            cgroups=list(data.get("cgroups", [])),
            directories=list(data.get("directories", [])),
            nodes=list(data.get("nodes", [])),
            facts=dict(data.get("facts", {})),
        )

    def add_process(self, record: ProcessRecord) -> None:
        self.processes.append(record)
        self.save()

    def process(self, name: str) -> ProcessRecord | None:
        """The record of a process by name (e.g. `kubelet-0`)."""
        return next((p for p in self.processes if p.name == name), None)
