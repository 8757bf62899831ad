"""From the kubelet's three-field claim reference to the devices this driver must prepare.

The kubelet sends only namespace, name and UID. The claim itself comes from the API server,
and three checks keep the driver from preparing the wrong thing: the claim must be allocated,
its UID must be the one the kubelet asked about (same name and a new UID means the claim was
deleted and re-created, and the old preparation must not be served), and only allocation
results for this driver count (a claim may hold devices of several drivers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import urllib3
from kubernetes.client.exceptions import ApiException

from dra_reference.errors import (
    ClaimFetchError,
    ClaimNotAllocatedError,
    ClaimNotFoundError,
    ClaimReplacedError,
)
from dra_reference.plugin.model import JSON, AllocatedDevice, ClaimRef, OpaqueConfig

if TYPE_CHECKING:
    from kubernetes.client import ResourceV1Api, ResourceV1ResourceClaim


class KubeClaimSource:
    """Reads claims with ``ResourceV1Api.read_namespaced_resource_claim``."""

    def __init__(self, api: ResourceV1Api, timeout_seconds: float = 10.0) -> None:
        self._api = api
        self._timeout = timeout_seconds  # well inside the kubelet's 45 s budget

    def get(self, namespace: str, name: str) -> ResourceV1ResourceClaim:
        try:
            return self._api.read_namespaced_resource_claim(
                name=name, namespace=namespace, _request_timeout=self._timeout)
        except ApiException as exc:
            if exc.status == 404:
                raise ClaimNotFoundError(
                    f"ResourceClaim {namespace}/{name} does not exist") from exc
            raise ClaimFetchError(f"reading ResourceClaim {namespace}/{name}: HTTP "
                                  f"{exc.status} {exc.reason}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:  # retries exhausted, timeouts
            raise ClaimFetchError(
                f"reading ResourceClaim {namespace}/{name}: {exc}") from exc


def allocated_devices(claim: ResourceV1ResourceClaim, ref: ClaimRef,
                      driver: str) -> tuple[AllocatedDevice, ...]:
    """This driver's allocation results, checked against the kubelet's reference."""
    uid = claim.metadata.uid if claim.metadata else None
    if uid != ref.uid:
        raise ClaimReplacedError(f"claim {ref.namespace}/{ref.name} has UID {uid} now, not "
                                 f"{ref.uid}: it was replaced; refusing to prepare it")
    allocation = claim.status.allocation if claim.status else None
    if allocation is None or allocation.devices is None:
        raise ClaimNotAllocatedError(f"claim {ref} is not allocated")
    configs = _driver_configs(allocation.devices.config or [], driver)
    return tuple(_allocated(result, configs)
                 for result in allocation.devices.results or [] if result.driver == driver)


def _driver_configs(raw: Sequence[Any], driver: str) -> list[OpaqueConfig]:
    """This driver's opaque configs, class ones first so that claim ones override them."""
    configs = [OpaqueConfig(item.source, tuple(item.requests or ()), item.opaque.parameters)
               for item in raw if item.opaque is not None and item.opaque.driver == driver]
    return sorted(configs, key=lambda config: config.source != "FromClass")


def _allocated(result: Any, configs: list[OpaqueConfig]) -> AllocatedDevice:
    request, _, subrequest = result.request.partition("/")
    applicable = tuple(config for config in configs
                       if not config.requests
                       or result.request in config.requests or request in config.requests)
    return AllocatedDevice(request=request, pool=result.pool, device=result.device,
                           subrequest=subrequest, share_id=result.share_id,
                           admin_access=bool(result.admin_access), configs=applicable,
                           parameters=merge_parameters(config.parameters for config in applicable),
                           consumed_capacity=dict(result.consumed_capacity or {}))


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
