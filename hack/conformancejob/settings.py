"""One run's choices, fixed when the command starts, and the nodes its cluster reports.

Defaults are the standard ports of a local cluster; a run beside another cluster on this host
(the test suites' ``fakehw`` cluster) gives other ports, another pod subnet and, for the edge
node's camera, another camera port.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DRIVER = "dra.fakehw.dev"  # the reference driver's default --driver-name
PROFILE = REPO / "conformance/examples/reference-driver.yaml"
DEVICE_CLASSES = REPO / "drivers/deploy/deviceclasses.yaml"
ACCESS = (REPO / "drivers/deploy/rbac.yaml", REPO / "drivers/deploy/admission.yaml")
RESULTS = REPO / "results/conformance"
SCRIPT = REPO / "hack/conformance.py"
TIERS = ("all", "socket", "cluster")
DEPLOYS = ("pods", "processes")  # the driver as DaemonSet pods, or as host processes
HYPOTHESIS_PROFILES = ("ci", "thorough", "dev")


class JobSettingsError(ValueError):
    """A choice that cannot work; the message names the option."""


@dataclass(frozen=True)
class JobSettings:
    name: str = "conformance"
    nodes: int = 2
    hardware_profile: str = "edge-node"
    node_profiles: tuple[str, ...] = ()  # "I=PROFILE": node I's own; beyond --nodes: ignored
    companion: bool = True  # upstream's DRA test driver beside ours on node 0
    driver_deploy: str = "pods"
    apiserver_port: int = 6443
    etcd_port: int = 2379
    kubelet_port: int = 10250
    controller_manager_port: int = 10257
    scheduler_port: int = 10259
    pod_subnet: str = "10.244.0.0/16"
    camera_port: int | None = None  # None: the hardware profile's own
    driver_profile: Path = PROFILE
    device_classes: Path = DEVICE_CLASSES
    results: Path = RESULTS
    tier: str = "all"
    seed: int | None = None
    hypothesis_profile: str = "ci"
    keep: bool = False
    verbose: bool = False
    python: str = sys.executable
    pytest_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.nodes <= 8:
            raise JobSettingsError(f"--nodes {self.nodes}: a local cluster has 1 to 8 nodes")
        ports = {"--apiserver-port": self.apiserver_port, "--etcd-port": self.etcd_port,
                 "--kubelet-port": self.kubelet_port, "--camera-port": self.camera_port,
                 "--controller-manager-port": self.controller_manager_port,
                 "--scheduler-port": self.scheduler_port}
        for flag, port in ports.items():
            if port is not None and not 1 <= port <= 65535:
                raise JobSettingsError(f"{flag} {port} is not a TCP port (1-65535)")
        for entry in self.node_profiles:
            index, sep, profile = entry.partition("=")
            if not sep or not index.isdigit() or not profile:
                raise JobSettingsError(f"--node-profile {entry}: give INDEX=PROFILE, e.g. "
                                       "1=gpu-sriov-8")
        if self.driver_deploy not in DEPLOYS:
            raise JobSettingsError(f"--driver-deploy {self.driver_deploy}: use one of "
                                   f"{', '.join(DEPLOYS)}")
        if self.tier not in TIERS:
            raise JobSettingsError(f"--tier {self.tier}: use one of {', '.join(TIERS)}")
        if self.hypothesis_profile not in HYPOTHESIS_PROFILES:
            raise JobSettingsError(f"--hypothesis-profile {self.hypothesis_profile}: use one "
                                   f"of {', '.join(HYPOTHESIS_PROFILES)}")

    def profiles_by_node(self) -> dict[int, str]:
        """Each node's hardware profile: --hardware-profile, unless --node-profile says."""
        chosen = dict.fromkeys(range(self.nodes), self.hardware_profile)
        for entry in self.node_profiles:
            index, _, profile = entry.partition("=")
            if int(index) < self.nodes:
                chosen[int(index)] = profile
        return chosen

    @property
    def work(self) -> Path:
        """The drivers' logs, state directories and cameras file."""
        return self.results / "drivers"

    def fakehw(self, *args: str) -> list[str]:
        """A fakehw command, run by this Python (the venv's, as the Makefile starts it)."""
        return [self.python, "-m", "fakehw.cli", *args]


@dataclass(frozen=True)
class Node:
    """A node as ``fakehw cluster status --json`` describes it."""

    name: str
    index: int
    kubelet_dir: Path
    hardware_root: Path
    cdi_dir: Path

    @property
    def registry_dir(self) -> Path:
        return self.kubelet_dir / "plugins_registry"

    @property
    def plugins_dir(self) -> Path:
        return self.kubelet_dir / "plugins"


def registry_of(status: dict[str, Any]) -> Path:
    """Where the drivers running on this cluster are recorded: beside its kubeconfig, in the
    cluster's own directory, so any later run on the cluster finds them (and ``down``
    removes the record with the cluster)."""
    return Path(status["kubeconfig"]).parent / "conformance-drivers.json"


def nodes_from_status(status: dict[str, Any]) -> list[Node]:
    """The nodes of a running local cluster; each needs a fakehw tree and a CDI directory."""
    nodes = []
    for index, raw in enumerate(status.get("nodes") or ()):
        if not raw.get("hardware_root") or not raw.get("cdi_dir"):
            name = status.get("name")
            raise JobSettingsError(
                f"node {raw.get('name')} of cluster {name!r} has no fakehw tree or no CDI "
                "directory of its own: it was made without --hardware-profile or by an older "
                f"fakehw; run `fakehw cluster down --name {name}` and try again")
        nodes.append(Node(raw["name"], index, Path(raw["kubelet_dir"]),
                          Path(raw["hardware_root"]), Path(raw["cdi_dir"])))
    if not nodes:
        raise JobSettingsError(f"cluster {status.get('name')!r} reports no nodes")
    return nodes
