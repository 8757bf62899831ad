"""From the opaque configs that apply to a device to that kind's one effective configuration.

A claim may carry configs for several kinds (a config without ``requests`` applies to every
request, GPUs and FPGAs alike), so a config whose group belongs to another kind is skipped for
this device; one whose group, version or kind this driver does not know is an error, since it
was surely meant for us and would otherwise be ignored. Each applicable config is validated
on its own, so an error names the config it is in; the effective configuration is then their
field-by-field merge, class first and claim last, so the claim's settings win.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from dra_reference.errors import InvalidRequestError
from dra_reference.fields import Reader
from dra_reference.params.types import CameraConfig, CxlConfig, FpgaConfig, GpuConfig
from dra_reference.plugin.model import OpaqueConfig

VERSION = "v1alpha1"
GROUPS = {"gpu": "gpu.fakehw.dev", "fpga": "fpga.fakehw.dev", "camera": "camera.fakehw.dev",
          "cxl": "cxl.fakehw.dev"}
TYPES: dict[str, tuple[str, Callable[[Reader], Any]]] = {
    "gpu": ("GpuConfig", GpuConfig.parse), "fpga": ("FpgaConfig", FpgaConfig.parse),
    "camera": ("CameraConfig", CameraConfig.parse), "cxl": ("CxlConfig", CxlConfig.parse)}
DEFAULTS: dict[str, Any] = {"gpu": GpuConfig(), "fpga": FpgaConfig(),
                            "camera": CameraConfig(), "cxl": CxlConfig()}
T = TypeVar("T")


class InvalidParametersError(InvalidRequestError):
    """Opaque parameters this driver cannot accept; the message names the config and field."""


def config_for(kind: str, configs: Sequence[OpaqueConfig]) -> Any:
    """The effective configuration of ``kind`` (a ``GpuConfig`` for ``gpu``...)."""
    mine = [config for config in configs if _kind_of(config) == kind]
    merged: dict[str, Any] = {}
    for config in mine:
        parse(kind, config.parameters, _describe(config))  # each valid on its own
        merged.update(config.parameters)
    return parse(kind, merged, "merged configuration") if mine else DEFAULTS[kind]


def parse(kind: str, parameters: Mapping[str, Any], where: str) -> Any:
    type_name, parser = TYPES[kind]
    reader = Reader(parameters, f"{where}: {type_name}", InvalidParametersError)
    reader.string("apiVersion")
    reader.string("kind")
    value = parser(reader)
    reader.done()
    return value


def _kind_of(config: OpaqueConfig) -> str:
    """The device kind a config is for, or an error if this driver cannot know."""
    where = _describe(config)
    parameters = config.parameters
    if not isinstance(parameters, Mapping):
        raise InvalidParametersError(f"{where}: parameters must be an object")
    api_version, kind = parameters.get("apiVersion"), parameters.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise InvalidParametersError(
            f"{where}: apiVersion and kind are required, e.g. apiVersion: "
            f"{GROUPS['gpu']}/{VERSION}, kind: GpuConfig")
    group, _, version = api_version.rpartition("/")
    owner = next((name for name, known in GROUPS.items() if known == group), None)
    if owner is None:
        known = ", ".join(f"{g}/{VERSION}" for g in GROUPS.values())
        raise InvalidParametersError(f"{where}: apiVersion {api_version!r} is not served by "
                                     f"this driver; use one of {known}")
    if version != VERSION:
        raise InvalidParametersError(f"{where}: version {version!r} of {group} is not "
                                     f"served; use {group}/{VERSION}")
    if kind != TYPES[owner][0]:
        raise InvalidParametersError(f"{where}: {group}/{VERSION} has no kind {kind!r}; "
                                     f"use {TYPES[owner][0]}")
    return owner


def _describe(config: OpaqueConfig) -> str:
    requests = ", ".join(config.requests) or "all requests"
    return f"{config.source} config for {requests}"
