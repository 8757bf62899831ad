"""Claims and pods in a namespace of the suite's own, and waiting for what happens to them.

Pods run the profile's injection check as their command, so "Succeeded" means the container
saw the device. A pod the scheduler cannot place keeps a PodScheduled=False condition: reason
Unschedulable when no node fits, SchedulerError when the DRA plugin's filter itself returns an
error, which kube-scheduler 1.37 does for a claim it can never satisfy in some ways
(allocationMode All where a constraint rejects a device, a CEL runtime error). Both are the
scheduler refusing the pod, which is how an unsatisfiable claim must show.
"""

from __future__ import annotations

import re
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
POLL_SECONDS = 0.2  # pod and claim states: a GET each, cheap; waits end within this of the change


@dataclass(frozen=True)
class PodState:
    phase: str
    scheduled: bool
    unschedulable_reason: str  # the PodScheduled condition's message, reason Unschedulable
    scheduler_error: str = ""  # its message when the reason is SchedulerError

    @property
    def refused(self) -> str:
        """Why the scheduler refused the pod ("" if it has not)."""
        if self.unschedulable_reason:
            return f"Unschedulable: {self.unschedulable_reason}"
        return f"SchedulerError: {self.scheduler_error}" if self.scheduler_error else ""


def seen_devices(environment: str, pattern: str) -> set[str]:
    """The device names a container's ``env`` output shows in variables matching
    ``pattern`` (the profile's injection.deviceEnv)."""
    names = re.compile(pattern)
    return {value for name, sep, value in (line.partition("=") for line in
                                           environment.splitlines())
            if sep and names.search(name)}


NODES_MARK = "--- device nodes"
# a container's environment, then its character devices as "major:minor path" (hex, busybox)
LISTING = ["sh", "-c", f'env; echo "{NODES_MARK}"; '
           'find /dev -type c | while read -r node; do stat -c "%t:%T %n" "$node"; done']


def listing_parts(log: str) -> tuple[str, dict[str, str]]:
    """A ``LISTING`` container's output: its environment, and its device nodes (path to
    ``major:minor``, decimal as in sysfs ``dev``)."""
    environment, _, listed = log.partition(NODES_MARK)
    nodes: dict[str, str] = {}
    for line in listed.splitlines():
        number, _, path = line.strip().partition(" ")
        major, sep, minor = number.partition(":")
        if sep and path:
            nodes[path] = f"{int(major, 16)}:{int(minor, 16)}"
    return environment, nodes


def check_command(injection: Injection) -> list[str]:
    """A shell command that exits 0 only if the container sees the device as promised."""
    if injection.check_command:
        return list(injection.check_command)
    tests = [f'test -n "${{{name}}}"' for name in injection.env]
    tests += [f"test -e {shlex.quote(path)}" for path in injection.device_paths]
    return ["sh", "-c", " && ".join(tests) or "true"]


