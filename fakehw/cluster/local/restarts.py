"""Restarting one node's kubelet of a running local cluster, as `systemctl restart` would.

The kubelet is stopped by its recorded PID (SIGTERM, then SIGKILL) and started again with the
same command line, environment and log file; its pods keep running, because their containers
belong to containerd's shims, not to the kubelet. The state file then records the new process,
so `down` still finds it. This is how a test checks that a driver registers again with a
kubelet that restarted and that prepared claims survive it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import yaml

from fakehw.cluster.errors import ClusterConfigError, ClusterError
from fakehw.cluster.local import mountns
from fakehw.cluster.local.health import http_ok
from fakehw.cluster.local.host import node_path
from fakehw.cluster.local.processes import spawn, stop, wait_ready
from fakehw.cluster.local.state import ClusterState

READY_TIMEOUT = 60.0


def node_environment(hardware_root: Path | str | None, *bin_dirs: Path) -> dict[str, str]:
    """A node process's environment: this one, with a PATH of `bin_dirs` (the cluster's own
    binaries) and the system's folders only, and its fake-hardware root (if any) as
    FAKEHW_HARDWARE_ROOT."""
    env = dict(os.environ)
    env["PATH"] = node_path(*bin_dirs)
    if hardware_root:
        env["FAKEHW_HARDWARE_ROOT"] = str(hardware_root)
    return env


def find_node(state: ClusterState, node: str) -> dict[str, Any]:
    """The recorded node called ``node``; the error lists the ones there are."""
    for recorded in state.nodes:
        if recorded["name"] == node:
            return recorded
    names = ", ".join(n["name"] for n in state.nodes) or "none"
    raise ClusterConfigError(f"cluster {state.name!r} has no node {node!r} (its nodes: {names})")


def restart_kubelet(state: ClusterState, node: str) -> float:
    """Stop and start ``node``'s kubelet; return the seconds until it was healthy again."""
    recorded = find_node(state, node)
    name = f"kubelet-{recorded['index']}"
    record = state.process(name)
    if record is None:
        raise ClusterError(f"no {name} is recorded for node {node!r} in {state.path}")
    started = time.monotonic()
    stop(record)
    log = Path(record.log)
    with log.open("a") as stream:
        stream.write(f"# restarted at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n")
    kubelet = Path(mountns.command_of(record.argv)[0])
    env = node_environment(recorded.get("hardware_root"), kubelet.parent)
    fresh = spawn(name, record.argv, log, env)
    state.processes = [fresh if p.name == name else p for p in state.processes]
    state.save()
    url = _healthz(record.argv)
    wait_ready(fresh, lambda: http_ok(url), READY_TIMEOUT, "healthy again")
    return time.monotonic() - started


def _healthz(argv: tuple[str, ...]) -> str:
    """The kubelet's healthz URL, from the config file its command line names."""
    config = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
    if config is None:
        raise ClusterError(f"the recorded kubelet command line names no --config: {argv}")
    data = yaml.safe_load(Path(config).read_text())
    return (f"http://{data.get('healthzBindAddress', '127.0.0.1')}:"
            f"{data.get('healthzPort', 10248)}/healthz")
