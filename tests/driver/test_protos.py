"""Our .proto files against the kubelet's own, fetched from the Go module proxy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from dra_kubelet_api._generated import (
    dra_health_v1_pb2,
    dra_health_v1alpha1_pb2,
    dra_v1_pb2,
    dra_v1beta1_pb2,
    pluginregistration_v1_pb2,
)
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

KUBELET_MODULE = "k8s.io/kubelet@v0.37.2"
OURS = Path(__file__).parents[2] / "api/dra_kubelet_api/protos"
PAIRS = {
    "pluginregistration/v1/api.proto": "pluginregistration_v1.proto",
    "dra/v1/api.proto": "dra_v1.proto",
    "dra/v1beta1/api.proto": "dra_v1beta1.proto",
    "dra-health/v1/api.proto": "dra_health_v1.proto",
    "dra-health/v1alpha1/api.proto": "dra_health_v1alpha1.proto",
}


def descriptor(include: Path, proto: Path, out: Path) -> bytes:
    """The compiled file descriptor without its file name and comments."""
    assert protoc.main(["protoc", f"-I{include}", f"--descriptor_set_out={out}",
                        str(proto)]) == 0
    files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    compiled = files.file[0]
    compiled.ClearField("name")
    compiled.ClearField("source_code_info")
    return compiled.SerializeToString(deterministic=True)


@pytest.fixture(scope="module")
def kubelet_apis() -> Path:
    """The kubelet's API folder from the Go module cache (downloaded if missing)."""
    done = subprocess.run(["go", "mod", "download", "-json", KUBELET_MODULE],
                          capture_output=True, text=True, timeout=300, check=True)
    return Path(json.loads(done.stdout)["Dir"]) / "pkg/apis"


@pytest.mark.tools
@pytest.mark.parametrize(("theirs", "ours"), PAIRS.items())
def test_descriptor_equals_the_kubelets(theirs: str, ours: str, tmp_path: Path,
                                        kubelet_apis: Path) -> None:
    assert descriptor(OURS, OURS / ours, tmp_path / "ours") == descriptor(
        kubelet_apis, kubelet_apis / theirs, tmp_path / "theirs")


@pytest.mark.unit
def test_service_names_as_the_kubelet_calls_them() -> None:
    assert [module.DESCRIPTOR.services_by_name[service].full_name for module, service in (
        (pluginregistration_v1_pb2, "Registration"), (dra_v1_pb2, "DRAPlugin"),
        (dra_v1beta1_pb2, "DRAPlugin"), (dra_health_v1_pb2, "DRAResourceHealth"),
        (dra_health_v1alpha1_pb2, "DRAResourceHealth"))] == [
        "pluginregistration.Registration", "k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin",
        "k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin", "v1.DRAResourceHealth",
        "v1alpha1.DRAResourceHealth"]
