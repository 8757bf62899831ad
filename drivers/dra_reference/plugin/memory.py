"""ResourceClaims held in memory, as the API server's JSON.

For the socket tests and the benchmark, which have no API server: the claims have the fields
``KubeClaimSource`` returns, named as the API names them, so the code under test reads them
the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dra_reference.errors import ClaimNotFoundError
from dra_reference.plugin.model import ClaimJSON


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
                   configs: Sequence[Config] = ()) -> ClaimJSON:
    """A claim as the API server returns it; ``results=None`` leaves it unallocated."""
    status: ClaimJSON = {}
    if results is not None:
        status["allocation"] = {"devices": {
            "results": [_result(result) for result in results],
            "config": [{"source": config.source,
                        **({"requests": list(config.requests)} if config.requests else {}),
                        "opaque": {"driver": config.driver, "parameters": config.parameters}}
                       for config in configs]}}
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
            "metadata": {"namespace": namespace, "name": name, "uid": uid},
            "spec": {"devices": {"requests": []}}, "status": status}


def _result(result: Result) -> ClaimJSON:
    fields = {"request": result.request, "driver": result.driver, "pool": result.pool,
              "device": result.device, "shareID": result.share_id,
              "consumedCapacity": result.consumed_capacity}
    return {key: value for key, value in fields.items() if value is not None}


class MemoryClaimSource:
    """A ClaimSource over a dict; ``put`` replaces a claim as re-creating it would."""

    def __init__(self) -> None:
        self._claims: dict[tuple[str, str], ClaimJSON] = {}
        self._lock = threading.Lock()
        self.reads = 0

    def put(self, claim: ClaimJSON) -> None:
        with self._lock:
            self._claims[(claim["metadata"]["namespace"], claim["metadata"]["name"])] = claim

    def delete(self, namespace: str, name: str) -> None:
        with self._lock:
            self._claims.pop((namespace, name), None)

    def get(self, namespace: str, name: str) -> ClaimJSON:
        with self._lock:
            self.reads += 1
            try:
                return self._claims[(namespace, name)]
            except KeyError:
                raise ClaimNotFoundError(
                    f"ResourceClaim {namespace}/{name} does not exist") from None
