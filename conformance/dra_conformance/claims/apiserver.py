"""Claims in a real API server, allocated by writing ``status.allocation`` directly.

No scheduler takes part: the socket tier wants to choose the devices itself. The API server
accepts an allocation written through the ``status`` subresource by a client allowed to
(the kubelet's e2e_node DRA tests do the same); the results must name requests that the
claim's spec has, so the spec is built from the results (a ``main/sub`` result gets a
firstAvailable request ``main`` with a subrequest ``sub``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dra_conformance.claims.model import ClaimRef, ClaimSpec
from dra_conformance.errors import ClaimStoreError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

NAMESPACE_LABEL = "conformance.fakehw.dev/suite"


class ApiServerClaimStore:
    """Creates claims in a namespace of its own, deleted again by ``close``."""

    def __init__(self, api_client: ApiClient, *, device_class: str, node: str | None,
                 namespace: str | None = None) -> None:
        from kubernetes import client  # noqa: PLC0415 (heavy; only when a cluster is used)

        self._core = client.CoreV1Api(api_client)
        self._resource = client.ResourceV1Api(api_client)
        self._serialize: Callable[[Any], dict[str, Any]] = api_client.sanitize_for_serialization
        self._device_class = device_class
        self._node = node
        self.namespace = namespace or f"dra-conformance-{secrets.token_hex(3)}"
        self._namespace_ready = False

    def create(self, spec: ClaimSpec) -> ClaimRef:
        self._ensure_namespace()
        body = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
                "metadata": {"name": spec.name, "namespace": self.namespace},
                "spec": {"devices": self._devices(spec)}}
        created = self._call(f"creating ResourceClaim {spec.name}",
                             self._resource.create_namespaced_resource_claim,
                             self.namespace, body)
        ref = ClaimRef(self.namespace, spec.name, str(created.metadata.uid))
        if spec.results is not None:
            self._allocate(ref, spec)
        return ref

    def replace(self, ref: ClaimRef, spec: ClaimSpec) -> ClaimRef:
        self.delete(ref)
        return self.create(spec)

    def delete(self, ref: ClaimRef) -> None:
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        try:
            self._resource.delete_namespaced_resource_claim(
                ref.name, ref.namespace, grace_period_seconds=0)
        except ApiException as exc:
            if exc.status != 404:
                raise ClaimStoreError(f"deleting ResourceClaim {ref}: {exc.reason}") from exc

    def close(self) -> None:
        if self._namespace_ready:
            self._call(f"deleting namespace {self.namespace}",
                       self._core.delete_namespace, self.namespace)
            self._namespace_ready = False

    def _ensure_namespace(self) -> None:
        if self._namespace_ready:
            return
        body = {"metadata": {"name": self.namespace, "labels": {NAMESPACE_LABEL: "socket"}}}
        self._call(f"creating namespace {self.namespace}", self._core.create_namespace, body)
        self._namespace_ready = True

    def _devices(self, spec: ClaimSpec) -> dict[str, Any]:
        subrequests: dict[str, list[str]] = {}
        for result in spec.results or ():
            main, _, sub = result.request.partition("/")
            subrequests.setdefault(main, [])
            if sub and sub not in subrequests[main]:
                subrequests[main].append(sub)
        requests = []
        for name in spec.request_names:
            subs = subrequests.get(name, [])
            exactly = {"deviceClassName": self._device_class}
            requests.append({"name": name, "firstAvailable": [
                {"name": sub, **exactly} for sub in subs]} if subs else
                {"name": name, "exactly": exactly})
        config = [{"requests": list(c.requests) or None,
                   "opaque": {"driver": c.driver, "parameters": c.parameters}}
                  for c in spec.configs if c.source == "FromClaim"]
        return {"requests": requests, "config": config}

    def _allocate(self, ref: ClaimRef, spec: ClaimSpec) -> None:
        claim = self._resource.read_namespaced_resource_claim(ref.name, ref.namespace)
        body = self._serialize(claim)
        allocation: dict[str, Any] = {"devices": {
            "results": [_result(r) for r in spec.results or ()],
            "config": [{"source": c.source, "requests": list(c.requests) or None,
                        "opaque": {"driver": c.driver, "parameters": c.parameters}}
                       for c in spec.configs]}}
        if self._node is not None:
            allocation["nodeSelector"] = {"nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [self._node]}]}]}
        body["status"] = {"allocation": allocation}
        self._call(f"allocating ResourceClaim {ref}",
                   self._resource.replace_namespaced_resource_claim_status,
                   ref.name, ref.namespace, body)

    @staticmethod
    def _call(what: str, function: Any, *args: Any) -> Any:
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        try:
            return function(*args)
        except ApiException as exc:
            raise ClaimStoreError(f"{what}: HTTP {exc.status} {exc.reason}: "
                                  f"{(exc.body or '')[:500]}") from exc


def _result(result: Any) -> dict[str, Any]:
    out = {"request": result.request, "driver": result.driver, "pool": result.pool,
           "device": result.device}
    if result.share_id is not None:
        out["shareID"] = result.share_id
    if result.consumed_capacity:
        out["consumedCapacity"] = dict(result.consumed_capacity)
    return out
