"""ResourceClaims held in memory, as real ``kubernetes.client`` model objects.

For the socket tests and the benchmark, which have no API server: the claims have the same
types and fields ``KubeClaimSource`` returns, so the code under test reads them the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubernetes import client

from dra_reference.errors import ClaimNotFoundError

if TYPE_CHECKING:
    from kubernetes.client import ResourceV1ResourceClaim


@dataclass(frozen=True)
class Result:
    """One allocation result: ``request`` may name a subrequest (``main/sub``)."""

    request: str
    driver: str
    pool: str
    device: str
    share_id: str | None = None
    consumed_capacity: dict[str, str] | None = None


@dataclass(frozen=True)
class Config:
    source: str  # FromClass | FromClaim
    driver: str
    parameters: dict[str, Any]
    requests: tuple[str, ...] = ()


def resource_claim(namespace: str, name: str, uid: str, results: Sequence[Result] | None,
                   configs: Sequence[Config] = ()) -> ResourceV1ResourceClaim:
    """A claim as the API server returns it; ``results=None`` leaves it unallocated."""
    allocation = None
    if results is not None:
        allocation = client.V1AllocationResult(devices=client.V1DeviceAllocationResult(
            results=[client.V1DeviceRequestAllocationResult(
                request=r.request, driver=r.driver, pool=r.pool, device=r.device,
                share_id=r.share_id, consumed_capacity=r.consumed_capacity) for r in results],
            config=[client.V1DeviceAllocationConfiguration(
                source=c.source, requests=list(c.requests) or None,
                opaque=client.V1OpaqueDeviceConfiguration(driver=c.driver,
                                                          parameters=c.parameters))
                for c in configs]))
    return client.ResourceV1ResourceClaim(
        api_version="resource.k8s.io/v1", kind="ResourceClaim",
        metadata=client.V1ObjectMeta(namespace=namespace, name=name, uid=uid),
        spec=client.V1ResourceClaimSpec(devices=client.V1DeviceClaim(requests=[])),
        status=client.V1ResourceClaimStatus(allocation=allocation))


class MemoryClaimSource:
    """A ClaimSource over a dict; ``put`` replaces a claim as re-creating it would."""

    def __init__(self) -> None:
        self._claims: dict[tuple[str, str], ResourceV1ResourceClaim] = {}
        self._lock = threading.Lock()
        self.reads = 0

    def put(self, claim: ResourceV1ResourceClaim) -> None:
        assert claim.metadata is not None  # noqa: S101 (a programming error in the caller)
        with self._lock:
            self._claims[(str(claim.metadata.namespace), str(claim.metadata.name))] = claim

    def delete(self, namespace: str, name: str) -> None:
        with self._lock:
            self._claims.pop((namespace, name), None)

    def get(self, namespace: str, name: str) -> ResourceV1ResourceClaim:
        with self._lock:
            self.reads += 1
            try:
                return self._claims[(namespace, name)]
            except KeyError:
                raise ClaimNotFoundError(
                    f"ResourceClaim {namespace}/{name} does not exist") from None
