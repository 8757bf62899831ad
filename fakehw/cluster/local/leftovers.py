"""Files the kubelet and the CNI library write at fixed host paths, and their removal.

Some paths cannot be moved into the run directory by any setting: the kubelet links container
logs into /var/log/containers and serves the device-plugin socket in
/var/lib/kubelet/device-plugins; containerd's CNI library caches results in
/var/lib/cni/results; mount(8) keeps /run/mount. `up` records which of these directories did
not exist before it, and `down` removes the entries that belong to this cluster, then those
directories if it created them and they are empty.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

HOST_PATHS = ("/var/lib/kubelet", "/var/log/containers", "/var/lib/cni", "/run/mount")
CONTAINER_LOGS = Path("/var/log/containers")
CNI_RESULTS = Path("/var/lib/cni/results")
DEVICE_PLUGIN_SOCKET = Path("/var/lib/kubelet/device-plugins/kubelet.sock")
# The device manager's allocations; written once a device plugin allocated something.
DEVICE_CHECKPOINT = Path("/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint")


def absent_host_paths() -> list[str]:
    """The fixed host directories that do not exist yet (so this cluster will create them)."""
    return [p for p in HOST_PATHS if not os.path.lexists(p)]


def remove_log_links(run_dir: Path) -> None:
    """Links in /var/log/containers that point into this cluster's run directory."""
    if not CONTAINER_LOGS.is_dir():
        return
    prefix = str(run_dir) + "/"
    for link in CONTAINER_LOGS.iterdir():
        if link.is_symlink() and os.readlink(link).startswith(prefix):
            link.unlink(missing_ok=True)


def _read_result(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remove_cni_results(network_names: Iterable[str]) -> None:
    """Cached CNI results of this cluster's networks and of the same containers' loopback."""
    if not CNI_RESULTS.is_dir():
        return
    names = tuple(network_names)
    results = {path: _read_result(path) for path in CNI_RESULTS.iterdir()}
    ours = {r.get("containerId") for r in results.values() if r.get("networkName") in names}
    for path, result in results.items():
        if result.get("networkName") in names or result.get("containerId") in ours:
            path.unlink(missing_ok=True)


def kubelet_running() -> bool:
    """True while any kubelet runs on this host (ours or not)."""
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and os.readlink(entry / "exe").endswith("/kubelet"):
                return True
    return False


def remove_device_plugin_socket() -> None:
    """The kubelet's device-plugin socket, once no kubelet is left to serve it."""
    if DEVICE_PLUGIN_SOCKET.is_socket() and not kubelet_running():
        DEVICE_PLUGIN_SOCKET.unlink(missing_ok=True)


def remove_created(paths: Iterable[str]) -> None:
    """Remove directories this cluster created, if nothing else put files in them since."""
    for root in paths:
        if root == "/var/lib/kubelet" and not kubelet_running():
            DEVICE_CHECKPOINT.unlink(missing_ok=True)
        if not os.path.isdir(root):
            continue
        for directory, _, _ in os.walk(root, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(directory)
