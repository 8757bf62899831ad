"""From the kubelet's three-field claim reference to the devices this driver must prepare.

The kubelet sends only namespace, name and UID. The claim itself comes from the API server,
and three checks keep the driver from preparing the wrong thing: the claim must be allocated,
its UID must be the one the kubelet asked about (same name and a new UID means the claim was
deleted and re-created, and the old preparation must not be served), and only allocation
results for this driver count (a claim may hold devices of several drivers).

The claim is used as the API server's JSON: only a handful of its fields are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import urllib3

from dra_reference.errors import (
    ClaimFetchError,
    ClaimNotAllocatedError,
    ClaimNotFoundError,
    ClaimReplacedError,
)
from dra_reference.kube import ApiError, KubeAPI, path
from dra_reference.plugin.model import JSON, AllocatedDevice, ClaimJSON, ClaimRef, OpaqueConfig


class KubeClaimSource:
    """Reads claims from the API server."""

    def __init__(self, api: KubeAPI, timeout_seconds: float = 10.0) -> None:
        self._api = api
        self._timeout = timeout_seconds  # well inside the kubelet's 45 s budget

    def get(self, namespace: str, name: str) -> ClaimJSON:
        where = path("resource.k8s.io/v1", "resourceclaims", name, namespace)
        try:
            return self._api.get(where, timeout=self._timeout)
        except ApiError as exc:
            if exc.status == 404:
                raise ClaimNotFoundError(
                    f"ResourceClaim {namespace}/{name} does not exist") from exc
            raise ClaimFetchError(f"reading ResourceClaim {namespace}/{name}: {exc}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:  # timeouts, refused, TLS
            raise ClaimFetchError(
                f"reading ResourceClaim {namespace}/{name}: {exc}") from exc


def allocated_devices(claim: ClaimJSON, ref: ClaimRef,
                      driver: str) -> tuple[AllocatedDevice, ...]:
    """This driver's allocation results, checked against the kubelet's reference."""
    uid = (claim.get("metadata") or {}).get("uid")
    if uid != ref.uid:
        raise ClaimReplacedError(f"claim {ref.namespace}/{ref.name} has UID {uid} now, not "
                                 f"{ref.uid}: it was replaced; refusing to prepare it")
    allocation = (claim.get("status") or {}).get("allocation") or {}
    devices = allocation.get("devices")
    if devices is None:
        raise ClaimNotAllocatedError(f"claim {ref} is not allocated")
    configs = _driver_configs(devices.get("config") or [], driver)
    return tuple(_allocated(result, configs)
                 for result in devices.get("results") or [] if result.get("driver") == driver)


def _driver_configs(raw: Sequence[Mapping[str, Any]], driver: str) -> list[OpaqueConfig]:
    """This driver's opaque configs, class ones first so that claim ones override them."""
    configs = [OpaqueConfig(item["source"], tuple(item.get("requests") or ()),
                            item["opaque"].get("parameters"))
               for item in raw
               if item.get("opaque") is not None and item["opaque"].get("driver") == driver]
    return sorted(configs, key=lambda config: config.source != "FromClass")


def _allocated(result: Mapping[str, Any], configs: list[OpaqueConfig]) -> AllocatedDevice:
    request, _, subrequest = result["request"].partition("/")
    applicable = tuple(config for config in configs
                       if not config.requests
                       or result["request"] in config.requests or request in config.requests)
    return AllocatedDevice(request=request, pool=result["pool"], device=result["device"],
                           subrequest=subrequest, share_id=result.get("shareID"),
                           admin_access=bool(result.get("adminAccess")), configs=applicable,
                           parameters=merge_parameters(config.parameters for config in applicable),
                           consumed_capacity=dict(result.get("consumedCapacity") or {}))


def merge_parameters(ordered: Iterable[JSON]) -> Mapping[str, JSON]:
    """Merge JSON objects key by key, later ones winning (the claim's over the class's).

    The API server accepts only JSON objects as opaque parameters (``validateRawExtension``),
    so anything else can only come from a test double and is skipped.
    """
    merged: dict[str, JSON] = {}
    for parameters in ordered:
        if isinstance(parameters, Mapping):
            merged.update(parameters)
    return merged
