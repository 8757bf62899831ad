"""The commands a run starts and the files it writes, as pure functions of its settings.

Kept apart so each can be checked without a cluster: which ports ``fakehw cluster up`` gets,
that each node's driver reads its own tree and writes its own CDI directory, what the run's
driver profile adds to the example's.
"""

from __future__ import annotations

import importlib.metadata
import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from dra_conformance.testbed import companion

from .settings import DRIVER, SCRIPT, JobSettings, Node

RESTART_TIMEOUT = 60


def cluster_up(s: JobSettings, hardware_profiles: dict[int, str]) -> list[str]:
    """``fakehw cluster up``, each node with its profile (``--hardware-profile I=P``); without
    Services: the driver's pods use the host's network (pods.py)."""
    chosen = [f"--hardware-profile={index}={profile}"
              for index, profile in sorted(hardware_profiles.items())]
    return s.fakehw("cluster", "up", "--name", s.name, "--nodes", str(s.nodes), *chosen,
                    "--apiserver-port", str(s.apiserver_port), "--etcd-port", str(s.etcd_port),
                    "--kubelet-port", str(s.kubelet_port),
                    "--controller-manager-port", str(s.controller_manager_port),
                    "--scheduler-port", str(s.scheduler_port), "--pod-subnet", s.pod_subnet,
                    "--no-services", *(["--verbose"] if s.verbose else []))


def kubelet_plugin(s: JobSettings, node: Node, kubeconfig: Path,
                   cameras: Path | None) -> list[str]:
    """The node's driver: the node's tree as /sys and /dev, its kubelet and CDI directories.

    The instance ID (the sockets' name suffix) is the node's index: one host process per
    node, restarted by the supervisor under the same name."""
    command = [s.python, "-m", "dra_reference", "--log-level", log_level(s), "kubelet-plugin",
               "--driver-name", DRIVER, "--node-name", node.name,
               "--sysfs-root", str(node.hardware_root / "sys"),
               "--devfs-root", str(node.hardware_root / "dev"),
               "--plugins-dir", str(node.plugins_dir), "--registry-dir", str(node.registry_dir),
               "--cdi-dir", str(node.cdi_dir), "--state-dir", str(s.work / f"state-{node.index}"),
               "--kubeconfig", str(kubeconfig), "--instance-id", str(node.index)]
    return command + (["--cameras-config", str(cameras)] if cameras else [])


PLUGIN_ACCOUNT = "system:serviceaccount:dra-reference:kubelet-plugin"  # drivers/deploy/rbac.yaml
CONTROLLER_ACCOUNT = "system:serviceaccount:dra-reference:camera-controller"
NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name"


def acting_as(admin_kubeconfig: str, user: str, node: str | None = None) -> str:
    """The admin kubeconfig, made to act as ``user`` (and, for a node's plugin, with the
    node's name that a pod's service account token carries): a driver run as a host process
    then has exactly the rights drivers/deploy gives it, admission policies included."""
    document = yaml.safe_load(admin_kubeconfig)
    context = next(c["context"] for c in document["contexts"]
                   if c["name"] == document["current-context"])
    for entry in document["users"]:
        if entry["name"] == context["user"]:
            entry["user"]["as"] = user
            if node is not None:
                entry["user"]["as-user-extra"] = {NODE_NAME_EXTRA: [node]}
    return str(yaml.safe_dump(document, sort_keys=False))


# upstream's e2e test driver, beside ours, under a name short enough for its registration
# socket (<registry>/<name>-reg.sock) to fit a unix socket path's 107 bytes
COMPANION_DRIVER = companion.DRIVER
UNIX_PATH_MAX = 107


def companion_driver(binary: str, node: Node, kubeconfig: Path) -> list[str]:
    """Upstream's DRA test driver as a second kubelet plugin of ``node`` (several drivers on
    one node), writing its CDI specs where the node's runtime reads them."""
    return companion.command(binary, kubeconfig, node.name, cdi_dir=node.cdi_dir,
                             registry_dir=node.registry_dir, plugins_dir=node.plugins_dir)


def companion_socket(node: Node) -> Path:
    return companion.socket(node.registry_dir)


def companion_class() -> str:
    """The DeviceClass of the companion driver's devices."""
    return companion.device_class()


def camera_controller(s: JobSettings, kubeconfig: Path, cameras: Path) -> list[str]:
    return [s.python, "-m", "dra_reference", "--log-level", log_level(s), "controller",
            "--driver-name", DRIVER, "--cameras-config", str(cameras),
            "--kubeconfig", str(kubeconfig), "--probe-seconds", "5"]


def log_level(s: JobSettings) -> str:
    return "debug" if s.verbose else "info"


