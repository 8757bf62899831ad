"""Small helpers for cluster tests: pods from YAML, waiting on phases, host inspection."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

from fakehw.cluster.images import WORKLOAD_IMAGE
from fakehw.cluster.kubectl import Kubectl


def pod_manifest(name: str, command: str, node: str | None = None,
                 claims: list[dict[str, str]] | None = None) -> str:
    """A run-once pod using the workload image (JSON is valid YAML for kubectl)."""
    container: dict[str, object] = {
        "name": "main", "image": WORKLOAD_IMAGE, "imagePullPolicy": "Never",
        "command": ["sh", "-c", command],
    }
    spec: dict[str, object] = {"restartPolicy": "Never", "containers": [container],
                               "terminationGracePeriodSeconds": 0}
    if node:
        spec["nodeName"] = node
    if claims:
        spec["resourceClaims"] = claims
        container["resources"] = {"claims": [{"name": c["name"]} for c in claims]}
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": spec})


def wait_for_phase(kubectl: Kubectl, pod: str, phases: set[str], timeout: float = 90) -> str:
    """Poll until the pod reaches one of `phases`; return it (or fail with a description)."""
    deadline = time.monotonic() + timeout
    phase = ""
    while time.monotonic() < deadline:
        done = kubectl.run(["get", "pod", pod, "-o", "jsonpath={.status.phase}"], check=False)
        phase = done.stdout.strip()
        if phase in phases:
            return phase
        time.sleep(0.5)
    described = kubectl.run(["describe", "pod", pod], check=False).stdout
    raise AssertionError(f"pod {pod} is {phase!r}, not {phases}, after {timeout}s\n{described}")


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            if text in cmdline:
                found.append(f"{entry.name}: {cmdline}")
    return found


def mounts_mentioning(text: str) -> list[str]:
    """Lines of /proc/self/mountinfo that mention `text`."""
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if text in line]
