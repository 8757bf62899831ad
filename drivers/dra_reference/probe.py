"""``python -m dra_reference.probe``: is this container's kubelet plugin serving?

The DaemonSet's readiness probe. A rolling update (maxSurge 1) stops the old pod as soon as
the new one is Ready; a container that merely started is not serving yet, and in that gap
the kubelet has no plugin of the driver to prepare with. Ready here means: the instance's
registration socket and DRA socket both accept connections. It reads the plugin's own
``DRA_REFERENCE_*`` environment (an exec probe runs in the container) and imports nothing
heavy, since it runs every second.

Exit status 0 when serving, 1 (with the reason) when not.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from dra_reference.plugin.settings import PluginSettings

PREFIX = "DRA_REFERENCE_"


def sockets(environ: Mapping[str, str]) -> list[Path]:
    """The sockets the plugin configured by ``environ`` serves on. Without an instance ID
    (a random one per start) every registration socket of the driver counts."""
    driver = environ.get(f"{PREFIX}DRIVER_NAME", "dra.fakehw.dev")
    registry = Path(environ.get(f"{PREFIX}REGISTRY_DIR", "/var/lib/kubelet/plugins_registry"))
    plugins = Path(environ.get(f"{PREFIX}PLUGINS_DIR", "/var/lib/kubelet/plugins"))
    instance = environ.get(f"{PREFIX}INSTANCE_ID", "")
    if not instance:
        return sorted(registry.glob(f"{driver}-*-reg.sock"))
    settings = PluginSettings(driver, f"{driver}/device", instance_id=instance,
                              registry_dir=registry, plugins_dir=plugins)
    return [settings.registration_socket, settings.dra_socket]


def accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def main(environ: Mapping[str, str] = os.environ) -> int:
    paths = sockets(environ)
    silent = [str(p) for p in paths if not accepts(p)]
    if not paths or silent:
        print(f"not serving: {', '.join(silent) or 'no registration socket of the driver'}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