def restart_driver(s: JobSettings, registry: Path, node: Node) -> list[str]:
    """The driver profile's restartCommand: this script's ``restart-driver``."""
    return [s.python, str(SCRIPT), "restart-driver", "--registry", str(registry),
            "--node", node.name]


def restart_pod(s: JobSettings, kubectl: str, kubeconfig: Path, node: str,
                rolling: bool = False) -> list[str]:
    """The driver profile's restartCommand when the driver runs as pods: this script's
    ``restart-pod`` (delete the node's plugin pod, wait for its successor to serve); with
    ``rolling``, its updateCommand (a rolling update of the node's DaemonSet; the suite
    names the node as "{node}")."""
    return [s.python, str(SCRIPT), "restart-pod", "--kubectl", kubectl, "--kubeconfig",
            str(kubeconfig), "--node", node, "--logs", str(s.work),
            *(["--rolling"] if rolling else [])]


def driver_version() -> str:
    """The version the driver reports: its distribution's."""
    return importlib.metadata.version("fakehw")


def restart_kubelet(s: JobSettings) -> str:
    """certify's --kubelet-restart-command: ``fakehw cluster restart-kubelet`` of this cluster."""
    return shlex.join(s.fakehw("cluster", "restart-kubelet", "--name", s.name)) + " {node}"


def certify(s: JobSettings, profile: Path, kubeconfig: Path, node: Node) -> list[str]:
    """certify --tier all; the socket tier plays the kubelet of ``node``."""
    command = [s.python, "-m", "dra_conformance", "certify", "--driver-profile", str(profile),
               "--kubeconfig", str(kubeconfig), "--registration-socket", str(node.registry_dir),
               "--node", node.name, "--fakehw-root", str(node.hardware_root),
               "--tier", s.tier, "--hypothesis-profile", s.hypothesis_profile,
               "--report-dir", str(s.results)]
    if s.seed is not None:
        command += ["--seed", str(s.seed)]
    command += ["--kubelet-restart-command", restart_kubelet(s)]
    if s.companion:
        command += ["--companion-class", COMPANION_DRIVER]
    return command + (["--", *s.pytest_args] if s.pytest_args else [])


def cameras_file(cameras: Sequence[dict[str, Any]], control_socket: Path) -> str:
    """The driver's cameras file for the cameras a fakehw tree runs (its cameras.json)."""
    entries = [{
        "name": c["name"], "url": f"rtsp://{c['host']}:{c['port']}{c['path']}",
        "control": {"endpoint": f"unix://{control_socket}", "camera": c["name"]},
        "vendor": "fakehw", "model": "ipc-640", "resolution": f"{c['width']}x{c['height']}",
        "codec": c.get("codec", "h264"), "fps": c["fps"]} for c in cameras]
    return str(yaml.safe_dump({"apiVersion": "cameras.fakehw.dev/v1alpha1",
                               "kind": "CameraList", "cameras": entries}, sort_keys=False))


def with_camera_port(profile_text: str, port: int) -> str:
    """The hardware profile with its cameras listening on ``port``, ``port + 1``, ..."""
    document = yaml.safe_load(profile_text)
    for offset, camera in enumerate(document.get("spec", {}).get("cameras") or ()):
        host = str(camera.get("listen", "127.0.0.1:8554")).rpartition(":")[0] or "127.0.0.1"
        camera["listen"] = f"{host}:{port + offset}"
    return str(yaml.safe_dump(document, sort_keys=False))


def run_profile(example: dict[str, Any], nodes: Sequence[Node], restart: Sequence[str],
                update: Sequence[str] = ()) -> dict[str, Any]:
    """The driver profile of this run: the example's, plus the nodes, the CDI directories
    the first node's runtime reads, and how to restart that node's driver (the socket tier
    plays its kubelet)."""
    profile: dict[str, Any] = json.loads(json.dumps(example))  # a deep copy
    spec = profile.setdefault("spec", {})
    spec["nodes"] = [node.name for node in nodes]
    spec["cdi"] = {"specDirs": ["/etc/cdi", "/var/run/cdi", str(nodes[0].cdi_dir)]}
    deployment = spec.setdefault("deployment", {"mode": "deployed"})
    deployment["restartCommand"] = list(restart)
    if update:
        deployment["updateCommand"] = list(update)
    deployment.setdefault("readyTimeoutSeconds", RESTART_TIMEOUT)
    return profile


def tier_seconds(report: dict[str, Any]) -> dict[str, float]:
    """Test time per tier (socket, cluster) from certify's report.json."""
    tiers = {r["id"]: r["tier"] for r in report.get("requirements", ())}
    seconds: dict[str, float] = {}
    for test in report.get("tests", ()):
        tier = next((tiers[r] for r in test["requirements"] if r in tiers), "other")
        seconds[tier] = seconds.get(tier, 0.0) + float(test["duration"])
    return seconds
