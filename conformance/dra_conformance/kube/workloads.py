"""Claims and pods in a namespace of the suite's own, and waiting for what happens to them.

Pods run the profile's injection check as their command, so "Succeeded" means the container
saw the device; a pod the scheduler cannot place keeps a PodScheduled=False condition whose
reason is Unschedulable, which is how an unsatisfiable claim must show.
"""

from __future__ import annotations

import secrets
import shlex
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

from dra_conformance.profiles.model import Injection

WORKLOAD_IMAGE = "fakehw.local/workload:1"  # the local cluster's busybox image
LABEL = "conformance.fakehw.dev/suite"


@dataclass(frozen=True)
class PodState:
    phase: str
    scheduled: bool
    unschedulable_reason: str  # the PodScheduled condition's message when not scheduled


def check_command(injection: Injection) -> list[str]:
    """A shell command that exits 0 only if the container sees the device as promised."""
    if injection.check_command:
        return list(injection.check_command)
    tests = [f'test -n "${{{name}}}"' for name in injection.env]
    tests += [f"test -e {shlex.quote(path)}" for path in injection.device_paths]
    return ["sh", "-c", " && ".join(tests) or "true"]


class Workloads:
    def __init__(self, api_client: ApiClient, namespace: str | None = None) -> None:
        from kubernetes import client  # noqa: PLC0415

        # Any: the client's dict bodies are accepted at run time but not by its type hints
        self.core: Any = cast(Any, client.CoreV1Api(api_client))
        self.resource: Any = cast(Any, client.ResourceV1Api(api_client))
        self.namespace = namespace or f"dra-conformance-{secrets.token_hex(3)}"
        self.core.create_namespace({"metadata": {"name": self.namespace,
                                                 "labels": {LABEL: "cluster"}}})

    def close(self) -> None:
        self.core.delete_namespace(self.namespace)

    def claim(self, spec: dict[str, Any], name: str | None = None) -> str:
        name = name or f"claim-{secrets.token_hex(3)}"
        self.resource.create_namespaced_resource_claim(self.namespace, {
            "metadata": {"name": name}, "spec": spec})
        return name

    def pod(self, claim: str, command: list[str], image: str | None = None,
            node: str | None = None) -> str:
        name = f"pod-{secrets.token_hex(3)}"
        spec: dict[str, Any] = {
            "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
            "resourceClaims": [{"name": "devices", "resourceClaimName": claim}],
            "containers": [{"name": "check", "image": image or WORKLOAD_IMAGE,
                            "command": command, "resources": {"claims": [{"name": "devices"}]}}]}
        if node:
            spec["nodeSelector"] = {"kubernetes.io/hostname": node}
        self.core.create_namespaced_pod(self.namespace, {"metadata": {"name": name},
                                                         "spec": spec})
        return name

    def state(self, pod: str) -> PodState:
        status = self.core.read_namespaced_pod(pod, self.namespace).status
        message = ""
        scheduled = False
        for condition in status.conditions or ():
            if condition.type == "PodScheduled":
                scheduled = condition.status == "True"
                if condition.reason == "Unschedulable":
                    message = condition.message or "Unschedulable"
        return PodState(status.phase or "", scheduled, message)

    def wait(self, pod: str, done: Any, timeout: float) -> PodState:
        """Poll until ``done(state)`` or ``timeout`` seconds; the last state either way."""
        deadline = time.monotonic() + timeout
        state = self.state(pod)
        while not done(state) and time.monotonic() < deadline:
            time.sleep(1)
            state = self.state(pod)
        return state

    def allocation(self, claim: str) -> list[dict[str, Any]]:
        """The claim's allocation results, as API dicts (empty when not allocated)."""
        read = self.resource.read_namespaced_resource_claim(claim, self.namespace)
        allocation = read.status.allocation if read.status else None
        if allocation is None or allocation.devices is None:
            return []
        return [{"request": r.request, "driver": r.driver, "pool": r.pool, "device": r.device}
                for r in allocation.devices.results or ()]

    def delete(self, pod: str, claim: str, timeout: float = 60) -> None:
        """Delete the pod, then the claim, and wait until the claim is gone (devices free)."""
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        self.core.delete_namespaced_pod(pod, self.namespace, grace_period_seconds=1)
        self.resource.delete_namespaced_resource_claim(claim, self.namespace)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.resource.read_namespaced_resource_claim(claim, self.namespace)
            except ApiException as exc:
                if exc.status == 404:
                    return
                raise
            time.sleep(1)
