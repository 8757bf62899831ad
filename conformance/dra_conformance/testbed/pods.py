"""The driver's pods: are they up, can they still come up, and why not; restarting them.

The driver's kubelet plugins are the pods of the deployment's DaemonSets. Up means every
DaemonSet has as many Ready pods as it schedules and at least one ResourceSlice of the
driver is published. Hopeless means a pod cannot become Ready without a change: its image
is missing, its container crash-loops, or its configuration is refused. Waiting on it
further would only hide the reason, so the run stops and reports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes import client

HOPELESS = {"ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff", "InvalidImageName",
            "CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
# restarts after which a container that ended again (or waits in CrashLoopBackOff; the
# kubelet shows either while it backs off) is hopeless
CRASHES = 2
LOG_LINES = 20
POLL = 0.5


class NotStarted(Exception):
    """The driver did not start; ``diagnosis`` holds what a person needs to see why."""

    def __init__(self, reason: str, diagnosis: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.diagnosis = diagnosis


@dataclass
class DriverPods:
    api: client.ApiClient
    daemonsets: Sequence[tuple[str, str]]  # (namespace, name)
    driver: str

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    def pods(self) -> list[Any]:
        """The DaemonSets' pods, found by each DaemonSet's own selector."""
        apps = client.AppsV1Api(self.api)
        found = []
        for namespace, name in self.daemonsets:
            selector = apps.read_namespaced_daemon_set(name, namespace).spec.selector
            labels = ",".join(f"{k}={v}" for k, v in (selector.match_labels or {}).items())
            found += self.core.list_namespaced_pod(namespace, label_selector=labels).items
        return found

    def slices(self) -> list[dict[str, Any]]:
        listed: Any = client.CustomObjectsApi(self.api).list_cluster_custom_object(
            "resource.k8s.io", "v1", "resourceslices")
        return [s for s in listed["items"] if s["spec"]["driver"] == self.driver]

    def wait_until_up(self, timeout: float, tick: Callable[[str], None] = lambda _: None
                      ) -> None:
        """Return once up; raise NotStarted when hopeless or after ``timeout``."""
        if not self.daemonsets:
            raise NotStarted("the deployment has no DaemonSet: no kubelet plugin to run",
                             "a DRA driver's kubelet plugin runs as a DaemonSet on every node")
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self._state()
            tick(state)
            if state == "up":
                return
            time.sleep(POLL)
        raise NotStarted(f"not up after {timeout:.0f} s ({state})", self.diagnosis())

    def _state(self) -> str:
        apps = client.AppsV1Api(self.api)
        for namespace, name in self.daemonsets:
            status: Any = apps.read_namespaced_daemon_set_status(name, namespace).status
            wanted = status.desired_number_scheduled or 0
            if wanted == 0 or (status.number_ready or 0) < wanted:
                hopeless = self.hopeless()
                if hopeless:
                    raise NotStarted(hopeless, self.diagnosis())
                return f"daemonset {name}: {status.number_ready or 0}/{wanted} pods Ready"
        if not self.slices():
            return f"no ResourceSlice of {self.driver} yet"
        return "up"

    def hopeless(self) -> str:
        """Why a pod can never become Ready as it is, or ""."""
        for pod in self.pods():
            for status in (pod.status.init_container_statuses or []) + (
                    pod.status.container_statuses or []):
                waiting = status.state.waiting if status.state else None
                if waiting and waiting.reason in HOPELESS:
                    return (f"pod {pod.metadata.name}, container {status.name}: "
                            f"{waiting.reason}: {waiting.message or ''}".rstrip(": "))
                ended = status.state.terminated if status.state else None
                backing_off = ended or (waiting and waiting.reason == "CrashLoopBackOff")
                if status.restart_count >= CRASHES and backing_off:
                    return (f"pod {pod.metadata.name}, container {status.name}: restarted "
                            f"{status.restart_count} times (crash loop)")
        return ""

    def diagnosis(self) -> str:
        """Each pod's phase and waiting reasons, the namespaces' events, the last log lines."""
        lines: list[str] = []
        for pod in self.pods():
            meta, spec = pod.metadata, pod.spec
            lines.append(f"## pod {meta.namespace}/{meta.name} on {spec.node_name or '-'}: "
                         f"{pod.status.phase}")
            for status in (pod.status.init_container_statuses or []) + (
                    pod.status.container_statuses or []):
                last = status.last_state.terminated if status.last_state else None
                ended = (f", last run ended: {last.reason}, exit {last.exit_code}"
                         if last else "")
                lines.append(f"container {status.name}: {_container_state(status)}, "
                             f"{status.restart_count} restarts{ended}")
                for previous in (False, True):
                    log = self._log(meta, status.name, previous)
                    if log:
                        lines.append(f"last log lines{' (previous run)' if previous else ''}:")
                        lines += [f"    {line}" for line in log]
        for namespace in sorted({ns for ns, _ in self.daemonsets}):
            events: list[Any] = self.core.list_namespaced_event(namespace).items
            events.sort(key=lambda e: e.metadata.creation_timestamp)
            lines.append(f"## events in {namespace}")
            lines += [f"{e.type} {e.reason} {e.involved_object.kind}/{e.involved_object.name}: "
                      f"{(e.message or '').strip()}" for e in events[-30:]]
        return "\n".join(lines)

    def _log(self, meta: Any, container: str, previous: bool) -> list[str]:
        try:
            text = self.core.read_namespaced_pod_log(
                meta.name, meta.namespace, container=container, previous=previous,
                tail_lines=LOG_LINES)
        except client.ApiException:
            return []
        lines = str(text).splitlines()
        # what the API server answers when the runtime no longer has that run's log
        return [] if lines[:1] and lines[0].startswith("unable to retrieve container logs") \
            else lines


def _container_state(status: Any) -> str:
    state = status.state
    if state is None:
        return "unknown"
    if state.waiting:
        return f"waiting ({state.waiting.reason}: {state.waiting.message or ''})".replace(
            ": )", ")")
    if state.terminated:
        return f"terminated ({state.terminated.reason}, exit {state.terminated.exit_code})"
    return "running, ready" if status.ready else "running, not ready"


def restart(api: client.ApiClient, namespace: str, node: str, timeout: float,
            rolling: bool = False) -> str:
    """Restart the driver's plugin on ``node``: delete its DaemonSet pods there and wait for
    their successors to be Ready; with ``rolling``, a rolling restart of the DaemonSets (as
    ``kubectl rollout restart`` does) waited for until every pod is updated and Ready."""
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    sets: list[Any] = apps.list_namespaced_daemon_set(namespace).items
    if not sets:
        raise NotStarted(f"no DaemonSet in namespace {namespace}", "")
    deadline = time.monotonic() + timeout
    if rolling:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        patch = {"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": stamp}}}}}
        for ds in sets:
            apps.patch_namespaced_daemon_set(ds.metadata.name, namespace, patch)
        while time.monotonic() < deadline:
            if all(_rolled(apps.read_namespaced_daemon_set_status(d.metadata.name, namespace))
                   for d in sets):
                return f"rolled {', '.join(d.metadata.name for d in sets)}"
            time.sleep(POLL)
        raise NotStarted(f"the rolling restart did not finish in {timeout:.0f} s", "")
    pods = _pods_on(core, namespace, node)
    old = {p.metadata.uid for p in pods}
    for pod in pods:
        core.delete_namespaced_pod(pod.metadata.name, namespace)
    while time.monotonic() < deadline:
        fresh = [p for p in _pods_on(core, namespace, node) if p.metadata.uid not in old]
        if len(fresh) >= len(old) and all(_ready(p) for p in fresh):
            return f"restarted {len(old)} pod(s) on {node}"
        time.sleep(POLL)
    raise NotStarted(f"the driver's pods on {node} were not Ready again in {timeout:.0f} s", "")


def _pods_on(core: client.CoreV1Api, namespace: str, node: str) -> list[Any]:
    pods: list[Any] = core.list_namespaced_pod(
        namespace, field_selector=f"spec.nodeName={node}").items
    return [p for p in pods if any(o.kind == "DaemonSet"
                                   for o in p.metadata.owner_references or [])
            and p.metadata.deletion_timestamp is None]


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _rolled(ds: Any) -> bool:
    s = ds.status
    wanted = s.desired_number_scheduled or 0
    return (s.observed_generation or 0) >= ds.metadata.generation and \
        (s.updated_number_scheduled or 0) == wanted and (s.number_available or 0) == wanted
