"""Registration: what the kubelet's plugin watcher asks of a driver's registration socket."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from dra_conformance.kubelet.client import KubeletClient
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.socket
KNOWN_DRA_SERVICES = ("v1.DRAPlugin", "v1beta1.DRAPlugin")


@pytest.mark.requirement("DRA-REG-001")
def test_get_info_names_driver_and_endpoint(dra_kubelet: KubeletClient,
                                            dra_profile: DriverProfile,
                                            dra_evidence: Callable[[str], None]) -> None:
    info = dra_kubelet.get_info()
    dra_evidence(f"GetInfo: type={info.type} name={info.name} endpoint={info.endpoint}")
    assert info.type == "DRAPlugin", f"type is {info.type!r}; the kubelet wants 'DRAPlugin'"
    assert info.name == dra_profile.driver, (
        f"name is {info.name!r}, the driver profile says {dra_profile.driver!r}")
    endpoint = Path(info.endpoint)
    assert endpoint.is_absolute(), f"endpoint {info.endpoint!r} is not an absolute path"
    assert stat.S_ISSOCK(endpoint.stat().st_mode), f"endpoint {endpoint} is not a socket"


@pytest.mark.requirement("DRA-REG-002")
def test_supported_versions_list_a_known_dra_service(
        dra_kubelet: KubeletClient, dra_evidence: Callable[[str], None]) -> None:
    versions = dra_kubelet.get_info().supported_versions
    dra_evidence(f"supported_versions={list(versions)}")
    known = [v for v in versions if v in KNOWN_DRA_SERVICES]
    assert known, f"none of {list(versions)} is a DRA service the kubelet knows"
    if len(known) == 2:
        assert versions.index("v1.DRAPlugin") < versions.index("v1beta1.DRAPlugin"), (
            "v1beta1 is listed before v1: the kubelet takes the first it knows")


@pytest.mark.requirement("DRA-REG-003")
def test_registration_status_is_accepted(dra_kubelet: KubeletClient,
                                         dra_evidence: Callable[[str], None]) -> None:
    # Go's kubeletplugin helper answers a rejection with an error status; that is allowed,
    # but the driver must go on serving: the kubelet retries registration.
    try:
        dra_kubelet.notify(False, "conformance test: a rejection the driver must survive")
        rejected = "accepted"
    except grpc.RpcError as exc:
        rejected = f"answered {exc.code().name}"
    dra_kubelet.notify(True)
    info = dra_kubelet.get_info()
    dra_evidence(f"rejection {rejected}; success accepted; GetInfo still answers {info.name}")
