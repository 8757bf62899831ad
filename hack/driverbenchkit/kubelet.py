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


class DraClient:
    """NodePrepareResources / NodeUnprepareResources of one claim at a time."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._prepare = channel.unary_unary(
            SERVICE + "NodePrepareResources",
            request_serializer=DRA_V1.NodePrepareResourcesRequest.SerializeToString,
            response_deserializer=DRA_V1.NodePrepareResourcesResponse.FromString)
        self._unprepare = channel.unary_unary(
            SERVICE + "NodeUnprepareResources",
            request_serializer=DRA_V1.NodeUnprepareResourcesRequest.SerializeToString,
            response_deserializer=DRA_V1.NodeUnprepareResourcesResponse.FromString)

    def prepare(self, namespace: str, name: str, uid: str) -> None:
        claims = [DRA_V1.Claim(namespace=namespace, name=name, uid=uid)]
        response = self._prepare(DRA_V1.NodePrepareResourcesRequest(claims=claims), timeout=45)
        if error := response.claims[uid].error:
            raise RuntimeError(f"prepare of {namespace}/{name}: {error}")

    def unprepare(self, namespace: str, name: str, uid: str) -> None:
        claims = [DRA_V1.Claim(namespace=namespace, name=name, uid=uid)]
        response = self._unprepare(DRA_V1.NodeUnprepareResourcesRequest(claims=claims),
                                   timeout=45)
        if error := response.claims[uid].error:
            raise RuntimeError(f"unprepare of {namespace}/{name}: {error}")


@contextmanager
def allocated_claims(api: client.ResourceV1Api, driver: str, pool: str,
                     devices: list[str]) -> Iterator[list[tuple[str, str, str]]]:
    """One claim per device, allocated to it; (namespace, name, uid) each; deleted after."""
    made: list[tuple[str, str, str]] = []
    try:
        for n, device in enumerate(devices):
            name = f"drabench-{n}"
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
