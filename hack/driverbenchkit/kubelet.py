"""What the kubelet does to the driver, done by hand: allocated claims and DRA calls.

No scheduler is involved: a claim is created and its allocation written into its status
directly, naming a device of the driver's pool, and NodePrepareResources is then called on
the driver's socket as the kubelet calls it. The driver reads the claim from the API server
as it does for a real pod.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from dra_reference.plugin.wire import DRA_V1
from kubernetes import client

SERVICE = "/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/"
NAMESPACE = "default"


Claim = tuple[str, str, str]  # namespace, name, UID


class DraClient:
    """NodePrepareResources / NodeUnprepareResources of one claim or several in one call."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._prepare = channel.unary_unary(
            SERVICE + "NodePrepareResources",
            request_serializer=DRA_V1.NodePrepareResourcesRequest.SerializeToString,
            response_deserializer=DRA_V1.NodePrepareResourcesResponse.FromString)
        self._unprepare = channel.unary_unary(
            SERVICE + "NodeUnprepareResources",
            request_serializer=DRA_V1.NodeUnprepareResourcesRequest.SerializeToString,
            response_deserializer=DRA_V1.NodeUnprepareResourcesResponse.FromString)

    def prepare(self, *claim: str) -> None:
        self.prepare_all([(claim[0], claim[1], claim[2])])

    def unprepare(self, *claim: str) -> None:
        self.unprepare_all([(claim[0], claim[1], claim[2])])

    def prepare_all(self, claims: list[Claim]) -> None:
        request = DRA_V1.NodePrepareResourcesRequest(claims=_wire(claims))
        _check("prepare", claims, self._prepare(request, timeout=45))

    def unprepare_all(self, claims: list[Claim]) -> None:
        request = DRA_V1.NodeUnprepareResourcesRequest(claims=_wire(claims))
        _check("unprepare", claims, self._unprepare(request, timeout=45))


def _wire(claims: list[Claim]) -> list[Any]:
    return [DRA_V1.Claim(namespace=namespace, name=name, uid=uid)
            for namespace, name, uid in claims]


def _check(call: str, claims: list[Claim], response: Any) -> None:
    for namespace, name, uid in claims:
        if uid not in response.claims:
            raise RuntimeError(f"{call} of {namespace}/{name}: no answer for the claim")
        if error := response.claims[uid].error:
            raise RuntimeError(f"{call} of {namespace}/{name}: {error}")


@contextmanager
def allocated_claims(api: client.ResourceV1Api, driver: str, pool: str, devices: list[str],
                     prefix: str = "drabench") -> Iterator[list[Claim]]:
    """One claim per device, allocated to it; (namespace, name, uid) each; deleted after."""
    made: list[Claim] = []
    try:
        for n, device in enumerate(devices):
            name = f"{prefix}-{n}"
            body: dict[str, Any] = {
                "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
                "metadata": {"name": name}, "spec": {"devices": {"requests": [
                    {"name": "dev", "exactly": {"deviceClassName": "drabench"}}]}}}
            created: Any = api.create_namespaced_resource_claim(NAMESPACE, body)  # type: ignore[arg-type]
            made.append((NAMESPACE, name, str(created.metadata.uid)))
            api.patch_namespaced_resource_claim_status(name, NAMESPACE, {"status": {
                "allocation": {"devices": {"results": [
                    {"request": "dev", "driver": driver, "pool": pool, "device": device}]}}}})
        yield made
    finally:
        for namespace, name, _ in made:
            api.delete_namespaced_resource_claim(name, namespace)
