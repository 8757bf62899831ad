"""Upstream's DRA test driver as the second driver on a node, for the several-drivers
requirements (DRA-MULTI-*): a host process that writes its CDI specs where the node's
runtime reads them, and the DeviceClass of its devices.

Its name is short enough for its registration socket (``<registry>/<name>-reg.sock``) to
fit a unix socket path's 107 bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

DRIVER = "other.fakehw.dev"
BINARY = "dra-test-driver"  # the fakehw cluster build component that holds it


def command(binary: str | Path, kubeconfig: str | Path, node: str, *, cdi_dir: str | Path,
            registry_dir: str | Path, plugins_dir: str | Path) -> list[str]:
    """The kubelet plugin of ``node``: its sockets in the node's kubelet folders."""
    return [str(binary), f"--kubeconfig={kubeconfig}", f"--drivername={DRIVER}",
            "kubelet-plugin", f"--node-name={node}", f"--cdi-dir={cdi_dir}",
            f"--plugin-registration-path={registry_dir}", f"--datadir={plugins_dir}"]


def socket(registry_dir: str | Path) -> Path:
    """Its registration socket."""
    return Path(registry_dir) / f"{DRIVER}-reg.sock"


def device_class() -> str:
    """The DeviceClass selecting every device of it, as JSON."""
    return json.dumps({"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass",
                       "metadata": {"name": DRIVER}, "spec": {"selectors": [
                           {"cel": {"expression": f'device.driver == "{DRIVER}"'}}]}})
