"""A credential of the claim's own, minted on a network device at prepare, dies at unprepare.

A pod of the profile's DeviceClass prints its environment and keeps running; the device must
accept the credential it shows (the URL is right and reachable from the suite), and refuse
it once the pod and the claim are gone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from dra_conformance import rtsp
from dra_conformance.kube.workloads import PodState, Workloads
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
TIMEOUT = 180.0
REVOKE_SECONDS = 10.0  # after the claim is gone, how long the device may still accept it


@pytest.mark.requirement("DRA-UNPREP-006")
def test_a_claims_credential_is_refused_after_unprepare(
        dra_workloads: Workloads, dra_profile: DriverProfile,
        dra_evidence: Callable[[str], None]) -> None:
    credentials = dra_profile.claim_credentials
    assert credentials is not None  # the profile's check for the feature
    names = re.compile(credentials.url_env)
    claim = dra_workloads.claim({"devices": {"requests": [
        {"name": "dev", "exactly": {"deviceClassName": credentials.device_class}}]}})
    pod = dra_workloads.pod(claim, ["sh", "-c", "env; exec sleep 3600"],
                            dra_profile.injection.image)
    urls: list[str] = []

    def printed(state: PodState) -> bool:
        if state.phase == "Running":
            urls[:] = [value for name, sep, value in (
                line.partition("=") for line in dra_workloads.log(pod, "check").splitlines())
                if sep and names.search(name)]
        return bool(urls) or state.phase in ("Succeeded", "Failed") or bool(state.refused)
    try:
        state = dra_workloads.wait(pod, printed, TIMEOUT)
        assert urls, (f"pod {pod} ({state.phase}{', ' + state.refused if state.refused else ''}) "
                      f"shows no variable matching {names.pattern}")
        before = {url: rtsp.accepts(url) for url in urls}
    finally:
        dra_workloads.delete(pod, claim)
    deadline = time.monotonic() + REVOKE_SECONDS
    while (after := {url: rtsp.accepts(url) for url in urls}) and any(
            after.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    hidden = [re.sub(r"//[^@/]*@", "//***@", url) for url in urls]
    dra_evidence(f"{credentials.device_class}: {hidden} accepted while the pod ran: "
                 f"{list(before.values())}; after the claim was gone: {list(after.values())}")
    assert all(before.values()), "the device refused the claim's credential while it was in use"
    assert not any(after.values()), (
        f"the device still accepts the claim's credential {REVOKE_SECONDS:.0f}s after the claim "
        "was unprepared and deleted")
