"""Creating and deleting CXL regions on a running tree, and every bad input leaving it as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.devices import cxl
from fakehw.errors import DeviceStateError, UnknownDeviceError
from fakehw.tree import state as tree_state
from fakehw.tree.state import TreeState
from tests.treesnap import snapshot

pytestmark = pytest.mark.unit

MiB = 1 << 20


def read(path: Path) -> str:
    return path.read_text().strip()


@pytest.mark.parametrize(("action", "error", "message"), [
    (lambda r: cxl.create_region(r, "mem7", "256Mi"), UnknownDeviceError,
     r"no CXL memdev 'mem7'.*memdevs: mem0"),
    (lambda r: cxl.create_region(r, "gpu0", "256Mi"), UnknownDeviceError, "memdevs: mem0"),
    (lambda r: cxl.create_region(r, "mem0", "768Mi"), cxl.CapacityError,
     "768Mi does not fit on mem0: 512Mi of 1Gi is free"),
    (lambda r: cxl.create_region(r, "mem0", "300Mi"), cxl.RegionSizeError,
     "not a positive multiple of 256Mi.*like 512Mi"),
    (lambda r: cxl.create_region(r, "mem0", 0), cxl.RegionSizeError, "positive multiple"),
    (lambda r: cxl.create_region(r, "mem0", -256 * MiB), cxl.RegionSizeError, "positive"),
    (lambda r: cxl.create_region(r, "mem0", "lots"), cxl.RegionSizeError, "'lots' is not a size"),
    (lambda r: cxl.delete_region(r, "region9"), UnknownDeviceError,
     r"no CXL region 'region9'.*regions: region0"),
    (lambda r: cxl.delete_region(r, "cxl0"), UnknownDeviceError, "no CXL region 'cxl0'"),
])
def test_bad_input_is_refused_with_the_fix_and_changes_nothing(
        edge_tree: TreeState, action: Callable[[Path], object], error: type[Exception],
        message: str) -> None:
    root = Path(edge_tree.root)
    before = snapshot(root, skip=())
    with pytest.raises(error, match=message):
        action(root)
    assert snapshot(root, skip=()) == before


def test_bad_sizes_are_value_errors(edge_tree: TreeState) -> None:
    with pytest.raises(ValueError, match="256Mi"):
        cxl.create_region(Path(edge_tree.root), "mem0", "100Mi")


def test_double_delete_is_refused_and_changes_nothing(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    name = cxl.create_region(root, "mem0", "256Mi")
    cxl.delete_region(root, name)
    before = snapshot(root, skip=())
    with pytest.raises(UnknownDeviceError, match="already deleted"):
        cxl.delete_region(root, name)
    assert snapshot(root, skip=()) == before


def test_regions_are_freed_from_the_top_only(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    cxl.create_region(root, "mem0", "256Mi")
    before = snapshot(root, skip=())
    with pytest.raises(cxl.RegionOrderError, match="delete region1 first"):
        cxl.delete_region(root, "region0")
    assert snapshot(root, skip=()) == before


def test_create_then_delete_gives_back_the_same_tree(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    before = snapshot(root)
    name = cxl.create_region(root, "0000:81:00.0", 256 * MiB)  # by PCI address, in bytes
    assert snapshot(root) != before
    cxl.delete_region(root, name)
    assert snapshot(root) == before


def test_created_region_updates_decoders_numa_node_and_record(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    sys = root / "sys"
    assert cxl.create_region(root, "cxl0", "512Mi") == "region1"
    state = tree_state.load(root)
    region = state.find("region1")
    assert (region.kind, region.parent, region.attributes["size"]) == (
        "cxl-region", "cxl0", 512 * MiB)
    assert state.find("cxl0").attributes["freeCapacity"] == 0
    assert state.find("cxl0").attributes["regions"] == "region0,region1"
    ep = sys / "devices/platform/ACPI0017:00/root0/port1/endpoint2"
    assert read(ep / "decoder2.1/region") == "region1"
    assert read(ep / "decoder2.1/dpa_resource") == f"{512 * MiB:#x}"
    assert read(ep / "decoders_committed") == "2"
    assert read(sys / "bus/cxl/devices/region1/target0") == "decoder2.1"
    assert read(sys / "bus/cxl/devices/decoder0.0/create_ram_region") == "region2"
    assert (root / "dev/dax1.0").is_char_device()
    assert read(sys / "bus/dax/devices/dax1.0/target_node") == "1"
    node = sys / "devices/system/node/node1"
    assert read(node / "cpulist") == ""
    assert "Node 1 MemTotal:       1048576 kB" in read(node / "meminfo")
    assert len(list(node.glob("memory*"))) == 8


def test_a_fifth_region_finds_no_decoder(tmp_path: Path) -> None:
    profile = profiles.parse(PROFILE.format(regions="[256Mi, 256Mi, 256Mi, 256Mi]"))
    root = Path(machine.up(profile, tmp_path / "hw").root)
    try:
        before = snapshot(root, skip=())
        with pytest.raises(cxl.CapacityError, match="all 4 of its HDM decoders"):
            cxl.create_region(root, "mem0", "256Mi")
        assert snapshot(root, skip=()) == before
    finally:
        machine.down(root)


def test_unplugged_or_failed_memdev_takes_no_region(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    machine.set_health(root, "cxl0", healthy=False, reason="media error")
    with pytest.raises(DeviceStateError, match="media error"):
        cxl.create_region(root, "mem0", "256Mi")
    machine.set_health(root, "cxl0", healthy=True)
    machine.unplug(root, "cxl0")
    before = snapshot(root, skip=())
    with pytest.raises(DeviceStateError, match="replug cxl0"):
        cxl.create_region(root, "mem0", "256Mi")
    with pytest.raises(DeviceStateError, match="replug cxl0"):
        cxl.delete_region(root, "region0")
    assert snapshot(root, skip=()) == before


PROFILE = """
apiVersion: fakehw.dev/v1alpha1
kind: HardwareProfile
metadata: {{name: cxl-test}}
spec:
  cpu: {{numaNodes: 1, cpusPerNode: 2}}
  cxlMemory: [{{capacity: 2Gi, regions: {regions}}}]
"""
