"""CDI spec files: names, versions, atomic writes (no sockets)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dra_reference.cdi import ContainerEdits, DeviceNode, Mount, SpecDir, minimum_version
from dra_reference.errors import InvalidCDISpecError

pytestmark = pytest.mark.unit
NODE = DeviceNode("/dev/fake0", type="c", major=10, minor=200)


def spec(kind: str = "fakehw.dev/gpu", name: str = "a-0", **edits: object) -> dict[str, object]:
    return {"kind": kind, "devices": [{"name": name, "containerEdits": edits}]}


@pytest.mark.parametrize(("document", "version"), [
    (spec(env=["A=1"]), "0.3.0"),
    (spec(deviceNodes=[{"path": "/dev/x", "type": "c", "major": 1}]), "0.3.0"),
    (spec(mounts=[{"hostPath": "/a", "containerPath": "/b"}]), "0.3.0"),
    (spec(mounts=[{"hostPath": "/a", "containerPath": "/b", "type": "bind"}]), "0.4.0"),
    (spec(deviceNodes=[{"path": "/dev/x", "hostPath": "/host/x"}]), "0.5.0"),
    (spec(name="0b7f-gpu-0", env=["A=1"]), "0.5.0"),
    (spec(kind="fakehw.dev/gpu.vf", env=["A=1"]), "0.6.0"),
])
def test_minimum_version_follows_cdi_rules(document: dict[str, object], version: str) -> None:
    assert minimum_version(document) == version


def test_write_and_remove_a_claim_spec(tmp_path: Path) -> None:
    specs = SpecDir(tmp_path / "cdi", "fakehw.dev/gpu")
    edits = ContainerEdits(env=("A=1",), device_nodes=(NODE,),
                           mounts=(Mount("/host/fw", "/fw", options=("ro", "bind")),))
    ids = specs.write_claim("uid-1", [("gpu-0", edits)])
    assert ids == ["fakehw.dev/gpu=uid-1-gpu-0"]
    path = tmp_path / "cdi" / "fakehw.dev-gpu_uid-1.json"
    document = json.loads(path.read_text())
    assert document == {"cdiVersion": "0.3.0", "kind": "fakehw.dev/gpu", "devices": [
        {"name": "uid-1-gpu-0", "containerEdits": {
            "env": ["A=1"],
            "deviceNodes": [{"path": "/dev/fake0", "type": "c", "major": 10, "minor": 200}],
            "mounts": [{"hostPath": "/host/fw", "containerPath": "/fw",
                        "options": ["ro", "bind"]}]}}]}
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # may hold a claim's credentials
    assert specs.claim_uids() == {"uid-1"}
    assert specs.remove_claim("uid-1")
    assert not specs.remove_claim("uid-1")
    assert os.listdir(tmp_path / "cdi") == []


def test_a_device_twice_in_one_claim_gets_distinct_names(tmp_path: Path) -> None:
    specs = SpecDir(tmp_path, "fakehw.dev/cxl")
    edits = ContainerEdits(env=("A=1",))
    assert specs.write_claim("u", [("mem-0", edits), ("mem-0", edits)]) == [
        "fakehw.dev/cxl=u-mem-0", "fakehw.dev/cxl=u-mem-0-2"]


def test_devices_without_edits_get_no_id_and_no_file(tmp_path: Path) -> None:
    specs = SpecDir(tmp_path, "fakehw.dev/gpu")
    assert specs.write_claim("u", [("gpu-0", ContainerEdits())]) == [None]
    assert list(tmp_path.iterdir()) == []


def test_rewrite_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    specs = SpecDir(tmp_path, "fakehw.dev/gpu")
    specs.write_claim("u", [("gpu-0", ContainerEdits(env=("A=1",)))])
    specs.write_claim("u", [("gpu-0", ContainerEdits(env=("A=2",)))])
    assert [p.name for p in tmp_path.iterdir()] == ["fakehw.dev-gpu_u.json"]
    assert "A=2" in (tmp_path / "fakehw.dev-gpu_u.json").read_text()


def test_claim_uids_ignores_other_kinds_and_temp_files(tmp_path: Path) -> None:
    for name in ("fakehw.dev-gpu_a.json", ".fakehw.dev-gpu_b.json.x.tmp",
                 "fakehw.dev-fpga_c.json", "nvidia.com-gpu_d.json"):
        (tmp_path / name).write_text("{}")
    assert SpecDir(tmp_path, "fakehw.dev/gpu").claim_uids() == {"a"}


@pytest.mark.parametrize("kind", ["1vendor/gpu", "fakehw.dev/", "/gpu", "fake hw/gpu",
                                  "fakehw.dev/gpu-", "fakehw.dev/g@u"])
def test_bad_kinds_are_refused(tmp_path: Path, kind: str) -> None:
    with pytest.raises(InvalidCDISpecError, match="invalid CDI"):
        SpecDir(tmp_path, kind)


@pytest.mark.parametrize("edits", [
    ContainerEdits(env=("NOEQUALS",)),
    ContainerEdits(env=("=value",)),
    ContainerEdits(device_nodes=(DeviceNode("/dev/x", type="z"),)),
    ContainerEdits(device_nodes=(DeviceNode(""),)),
    ContainerEdits(device_nodes=(DeviceNode("/dev/x", permissions="rwx"),)),
    ContainerEdits(mounts=(Mount("", "/b"),)),
])
def test_edits_runtimes_would_refuse_are_refused(tmp_path: Path, edits: ContainerEdits) -> None:
    with pytest.raises(InvalidCDISpecError):
        SpecDir(tmp_path, "fakehw.dev/gpu").write_claim("u", [("gpu-0", edits)])
    assert list(tmp_path.iterdir()) == []


def test_device_names_must_be_cdi_names(tmp_path: Path) -> None:
    with pytest.raises(InvalidCDISpecError, match="device name"):
        SpecDir(tmp_path, "fakehw.dev/gpu").write_claim("u", [("gpu/0", ContainerEdits(
            env=("A=1",)))])


def test_edits_survive_a_json_round_trip() -> None:
    edits = ContainerEdits(env=("A=1",), device_nodes=(
        DeviceNode("/dev/x", "/host/x", "b", 8, 1, "rw"),), mounts=(Mount("/a", "/b", "bind",
                                                                         ("ro",)),))
    assert ContainerEdits.from_json(edits.to_json()) == edits
