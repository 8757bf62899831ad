"""Why a driver pod does not run, in words a person can act on without opening other logs.

A pod that cannot start says so in three places: its containers' waiting or terminated
state, its events (a sandbox that cannot be created, an image that is not on the node, a
volume that cannot be mounted: the kubelet's errors, verbatim), and its container's log. The
conformance job prints all three, and names the files that hold more, instead of timing out
on what the pods would have published.

Some states never get better by waiting (``hopeless``): the job stops on them at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

# Waiting reasons that do not clear by themselves. A container that exits is given a
# restart or two (a driver may fail once while the API server settles).
HOPELESS_WAITING = frozenset({
    "ErrImageNeverPull", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
})
CRASH_LOOP_RESTARTS = 2
# The kubelet retries a failed sandbox every few seconds; this many failures is no blip.
SANDBOX_FAILURES = 3
EVENTS_SHOWN = 5
LOG_LINES = 15

Kubectl = Callable[..., Any]  # DriverPods.run: kubectl arguments -> CompletedProcess


def container_statuses(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    status = pod.get("status", {})
    yield from status.get("initContainerStatuses") or ()
    yield from status.get("containerStatuses") or ()


def events(run: Kubectl, pod: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod's events, oldest first."""
    meta = pod["metadata"]
    done = run("get", "events", "-n", meta["namespace"], "-o", "json",
               "--field-selector", f"involvedObject.uid={meta['uid']}")
    if done.returncode != 0:
        return []
    items = json.loads(done.stdout)["items"]
    return sorted(items, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def hopeless(run: Kubectl, pod: dict[str, Any]) -> str | None:
    """Why ``pod`` will not start however long one waits, or None while it may."""
    for status in container_statuses(pod):
        state = status.get("state", {})
        reason = (state.get("waiting") or {}).get("reason", "")
        if reason in HOPELESS_WAITING:
            return f"container {status['name']} is waiting: {reason}"
        restarts = status.get("restartCount", 0)
        if restarts >= CRASH_LOOP_RESTARTS and "running" not in state:
            ended = state.get("terminated") or status.get("lastState", {}).get("terminated", {})
            return (f"container {status['name']} keeps exiting: {restarts} restarts, last exit "
                    f"code {ended.get('exitCode')}")
    if pod.get("status", {}).get("phase") == "Pending":
        for event in events(run, pod):
            if (event.get("reason") == "FailedCreatePodSandBox"
                    and event.get("count", 1) >= SANDBOX_FAILURES):
                return f"its sandbox failed {event['count']} times"
    return None


def _state(status: dict[str, Any]) -> str:
    state = status.get("state", {})
    if "waiting" in state:
        waiting = state["waiting"]
        text = f"waiting: {waiting.get('reason', '?')}"
        text += f" ({waiting['message']})" if waiting.get("message") else ""
    elif "terminated" in state:
        ended = state["terminated"]
        text = f"terminated: {ended.get('reason', '?')}, exit code {ended.get('exitCode')}"
    else:
        text = "running" if "running" in state else "no state yet"
    last = status.get("lastState", {}).get("terminated")
    if last:
        text += f"; last exit code {last.get('exitCode')} ({last.get('reason', '?')})"
    return f"{text}, {status.get('restartCount', 0)} restart(s)"


def describe(run: Kubectl, pod: dict[str, Any], more: str) -> str:
    """The pod's phase, each container's state, its last events, the last lines of its log
    (and of the container before, after a crash) and where to read more (``more``)."""
    meta, status = pod["metadata"], pod.get("status", {})
    name, namespace = meta["name"], meta["namespace"]
    lines = [f"--- pod {name} on {pod['spec'].get('nodeName') or '(no node)'}: "
             f"{status.get('phase')}"]
    lines += [f"    container {s['name']}: {_state(s)}" for s in container_statuses(pod)]
    recent = events(run, pod)[-EVENTS_SHOWN:]
    if recent:
        lines.append("    last events:")
        lines += [f"      {e.get('type')} {e.get('reason')} (x{e.get('count', 1)}): "
                  f"{(e.get('message') or '').strip()}" for e in recent]
    restarted = any(s.get("restartCount", 0) for s in container_statuses(pod))
    for previous in ((False, True) if restarted else (False,)):
        lines += _log_tail(run, namespace, name, previous)
    lines.append(f"    more: kubectl logs -n {namespace} {name}"
                 f"{' --previous' if restarted else ''}; {more}")
    return "\n".join(lines)


def _log_tail(run: Kubectl, namespace: str, name: str, previous: bool) -> list[str]:
    flags = ["--previous"] if previous else []
    done = run("logs", "-n", namespace, name, f"--tail={LOG_LINES}", *flags)
    text = done.stdout.rstrip() if done.returncode == 0 else ""
    if not text:
        return []
    which = "the container before its restart" if previous else "its log"
    return [f"    last {LOG_LINES} lines of {which}:",
            *(f"      {line}" for line in text.splitlines())]


def first_hopeless(run: Kubectl, pods: Sequence[dict[str, Any]]) -> str | None:
    """``pod NAME: why`` for the first pod that will not start, if any."""
    for pod in pods:
        if (why := hopeless(run, pod)) is not None:
            return f"pod {pod['metadata']['name']}: {why}"
    return None
