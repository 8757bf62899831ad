"""Network devices reached with a credential of the claim's own (feature claimCredentials).

A pod of the profile's DeviceClass prints its environment and keeps running. The device must
accept the credential the container shows while the pod runs (the URL is right and
reachable from the suite) and refuse it once the pod and the claim are gone. On fakehw the
stream at that URL must also be the allocated camera's, told by the marks it paints into
every picture, not by anything the driver says.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dra_conformance import groundtruth, rtsp, slices
from dra_conformance.kube.workloads import PodState, Workloads, seen_devices
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 180.0
REVOKE_SECONDS = 10.0  # after the claim is gone, how long the device may still accept it


@contextlib.contextmanager
def running_pod(workloads: Workloads, profile: DriverProfile,
                node: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """A running pod of the credentials' DeviceClass: its claim and the URLs its container
    shows; pod and claim deleted (the claim unprepared) on leaving."""
    credentials = profile.claim_credentials
    assert credentials is not None  # the profile's check for the feature
    claim = workloads.claim({"devices": {"requests": [
        {"name": "dev", "exactly": {"deviceClassName": credentials.device_class}}]}})
    pod = workloads.pod(claim, ["sh", "-c", "env; exec sleep 3600"], profile.injection.image,
                        node=node)
    urls: list[str] = []

    def printed(state: PodState) -> bool:
        if state.phase == "Running":
            urls[:] = sorted(seen_devices(workloads.log(pod, "check"), credentials.url_env))
        return bool(urls) or state.phase in ("Succeeded", "Failed") or bool(state.refused)
    try:
        state = workloads.wait(pod, printed, TIMEOUT)
        assert urls, (f"pod {pod} ({state.phase}{', ' + state.refused if state.refused else ''}) "
                      f"shows no variable matching {credentials.url_env}")
        yield claim, urls
    finally:
        workloads.delete(pod, claim)


@pytest.mark.requirement("DRA-UNPREP-006")
def test_a_claims_credential_is_refused_after_unprepare(
        dra_workloads: Workloads, dra_profile: DriverProfile,
        dra_evidence: Callable[[str], None]) -> None:
    with running_pod(dra_workloads, dra_profile) as (_, urls):
        before = {url: rtsp.accepts(url) for url in urls}
    deadline = time.monotonic() + REVOKE_SECONDS
    while (after := {url: rtsp.accepts(url) for url in urls}) and any(
            after.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    dra_evidence(f"{[groundtruth.hidden(url) for url in urls]} accepted while the pod ran: "
                 f"{list(before.values())}; after the claim was gone: {list(after.values())}")
    assert all(before.values()), "the device refused the claim's credential while it was in use"
    assert not any(after.values()), (
        f"the device still accepts the claim's credential {REVOKE_SECONDS:.0f}s after the claim "
        "was unprepared and deleted")


@pytest.mark.requirement("DRA-ALLOC-009")
def test_a_claims_url_leads_to_the_allocated_device(
        dra_workloads: Workloads, dra_profile: DriverProfile, fakehw_root: Path, *,
        dra_node: str, dra_slices: list[dict[str, Any]],
        dra_evidence: Callable[[str], None]) -> None:
    """fakehw's cameras paint their id into every picture; the stream the container is
    pointed at must be the allocated camera's. A published camera is matched to a camera by
    its name or an attribute value naming it, as PCI devices are by their address."""
    published = slices.entries(dra_slices)
    with running_pod(dra_workloads, dra_profile, dra_node) as (claim, urls):
        allocated = dra_workloads.allocation(claim)
        [result] = allocated  # one request, one device
        entry = published[(result["pool"], result["device"])]
        names = sorted({entry["name"]} | groundtruth.values(entry))
        seen = {groundtruth.hidden(url): groundtruth.camera_at(url, names) for url in urls}
    dra_evidence(f"allocated {result['pool']}/{result['device']}; the container's "
                 f"{sorted(seen)} stream camera {sorted(set(seen.values()))}")