class Workloads:
    """Claims and pods in a namespace of their own (``labels`` added to the suite's)."""

    def __init__(self, api_client: ApiClient, namespace: str | None = None,
                 labels: dict[str, str] | None = None) -> None:
        from kubernetes import client  # noqa: PLC0415

        # Any: the client's dict bodies are accepted at run time but not by its type hints
        self.core: Any = cast(Any, client.CoreV1Api(api_client))
        self.resource: Any = cast(Any, client.ResourceV1Api(api_client))
        self.namespace = namespace or f"dra-conformance-{secrets.token_hex(3)}"
        self.core.create_namespace({"metadata": {"name": self.namespace,
                                                 "labels": {LABEL: "cluster", **(labels or {})}}})

    def close(self) -> None:
        self.core.delete_namespace(self.namespace)

    def claim(self, spec: dict[str, Any], name: str | None = None) -> str:
        name = name or f"claim-{secrets.token_hex(3)}"
        self.resource.create_namespaced_resource_claim(self.namespace, {
            "metadata": {"name": name}, "spec": spec})
        return name

    def allocate(self, claim: str, results: list[dict[str, Any]], node: str) -> None:
        """Write the claim's allocation for ``node`` ourselves (results: request, driver,
        pool, device), for a pod bound without the scheduler (``pod(bound=True)``)."""
        read = self.resource.read_namespaced_resource_claim(claim, self.namespace)
        body = self.resource.api_client.sanitize_for_serialization(read)
        body["status"] = {"allocation": {"devices": {"results": results}, "nodeSelector": {
            "nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
        self.resource.replace_namespaced_resource_claim_status(claim, self.namespace, body)

    def reserve(self, claim: str, pod: str, attempts: int = 5) -> None:
        """Reserve an allocated claim for ``pod``, as the scheduler would when binding it
        (read, change, write; again when a controller changed the claim in between)."""
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        uid = self.core.read_namespaced_pod(pod, self.namespace).metadata.uid
        for attempt in range(attempts):
            read = self.resource.read_namespaced_resource_claim(claim, self.namespace)
            body = self.resource.api_client.sanitize_for_serialization(read)
            body["status"]["reservedFor"] = [{"resource": "pods", "name": pod, "uid": uid}]
            try:
                self.resource.replace_namespaced_resource_claim_status(claim, self.namespace,
                                                                       body)
            except ApiException as exc:
                if exc.status != 409 or attempt == attempts - 1:
                    raise
                time.sleep(0.2)
            else:
                return

    def template(self, spec: dict[str, Any]) -> str:
        """A ResourceClaimTemplate whose claims have ``spec``."""
        name = f"template-{secrets.token_hex(3)}"
        self.resource.create_namespaced_resource_claim_template(self.namespace, {
            "metadata": {"name": name}, "spec": {"spec": spec}})
        return name

    def pod(self, claim: str, command: list[str], image: str | None = None,
            node: str | None = None, *, template: bool = False, containers: int = 1,
            init: list[str] | None = None, referenced: bool = True, bound: bool = False,
            listing: list[str] | None = None, more_claims: tuple[str, ...] = ()) -> str:
        """A pod using ``claim`` (a template's name with ``template``) in ``containers``
        containers that run ``command``, after an init container running ``init``; with
        ``referenced=False`` the pod has the claim but no container names it; ``bound``
        puts it on ``node`` without the scheduler (the claim must be allocated and reserved
        by the caller); ``listing`` adds a container ``list`` running that command with the
        claim too (its log tells what it saw); every container also gets ``more_claims``."""
        name = f"pod-{secrets.token_hex(3)}"
        extra = [{"name": f"more-{i}", "resourceClaimName": c} for i, c in enumerate(more_claims)]
        uses = {"claims": [{"name": "devices"}] + [{"name": e["name"]} for e in extra]
                } if referenced else {}

        def container(label: str, argv: list[str]) -> dict[str, Any]:
            return {"name": label, "image": image or WORKLOAD_IMAGE, "command": argv,
                    "resources": uses}
        source = "resourceClaimTemplateName" if template else "resourceClaimName"
        spec: dict[str, Any] = {
            "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
            "resourceClaims": [{"name": "devices", source: claim}, *extra],
            "containers": [container("check" + (f"-{i}" if i else ""), command)
                           for i in range(containers)]}
        if init is not None:
            spec["initContainers"] = [container("init", init)]
        if listing is not None:
            spec["containers"].append(container("list", listing))
        if node and bound:
            spec["nodeName"] = node
        elif node:
            spec["nodeSelector"] = {"kubernetes.io/hostname": node}
        self.core.create_namespaced_pod(self.namespace, {"metadata": {"name": name},
                                                         "spec": spec})
        return name

    def state(self, pod: str) -> PodState:
        status = self.core.read_namespaced_pod(pod, self.namespace).status
        message = error = ""
        scheduled = False
        for condition in status.conditions or ():
            if condition.type == "PodScheduled":
                scheduled = condition.status == "True"
                if condition.reason == "Unschedulable":
                    message = condition.message or "Unschedulable"
                elif condition.reason == "SchedulerError" and not scheduled:
                    error = condition.message or "SchedulerError"
        return PodState(status.phase or "", scheduled, message, error)

    def wait(self, pod: str, done: Any, timeout: float) -> PodState:
        """Poll until ``done(state)`` or ``timeout`` seconds; the last state either way."""
        deadline = time.monotonic() + timeout
        state = self.state(pod)
        while not done(state) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            state = self.state(pod)
        return state

    def nudge(self, pod: str) -> None:
        """Touch the pod (an annotation): its kubelet syncs it now, as on any pod update."""
        self.core.patch_namespaced_pod(pod, self.namespace, {"metadata": {"annotations": {
            "conformance.fakehw.dev/nudged": f"{time.time():.3f}"}}})

    def containers(self, pod: str) -> dict[str, tuple[str, int, bool]]:
        """Each container of ``pod`` by name: its ID, restart count and whether it runs."""
        status = self.core.read_namespaced_pod(pod, self.namespace).status
        return {c.name: (str(c.container_id or ""), int(c.restart_count or 0),
                         bool(c.state and c.state.running))
                for c in status.container_statuses or ()}

    def log(self, pod: str, container: str) -> str:
        return str(self.core.read_namespaced_pod_log(pod, self.namespace, container=container))

    def generated_claim(self, pod: str) -> str | None:
        """The name of the claim generated for ``pod`` from its template (None: not yet)."""
        status = self.core.read_namespaced_pod(pod, self.namespace).status
        for entry in status.resource_claim_statuses or ():
            if entry.name == "devices":
                return str(entry.resource_claim_name) if entry.resource_claim_name else None
        return None

    def reserved_for(self, claim: str) -> list[str] | None:
        """Names of the consumers holding ``claim`` (None: the claim is gone)."""
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        try:
            read = self.resource.read_namespaced_resource_claim(claim, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return [str(r.name) for r in (read.status.reserved_for if read.status else None) or ()]

    def events(self, *reasons: str) -> list[str]:
        """Events of the namespace with one of ``reasons``, as "object: reason: message"."""
        listed = self.core.list_namespaced_event(self.namespace)
        return [f"{e.involved_object.name}: {e.reason}: {e.message}" for e in listed.items
                if e.reason in reasons]

    def allocation(self, claim: str) -> list[dict[str, Any]]:
        """The claim's allocation results, as API dicts (empty when not allocated)."""
        read = self.resource.read_namespaced_resource_claim(claim, self.namespace)
        allocation = read.status.allocation if read.status else None
        if allocation is None or allocation.devices is None:
            return []
        return [{"request": r.request, "driver": r.driver, "pool": r.pool, "device": r.device,
                 "consumedCapacity": dict(r.consumed_capacity or {})}
                for r in allocation.devices.results or ()]

    def delete(self, pod: str, claim: str, timeout: float = 60) -> None:
        """Delete the pod, then the claim, and wait until the claim is gone (devices free)."""
        self.delete_pods(pod)
        self.delete_claims(claim, timeout=timeout)

    def delete_pods(self, *pods: str) -> None:
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        for pod in pods:
            try:
                self.core.delete_namespaced_pod(pod, self.namespace, grace_period_seconds=1)
            except ApiException as exc:
                if exc.status != 404:
                    raise

    def delete_claims(self, *claims: str, timeout: float = 60) -> bool:
        """Delete the claims and wait until they are gone (their devices free)."""
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        for claim in claims:
            try:
                self.resource.delete_namespaced_resource_claim(claim, self.namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise
        return self.wait_claims_gone(*claims, timeout=timeout)

    def wait_pods_gone(self, *pods: str, timeout: float = 60) -> bool:
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        def exists(pod: str) -> bool:
            try:
                self.core.read_namespaced_pod(pod, self.namespace)
            except ApiException as exc:
                if exc.status == 404:
                    return False
                raise
            return True
        deadline = time.monotonic() + timeout
        left = [pod for pod in pods if exists(pod)]
        while left and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            left = [pod for pod in left if exists(pod)]
        return not left

    def wait_claims_gone(self, *claims: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        left = list(claims)
        while left:
            left = [claim for claim in left if self.reserved_for(claim) is not None]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS)
        return not left
