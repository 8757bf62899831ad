"""Devices set up by prepare are ready when prepare answers, checked on fakehw's hardware.

The kubelet starts the pod's containers as soon as NodePrepareResources answers, so whatever
prepare does to a device must be done by then. For an FPGA the suite makes an image the
device accepts, carrying a new accelerator ID, asks for it with the profile's parameters,
and reads the device's sysfs files the moment prepare answers.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from dra_conformance import groundtruth, slices
from dra_conformance.claims.model import DeviceRef, OpaqueConfig
from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket


@pytest.mark.requirement("DRA-PREP-013")
def test_an_fpga_is_operating_its_new_image_when_prepare_answers(
        sock: SocketTier, fakehw_root: Path, dra_node: str,
        dra_slices: list[dict[str, Any]]) -> None:
    assert sock.profile.fpga_programming is not None  # the profile's check for the feature
    fpgas = [(f, DeviceRef(*key)) for key, f in groundtruth.matched(
        groundtruth.pci_devices(fakehw_root), slices.entries(dra_slices, dra_node)).items()
             if f["kind"] == "fpga"]
    if not fpgas:
        pytest.fail(f"the driver claims fpgaProgramming, but publishes no FPGA of {dra_node}")
    fpga, device = fpgas[0]
    afu = secrets.token_hex(16)
    image = groundtruth.write_bitstream(fakehw_root, fpga, afu, f"conformance-{afu[:8]}.gbs")
    try:
        parameters = sock.profile.fpga_programming.asking_for(image.name, afu)
        ref = sock.claim([device], configs=[OpaqueConfig(sock.driver, parameters)])
        before = groundtruth.fpga_state(fakehw_root, fpga)
        result = sock.prepare(ref)
        state, shown = groundtruth.fpga_state(fakehw_root, fpga)  # at once: no wait
        sock.evidence(f"{fpga['name']} ({device.device}) showed {before}; asked for {image.name} "
                      f"with AFU {afu}; when prepare answered {result.error or 'success'}: "
                      f"manager {state!r}, port AFU {shown}")
        assert result.error == "", f"prepare of {ref} failed: {result.error}"
        assert (state, shown) == ("operating", afu), (
            f"prepare answered while {fpga['name']} was {state!r} with AFU {shown}, not "
            f"operating the claim's image (AFU {afu})")
    finally:
        image.unlink(missing_ok=True)
