"""``python -m dra_reference``: the kubelet plugin (one per node) and the camera controller.

Every flag is also an environment variable, ``DRA_REFERENCE_`` plus the flag's name in upper
case (``--node-name`` is ``DRA_REFERENCE_NODE_NAME``), the same for both commands, so a
DaemonSet sets them from the downward API. Settings are built once here; a wrong one stops
the program with the reason and exit status 2.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dra_reference.cameracontroller import CONTROLLER_LABEL, CameraController
from dra_reference.errors import ConfigurationError
from dra_reference.kube import api_client
from dra_reference.kubeletplugin import NodeDriver, NodeSettings, stop_on_signals
from dra_reference.publisher import SlicePublisher

PREFIX = "DRA_REFERENCE_"
DEFAULT_DRIVER = "dra.fakehw.dev"
F = TypeVar("F", bound=Callable[..., Any])


def option(*names: str, **kwargs: Any) -> Callable[[F], F]:
    """A click option whose environment variable is ``DRA_REFERENCE_<NAME>``."""
    flag = next(name for name in names if name.startswith("--"))
    envvar = PREFIX + flag.removeprefix("--").replace("-", "_").upper()
    return click.option(*names, envvar=envvar, show_envvar=True, show_default=True, **kwargs)


def driver_version() -> str:
    try:
        return importlib.metadata.version("fakehw")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def directory(**kwargs: Any) -> click.Path:
    return click.Path(path_type=Path, file_okay=False, **kwargs)


@click.group()
@option("--log-level", default="info",
        type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False))
def main(log_level: str) -> None:
    """Reference DRA driver for fakehw's GPUs, FPGAs, CXL memory and IP cameras."""
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command("kubelet-plugin")
@option("--driver-name", default=DEFAULT_DRIVER, help="DRA driver name (a DNS subdomain)")
@option("--node-name", required=True, help="this node's name, as the kubelet registered it")
@option("--sysfs-root", default=Path("/sys"), type=directory(), help="sysfs tree to scan")
@option("--devfs-root", default=Path("/dev"), type=directory(), help="device nodes")
@option("--procfs-root", default=None, type=directory(),
        help="procfs (NVIDIA's GPU entries) [default: the proc folder beside the sysfs root]")
@option("--kinds", default="gpu,fpga,cxl", help="device kinds to serve, comma-separated")
@option("--plugins-dir", default=Path("/var/lib/kubelet/plugins"), type=directory())
@option("--registry-dir", default=Path("/var/lib/kubelet/plugins_registry"),
        type=directory())
@option("--cdi-dir", default=Path("/var/run/cdi"), type=directory())
@option("--state-dir", default=None, type=directory(),
        help="checkpoint, undo journal, CXL ledger [default: PLUGINS_DIR/DRIVER_NAME]")
@option("--kubeconfig", default=None, type=click.Path(path_type=Path, dir_okay=False),
        help="[default: in-cluster service account, else ~/.kube/config]")
@option("--cameras-config", default=None,
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        help="cameras file, to prepare camera claims on this node")
@option("--instance-id", default="",
        help="socket name suffix; the pod UID in a DaemonSet (its digest if too long)")
@option("--resync-seconds", default=60.0, type=click.FloatRange(min=1),
        help="rescan and republish this often even without inotify events")
def kubelet_plugin(**values: Any) -> None:
    """Serve the kubelet on this node and publish the node's ResourceSlices."""
    kinds = tuple(kind.strip() for kind in values.pop("kinds").split(",") if kind.strip())
    settings = NodeSettings(driver_version=driver_version(), kinds=kinds, **values)
    stop = threading.Event()
    stop_on_signals(stop)  # before the API server is asked anything: starting takes a while
    try:
        driver = NodeDriver(settings)
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    driver.run(stop)


@main.command()
@option("--driver-name", default=DEFAULT_DRIVER, help="DRA driver name (a DNS subdomain)")
@option("--cameras-config", required=True,
        type=click.Path(path_type=Path, dir_okay=False, exists=True), help="cameras file")
@option("--kubeconfig", default=None, type=click.Path(path_type=Path, dir_okay=False),
        help="[default: in-cluster service account, else ~/.kube/config]")
@option("--probe-seconds", default=10.0, type=click.FloatRange(min=1),
        help="probe cameras and republish this often")
def controller(driver_name: str, cameras_config: Path, kubeconfig: Path | None,
               probe_seconds: float) -> None:
    """Publish the cameras as pools for the whole cluster (run one per cluster)."""
    try:
        publisher = SlicePublisher(api_client(kubeconfig), driver_name, label=CONTROLLER_LABEL)
        running = CameraController(cameras_config, publisher, driver_name, driver_version(),
                                   interval=probe_seconds)
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    stop = threading.Event()
    stop_on_signals(stop)
    running.run(stop)
