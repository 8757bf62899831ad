"""What the suite knows about a driver, once its profile is parsed and checked.

The versioned YAML schema (v1alpha1.py) may change shape; these dataclasses are what the
rest of the suite reads, so a new schema version only needs a new parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from dra_conformance.features import Feature


class DeploymentMode(StrEnum):
    DEPLOYED = "deployed"  # somebody else runs the driver; the suite only looks
    MANIFESTS = "manifests"  # the suite applies (and later deletes) these manifests
    COMMAND = "command"  # the suite runs a command that deploys the driver


@dataclass(frozen=True)
class Deployment:
    mode: DeploymentMode = DeploymentMode.DEPLOYED
    manifests: tuple[Path, ...] = ()
    command: tuple[str, ...] = ()
    undeploy_command: tuple[str, ...] = ()
    restart_command: tuple[str, ...] = ()  # restarts the driver on the node under test
    # rolls the plugin of node "{node}" to a new instance, as a new version would be rolled
    # out (the old one serving until the new one is up); returns once the new one serves
    update_command: tuple[str, ...] = ()
    ready_timeout_seconds: float = 120.0


@dataclass(frozen=True)
class Sockets:
    """Where the kubelet would find the driver; for the socket tier."""

    registration: Path | None = None
    plugin: Path | None = None


@dataclass(frozen=True)
class Injection:
    """How to see inside a container that a device was injected."""

    env: tuple[str, ...] = ()  # variables that must be set
    device_paths: tuple[str, ...] = ()  # paths that must exist
    check_command: tuple[str, ...] = ()  # must exit 0 inside the container
    image: str | None = None  # image of the checking container (default: the suite's)
    # variables whose names match this regex name the injected devices, each value a
    # device's name as published: the container must see exactly the allocated ones
    device_env: str | None = None


@dataclass(frozen=True)
class ConfigProbe:
    """How opaque configuration shows: parameters sent, environment expected in the CDI edits.

    ``parameters`` goes into the claim's opaque config as is; ``class_parameters`` (if set) is
    the DeviceClass's, which the claim's must override.
    """

    parameters: dict[str, Any]
    expect_env: dict[str, str]
    class_parameters: dict[str, Any] | None = None
    class_expect_env: dict[str, str] | None = None


@dataclass(frozen=True)
class FpgaProgramming:
    """How to ask the driver to program an FPGA: the claim's opaque parameters, where the
    strings "{bitstream}" (an image file name in the node's firmware folder) and "{afu}" (the
    accelerator ID the image carries, 32 hex digits) stand for the image the suite makes."""

    parameters: dict[str, Any]

    def asking_for(self, bitstream: str, afu: str) -> dict[str, Any]:
        def put(value: Any) -> Any:
            if isinstance(value, str):
                return value.replace("{bitstream}", bitstream).replace("{afu}", afu)
            if isinstance(value, dict):
                return {key: put(item) for key, item in value.items()}
            return value
        return dict(put(self.parameters))


@dataclass(frozen=True)
class ClaimCredentials:
    """Where a container finds the credential its claim was given: in variables whose names
    match ``url_env`` (a regular expression), as an ``rtsp://user:password@host/path`` URL,
    for a claim of DeviceClass ``device_class``."""

    device_class: str
    url_env: str


@dataclass(frozen=True)
class NodeIdentity:
    """Who the driver's component on a node is to the API server, "{node}" standing for the
    node's name: the suite acts as it (impersonation) to see what it may write."""

    user: str
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def on(self, node: str) -> NodeIdentity:
        """This identity as the component on ``node`` has it."""
        def put(text: str) -> str:
            return text.replace("{node}", node)
        return NodeIdentity(put(self.user), tuple(map(put, self.groups)),
                            {key: tuple(map(put, values)) for key, values in self.extra.items()})


@dataclass(frozen=True)
class DriverProfile:
    driver: str
    version: str = "unknown"
    device_classes: tuple[str, ...] = ()
    features: frozenset[Feature] = frozenset()
    deployment: Deployment = field(default_factory=Deployment)
    sockets: Sockets = field(default_factory=Sockets)
    cdi_spec_dirs: tuple[Path, ...] = (Path("/etc/cdi"), Path("/var/run/cdi"))
    injection: Injection = field(default_factory=Injection)
    config: ConfigProbe | None = None
    fpga_programming: FpgaProgramming | None = None
    claim_credentials: ClaimCredentials | None = None
    simulated_devices: bool = False  # the devices exist in software only: no hardware checks
    nodes: tuple[str, ...] = ()  # nodes running the driver (default: every node with slices)
    node_identity: NodeIdentity | None = None
    source: str = "<built in>"

    def claims(self, feature: Feature) -> bool:
        return feature in self.features
