"""The CXL tree as written: the files libcxl and daxctl read, records, hot-plug and faults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.devices import cxl
from fakehw.devices.cxl import CXLKind
from fakehw.devices.cxl.memdev import serial_number
from fakehw.errors import ProfileError
from fakehw.tree import state as tree_state
from fakehw.tree.state import TreeState
from fakehw.tree.writer import TreeWriter
from tests.treesnap import snapshot

pytestmark = pytest.mark.unit

MiB = 1 << 20
ROOT0 = "devices/platform/ACPI0017:00/root0"


def read(path: Path) -> str:
    return path.read_text().strip()


def test_memdev_sits_under_its_pci_function_with_what_libcxl_reads(edge_tree: TreeState) -> None:
    record = edge_tree.find("cxl0")
    sys = Path(edge_tree.root) / "sys"
    function = sys / record.sysfs
    assert (read(function / "vendor"), read(function / "device"), read(function / "class")) == (
        "0x8086", "0x0d93", "0x050210")
    assert os.readlink(function / "driver").endswith("bus/pci/drivers/cxl_pci")
    mem = sys / "bus/cxl/devices/mem0"
    assert mem.resolve() == (function / "mem0").resolve()
    assert (read(mem / "ram/size"), read(mem / "pmem/size")) == (f"{1024 * MiB:#x}", "0x0")
    assert read(mem / "serial") == f"{record.attributes['serial']:#x}"
    assert (read(mem / "numa_node"), read(mem / "dev")) == ("0", "251:0")
    assert os.readlink(mem / "driver").endswith("bus/cxl/drivers/cxl_mem")
    assert (Path(edge_tree.root) / "dev/cxl/mem0").is_char_device()
    assert record.attributes["pcieRoot"] == "pci0000:80"


def test_serials_repeat_for_a_node_and_differ_between_nodes(tmp_path: Path) -> None:
    serials = []
    for run in range(2):
        state = machine.up(profiles.load("edge-node"), tmp_path / str(run), "node-a")
        serials.append(state.find("cxl0").attributes["serial"])
        machine.down(Path(state.root))
    assert serials[0] == serials[1] == serial_number("node-a", "cxl0")
    assert serial_number("node-b", "cxl0") != serials[0]
    assert 0 < serial_number("node-b", "cxl1") < 2**63  # fits the int64 a DRA attribute holds


def test_hierarchy_links_resolve_as_the_kernel_lays_them_out(edge_tree: TreeState) -> None:
    sys = Path(edge_tree.root) / "sys"
    expected = {"root0": ROOT0, "port1": f"{ROOT0}/port1",
                "endpoint2": f"{ROOT0}/port1/endpoint2", "decoder0.0": f"{ROOT0}/decoder0.0",
                "decoder1.0": f"{ROOT0}/port1/decoder1.0",
                "decoder2.0": f"{ROOT0}/port1/endpoint2/decoder2.0",
                "region0": f"{ROOT0}/decoder0.0/region0",
                "dax_region0": f"{ROOT0}/decoder0.0/region0/dax_region0"}
    for name, path in expected.items():
        assert (sys / "bus/cxl/devices" / name).resolve() == (sys / path).resolve(), name
    assert (sys / ROOT0 / "uport").resolve().name == "ACPI0017:00"
    assert (sys / ROOT0 / "dport128/physical_node").resolve().name == "pci0000:80"
    assert (sys / ROOT0 / "port1/endpoint2/uport").resolve().name == "mem0"
    assert read(sys / ROOT0 / "decoder0.0/target_list") == "128"
    assert read(sys / ROOT0 / "decoder0.0/devtype") == "cxl_decoder_root"
    region = sys / ROOT0 / "decoder0.0/region0"
    assert (region / "uuid").read_text() == "\n"
    assert (read(region / "mode"), read(region / "commit")) == ("ram", "1")
    assert (sys / "bus/cxl/flush").stat().st_mode & 0o200


def test_onlined_region_is_a_cpu_less_numa_node(edge_tree: TreeState) -> None:
    sys = Path(edge_tree.root) / "sys"
    nodes = sys / "devices/system/node"
    assert read(nodes / "node1/cpulist") == ""
    assert "Node 1 MemTotal:       524288 kB" in read(nodes / "node1/meminfo")
    assert (read(nodes / "has_memory"), read(nodes / "has_cpu")) == ("0-1", "0")
    assert read(nodes / "node1/distance") == "30 10"
    blocks = sorted(p.name for p in (nodes / "node1").glob("memory*"))
    assert len(blocks) == 4
    for block in blocks:
        assert read(sys / "devices/system/memory" / block / "state") == "online"
    dax = sys / "bus/dax/devices/dax0.0"
    assert (read(dax / "size"), read(dax / "target_node")) == (str(512 * MiB), "1")
    assert os.readlink(dax / "driver").endswith("bus/dax/drivers/kmem")
    assert (sys / "dev/char/252:0").resolve() == dax.resolve()


def test_unplug_takes_memdev_endpoint_region_and_node_and_replug_restores_them(
        edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    before = snapshot(root)
    assert machine.unplug(root, "cxl0") == ["cxl0-endpoint", "region0", "cxl0"]
    cxl.resync(root)
    sys = root / "sys"
    for gone in ("bus/cxl/devices/mem0", "bus/cxl/devices/endpoint2",
                 "bus/cxl/devices/decoder2.0", "bus/cxl/devices/region0",
                 "bus/dax/devices/dax0.0", "devices/system/node/node1", "dev/char/252:0"):
        assert not (sys / gone).exists(), gone
    assert not (root / "dev/cxl/mem0").exists()
    assert not (root / "dev/dax0.0").exists()
    assert read(sys / ROOT0 / "port1/decoder1.0/region") == ""
    assert read(sys / "devices/system/node/has_memory") == "0"
    assert read(sys / "devices/system/node/possible") == "0-1"
    machine.replug(root, "cxl0")
    cxl.resync(root)
    assert snapshot(root) == before


def test_after_hotplug_hook_is_what_resync_does(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    machine.unplug(root, "cxl0")
    CXLKind().after_hotplug(TreeWriter(root), tree_state.load(root))
    assert not (root / "sys/devices/system/node/node1").exists()


def test_failure_shows_fatal_aer_and_releases_the_memdev(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    record = edge_tree.find("cxl0")
    sys = root / "sys"
    before = snapshot(root)
    machine.set_health(root, "cxl0", healthy=False, reason="poison")
    assert "TOTAL_ERR_FATAL 1" in read(sys / record.sysfs / "aer_dev_fatal")
    assert not (sys / record.sysfs / "mem0/driver").exists()
    assert not (sys / "bus/cxl/drivers/cxl_mem/mem0").exists()
    machine.set_health(root, "cxl0", healthy=True)
    assert snapshot(root) == before


@pytest.mark.parametrize(("cxl_memory", "field"), [
    ("[{capacity: 2Gi, regions: [256Mi, 256Mi, 256Mi, 256Mi, 256Mi]}]",
     "spec.cxlMemory[0].regions"),
    ("[{capacity: 1Gi, count: 5}, {capacity: 1Gi, count: 4}]", "spec.cxlMemory"),
])
def test_profiles_beyond_the_hardware_are_refused(cxl_memory: str, field: str) -> None:
    with pytest.raises(ProfileError) as raised:
        profiles.parse(
            "apiVersion: fakehw.dev/v1alpha1\nkind: HardwareProfile\nmetadata: {name: big}\n"
            f"spec:\n  cxlMemory: {cxl_memory}\n")
    assert raised.value.field == field
