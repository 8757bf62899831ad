"""Opaque parameters: versioned types per kind, validated strictly, errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from dra_reference.errors import InvalidRequestError
from dra_reference.params.decode import InvalidParametersError, config_for
from dra_reference.params.types import CameraConfig, CxlConfig, FpgaConfig, GpuConfig
from dra_reference.plugin.model import OpaqueConfig
from dra_reference.quantity import parse_bytes

pytestmark = pytest.mark.unit
GPU = {"apiVersion": "gpu.fakehw.dev/v1alpha1", "kind": "GpuConfig"}
FPGA = {"apiVersion": "fpga.fakehw.dev/v1alpha1", "kind": "FpgaConfig"}
CAMERA = {"apiVersion": "camera.fakehw.dev/v1alpha1", "kind": "CameraConfig"}
CXL = {"apiVersion": "cxl.fakehw.dev/v1alpha1", "kind": "CxlConfig"}


def claim(parameters: Any, *requests: str) -> OpaqueConfig:
    return OpaqueConfig("FromClaim", requests, parameters)


def klass(parameters: Any) -> OpaqueConfig:
    return OpaqueConfig("FromClass", (), parameters)


def test_no_configuration_means_the_defaults() -> None:
    assert config_for("gpu", []) == GpuConfig()
    assert config_for("fpga", []) == FpgaConfig()
    assert config_for("camera", []) == CameraConfig("tcp")
    assert config_for("cxl", []) == CxlConfig(dax_device=True)


def test_each_kind_reads_its_own_type() -> None:
    assert config_for("gpu", [claim({**GPU, "sharing": {
        "strategy": "TimeSlicing", "timeSlicing": {"interval": "Long"}},
        "features": ["fp64", "ecc", "fp64"]})]) == GpuConfig("TimeSlicing", "Long",
                                                             ("fp64", "ecc"))
    assert config_for("fpga", [claim({
        **FPGA, "bitstream": "intel/nlb0.gbs", "afuID": "D8424DC4-A4A3-C413-F89E-433683F9040B",
        "programTimeoutSeconds": 5, "setup": {"lanes": 4, "mode": "fast", "dma": True}})]) == \
        FpgaConfig("intel/nlb0.gbs", "d8424dc4a4a3c413f89e433683f9040b", 5,
                   {"lanes": 4, "mode": "fast", "dma": True})
    assert config_for("camera", [claim({**CAMERA, "transport": "udp"})]) == CameraConfig("udp")
    assert config_for("cxl", [claim({**CXL, "daxDevice": False})]) == CxlConfig(False)


def test_the_claim_overrides_the_class_field_by_field() -> None:
    config = config_for("gpu", [klass({**GPU, "features": ["media"]}),
                                claim({**GPU, "sharing": {"strategy": "TimeSlicing"}})])
    assert config == GpuConfig("TimeSlicing", "Default", ("media",))
    config = config_for("gpu", [klass({**GPU, "features": ["media"]}),
                                claim({**GPU, "features": ["p2p"]})])
    assert config.features == ("p2p",)


def test_configs_for_other_kinds_are_left_to_their_devices() -> None:
    configs = [claim({**FPGA, "bitstream": "a.gbs"}), claim({**GPU, "features": ["ecc"]})]
    assert config_for("gpu", configs) == GpuConfig(features=("ecc",))
    assert config_for("fpga", configs).bitstream == "a.gbs"
    assert config_for("cxl", configs) == CxlConfig()


@pytest.mark.parametrize(("kind", "parameters", "words"), [
    ("gpu", {**GPU, "sharring": {}}, ["FromClaim config for gpu", "GpuConfig",
                                       "unknown field 'sharring'"]),
    ("gpu", {**GPU, "sharing": {"strategy": "Shared"}}, ["GpuConfig.sharing.strategy",
                                                         "'Shared' is not one of"]),
    ("gpu", {**GPU, "sharing": {"timeSlicing": {"interval": "Short"}}},
     ["GpuConfig.sharing.timeSlicing", "only allowed with strategy TimeSlicing"]),
    ("gpu", {**GPU, "sharing": {"strategy": "TimeSlicing", "timeSlicing": {"every": 1}}},
     ["GpuConfig.sharing.timeSlicing", "unknown field 'every'"]),
    ("gpu", {**GPU, "features": ["fp64", "warp"]}, ["GpuConfig.features[1]", "'warp'"]),
    ("gpu", {**GPU, "features": "fp64"}, ["GpuConfig.features", "list of strings"]),
    ("gpu", {"apiVersion": "gpu.fakehw.dev/v1", "kind": "GpuConfig"},
     ["version 'v1' of gpu.fakehw.dev is not served", "gpu.fakehw.dev/v1alpha1"]),
    ("gpu", {"apiVersion": "gpu.fakehw.dev/v1alpha1", "kind": "GPUConfig"},
     ["has no kind 'GPUConfig'", "use GpuConfig"]),
    ("gpu", {"apiVersion": "gpu.example.com/v1", "kind": "Config"},
     ["'gpu.example.com/v1' is not served by this driver"]),
    ("gpu", {"features": ["fp64"]}, ["apiVersion and kind are required"]),
    ("fpga", {**FPGA, "bitstream": "../../etc/passwd"}, ["FpgaConfig.bitstream"]),
    ("fpga", {**FPGA, "bitstream": "/lib/firmware/a.gbs"}, ["FpgaConfig.bitstream"]),
    ("fpga", {**FPGA, "afuID": "1234"}, ["FpgaConfig.afuID", "128-bit"]),
    ("fpga", {**FPGA, "programTimeoutSeconds": 0}, ["FpgaConfig.programTimeoutSeconds"]),
    ("fpga", {**FPGA, "programTimeoutSeconds": True}, ["must be an integer"]),
    ("fpga", {**FPGA, "setup": {"bad-name": 1}}, ["FpgaConfig.setup.bad-name"]),
    ("fpga", {**FPGA, "setup": {"lanes": [1]}}, ["FpgaConfig.setup.lanes"]),
    ("camera", {**CAMERA, "transport": "http"}, ["CameraConfig.transport"]),
    ("cxl", {**CXL, "daxDevice": "yes"}, ["CxlConfig.daxDevice", "true or false"]),
    ("cxl", {**CXL, "size": "1Gi"}, ["CxlConfig", "unknown field 'size'"]),
])
def test_bad_parameters_name_the_config_and_field(kind: str, parameters: dict[str, Any],
                                                  words: list[str]) -> None:
    with pytest.raises(InvalidParametersError) as failure:
        config_for(kind, [claim(parameters, "gpu")])
    for word in words:
        assert word in str(failure.value)
    assert isinstance(failure.value, ValueError)
    assert not failure.value.retryable


def test_a_bad_class_config_is_named_as_such() -> None:
    with pytest.raises(InvalidParametersError, match="FromClass config for all requests"):
        config_for("gpu", [klass({**GPU, "features": ["warp"]}), claim(GPU)])


@pytest.mark.parametrize(("text", "count"), [
    ("512Mi", 512 * 2**20), ("1Gi", 2**30), ("268435456", 268435456), ("1G", 10**9),
    ("0.5Gi", 2**29), ("1e3", 1000), ("2k", 2000)])
def test_quantities_are_read_as_bytes(text: str, count: int) -> None:
    assert parse_bytes(text) == count


@pytest.mark.parametrize("text", ["1.5", "abc", "1Xi", "0.1Ki"])
def test_bad_quantities_are_refused(text: str) -> None:
    with pytest.raises(InvalidRequestError):
        parse_bytes(text)
