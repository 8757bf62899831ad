"""Hardware profiles: the built-ins load, and every invalid input names its field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakehw import profiles
from fakehw.errors import ProfileError

pytestmark = pytest.mark.unit

HEADER = "apiVersion: fakehw.dev/v1alpha1\nkind: HardwareProfile\nmetadata: {name: t}\n"


def test_builtins_cover_the_required_nodes() -> None:
    edge = profiles.load("edge-node")
    assert (len(edge.gpus), len(edge.fpgas), len(edge.cameras), len(edge.cxl)) == (2, 1, 1, 1)
    dense = profiles.load("gpu-sriov-8")
    assert len(dense.gpus) == 8
    assert all(gpu.sriov_vfs > 0 for gpu in dense.gpus)
    mixed = profiles.load("numa-mixed")
    assert mixed.numa_nodes == 2
    assert {g.numa_node for g in mixed.gpus} == {0, 1}
    assert {g.model.kernel_driver for g in mixed.gpus} == {"amdgpu", "nvidia"}


def test_gpu_vendors_include_intel_and_others() -> None:
    drivers = {g.model.kernel_driver for name in profiles.builtin_names()
               for g in profiles.load(name).gpus}
    assert {"i915", "xe"} & drivers
    assert drivers - {"i915", "xe"}


def test_profile_from_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(HEADER + "spec:\n  gpus: [{model: amd-mi210, count: 3, memory: 32Gi}]\n")
    profile = profiles.load(path)
    assert [g.memory_bytes for g in profile.gpus] == [32 * 2**30] * 3


@pytest.mark.parametrize(("spec", "field", "fix"), [
    ("gpus: [{model: geforce-9000}]", "spec.gpus[0].model", "intel-arc-a770"),
    ("gpus: [{model: amd-mi210, memroy: 1Gi}]", "spec.gpus[0].memroy", "use one of"),
    ("gpus: [{model: intel-arc-a770, sriovVFs: 2}]", "spec.gpus[0].sriovVFs", "SR-IOV capable"),
    ("gpus: [{model: amd-mi210, numaNode: 3}]", "spec.gpus[0].numaNode", "from 0 to 0"),
    ("gpus: [{model: amd-mi210, memory: lots}]", "spec.gpus[0].memory", "16Gi"),
    ("gpus: [{model: amd-mi210, count: 0}]", "spec.gpus[0].count", "from 1 to 64"),
    ("gpus: {model: amd-mi210}", "spec.gpus", "YAML list"),
    ("fpgas: [{model: intel-pac-n3000, compatId: xyz}]", "spec.fpgas[0].compatId", "32 hex"),
    ("fpgas: [{model: intel-pac-n3000, programmingTime: soon}]",
     "spec.fpgas[0].programmingTime", "300ms"),
    ("cxlMemory: [{capacity: 100Mi}]", "spec.cxlMemory[0].capacity", "multiple of 256Mi"),
    ("cxlMemory: [{capacity: 512Mi, regions: [256Mi, 512Mi]}]",
     "spec.cxlMemory[0].regions", "shrink"),
    ("cameras: [{name: a}, {name: a}]", "spec.cameras[1].name", "its own name"),
    ("cameras: [{name: a, resolution: 641x480}]", "spec.cameras[0].resolution", "640x360"),
    ("cameras: [{name: a, listen: 'localhost:99999'}]", "spec.cameras[0].listen", "127.0.0.1"),
    ("cameras: [{name: a, codec: mjpeg}]", "spec.cameras[0].codec", "h264"),
    ("cameras: [{name: a, auth: kerberos}]", "spec.cameras[0].auth", "digest"),
    ("tpus: []", "spec.tpus", "use one of"),
])
def test_invalid_profiles_name_field_and_fix(spec: str, field: str, fix: str) -> None:
    with pytest.raises(ProfileError) as raised:
        profiles.parse(HEADER + "spec:\n  " + spec + "\n", "test.yaml")
    assert raised.value.field == field
    assert fix in str(raised.value)
    assert str(raised.value).startswith("test.yaml: ")
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(("text", "field"), [
    ("apiVersion: fakehw.dev/v9\nkind: HardwareProfile\n", "apiVersion"),
    ("apiVersion: fakehw.dev/v1alpha1\nkind: NodeProfile\nmetadata: {name: t}\n", "kind"),
    ("apiVersion: fakehw.dev/v1alpha1\nkind: HardwareProfile\nmetadata: {name: Bad_Name}\n",
     "metadata.name"),
    ("- just\n- a list\n", "apiVersion"),
    ("key: [unclosed\n", "<document>"),
])
def test_invalid_documents(text: str, field: str) -> None:
    with pytest.raises(ProfileError) as raised:
        profiles.parse(text, "doc.yaml")
    assert raised.value.field == field


def test_unknown_profile_lists_the_builtins() -> None:
    with pytest.raises(ProfileError, match="edge-node"):
        profiles.load("no-such-profile")
