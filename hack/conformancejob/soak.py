"""Restarting one node's kubelet plugin pod many times in a row, checking after each restart
that the stopped pod left none of its sockets (DRA-REG-006, repeated until a rare leak
shows). Runs against a cluster that ``hack/conformance.py run --keep`` left running."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .pods import DriverPods, socket_suffixes
from .settings import DRIVER, Node

GRACE = 30.0  # the pod's default terminationGracePeriodSeconds


def sockets_of(node: Node, uid: str) -> list[Path]:
    """Every path a plugin pod with this UID may serve on (registration and DRA sockets)."""
    paths = []
    for suffix in socket_suffixes(uid):
        paths += [node.registry_dir / f"{DRIVER}-{suffix}-reg.sock",
                  node.plugins_dir / DRIVER / f"dra-{suffix}.sock"]
    return paths


def restart_soak(pods: DriverPods, node: Node, count: int, timeout: float,
                 echo: Callable[[str], None]) -> list[str]:
    """Restart ``node``'s plugin pod ``count`` times; returns one line per restart that left
    a socket behind (empty: none did)."""
    leaks = []
    for attempt in range(1, count + 1):
        old = pods.plugin_pod(node.name)
        if old is None:
            raise RuntimeError(f"no kubelet plugin pod runs on {node.name}:\n{pods.problems()}")
        served = [p for p in sockets_of(node, old["metadata"]["uid"]) if p.exists()]
        started = time.monotonic()
        old_name, new_name = pods.restart(node.name, timeout)
        restarted = time.monotonic() - started
        deadline = time.monotonic() + GRACE
        while any(p.exists() for p in served) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [str(p) for p in served if p.exists()]
        echo(f"{attempt:2}/{count}: {old_name} -> {new_name} in {restarted:.1f}s; "
             f"{len(served)} socket(s) of the stopped pod: "
             f"{'LEFT ' + ', '.join(left) if left else 'removed'}")
        if not served:
            leaks.append(f"restart {attempt}: {old_name} served on none of {sockets_of(node, '')}")
        if left:
            leaks.append(f"restart {attempt}: {old_name} left {', '.join(left)}")
    return leaks
