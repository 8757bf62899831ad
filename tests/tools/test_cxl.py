"""ndctl's ``cxl list`` and ``daxctl list`` read the emulated CXL memory as they read a real one.

Each test runs the real tools (ndctl 76) with the tree bind-mounted over ``/sys`` and ``/dev``
in a private mount namespace, and checks what they print against the device records.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.devices import cxl
from fakehw.tree import state as tree_state
from tests.tools.namespace import json_in_tree, objects, require

pytestmark = [pytest.mark.tools, pytest.mark.timeout(120)]

MiB = 1 << 20
EVERYTHING = ("cxl", "list", "-M", "-R", "-D", "-E", "-P", "-T")


@pytest.fixture(autouse=True)
def _tools() -> None:
    require("cxl", "daxctl")


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Path]:
    state = machine.up(profiles.load("edge-node"), tmp_path / "hw", "node-a")
    yield Path(state.root)
    machine.down(Path(state.root))


def cxl_objects(root: Path, key: str, *options: str) -> dict[str, dict[str, object]]:
    return objects(json_in_tree(root, *EVERYTHING, *options), key)


def dax_devices(root: Path) -> dict[str, dict[str, object]]:
    return objects(json_in_tree(root, "daxctl", "list", "-R", "-D"), "chardev")


def test_edge_node_lists_memdev_decoders_region_and_dax_device(edge: Path) -> None:
    record = tree_state.load(edge).find("cxl0")
    memdevs = cxl_objects(edge, "memdev")
    assert memdevs == {"mem0": {"memdev": "mem0", "ram_size": 1024 * MiB,
                                "serial": record.attributes["serial"], "numa_node": 0,
                                "host": record.bdf}}
    decoders = cxl_objects(edge, "decoder")
    window = record.attributes["windowStart"]
    assert decoders["decoder0.0"]["size"] == 1024 * MiB
    assert decoders["decoder0.0"]["resource"] == window
    for name in ("decoder1.0", "decoder2.0"):  # host bridge, endpoint
        assert decoders[name]["region"] == "region0"
        assert (decoders[name]["resource"], decoders[name]["size"]) == (window, 512 * MiB)
    assert (decoders["decoder2.0"]["dpa_size"], decoders["decoder2.0"]["mode"]) == (
        512 * MiB, "ram")
    region = cxl_objects(edge, "region")["region0"]
    assert (region["size"], region["resource"], region["decode_state"]) == (
        512 * MiB, window, "commit")
    assert region["mappings"] == [{"position": 0, "memdev": "mem0", "decoder": "decoder2.0"}]
    assert cxl_objects(edge, "endpoint")["endpoint2"]["host"] == "mem0"
    assert cxl_objects(edge, "port")["port1"]["host"] == "pci0000:80"
    dax = dax_devices(edge)["dax0.0"]
    assert (dax["size"], dax["target_node"], dax["mode"]) == (512 * MiB, 1, "system-ram")
    assert (dax["online_memblocks"], dax["total_memblocks"]) == (4, 4)


@pytest.mark.parametrize("name", [n for n in profiles.builtin_names() if profiles.load(n).cxl])
def test_every_builtin_profile_lists_as_its_records_say(tmp_path: Path, name: str) -> None:
    state = machine.up(profiles.load(name), tmp_path / "hw", "node-a")
    try:
        root = Path(state.root)
        memdevs = cxl_objects(root, "memdev")
        records = [r for r in state.devices if r.kind == "cxl"]
        assert sorted(memdevs) == sorted(str(r.attributes["memdev"]) for r in records)
        for record in records:
            listed = memdevs[str(record.attributes["memdev"])]
            assert (listed["ram_size"], listed["serial"], listed["numa_node"], listed["host"]) \
                == (record.attributes["capacity"], record.attributes["serial"],
                    record.attributes["numaNode"], record.bdf)
        regions = [r for r in state.devices if r.kind == "cxl-region"]
        listed_regions = cxl_objects(root, "region")
        dax = dax_devices(root)
        assert sorted(listed_regions) == sorted(r.name for r in regions)
        for region in regions:
            assert listed_regions[region.name]["size"] == region.attributes["size"]
            device = dax[str(region.attributes["daxDevice"])]
            assert (device["size"], device["target_node"]) == (
                region.attributes["size"], region.attributes["targetNode"])
    finally:
        machine.down(Path(state.root))


def test_created_region_is_listed_and_a_deleted_one_is_gone(edge: Path) -> None:
    name = cxl.create_region(edge, "mem0", "256Mi")
    assert name == "region1"
    region = cxl_objects(edge, "region")["region1"]
    assert (region["size"], region["mappings"]) == (
        256 * MiB, [{"position": 0, "memdev": "mem0", "decoder": "decoder2.1"}])
    assert cxl_objects(edge, "decoder")["decoder1.1"]["region"] == "region1"
    dax = dax_devices(edge)["dax1.0"]
    assert (dax["size"], dax["target_node"], dax["online_memblocks"]) == (256 * MiB, 1, 2)
    cxl.delete_region(edge, name)
    assert sorted(cxl_objects(edge, "region")) == ["region0"]
    freed = cxl_objects(edge, "decoder", "-i")["decoder2.1"]
    assert (freed.get("region"), freed["state"]) == (None, "disabled")
    assert sorted(dax_devices(edge)) == ["dax0.0"]


def test_unplugged_memdev_leaves_the_listings_and_comes_back(edge: Path) -> None:
    assert machine.unplug(edge, "cxl0") == ["cxl0-endpoint", "region0", "cxl0"]
    cxl.resync(edge)  # what machine's after-hotplug hook does once it is wired
    assert cxl_objects(edge, "memdev", "-i") == {}
    assert cxl_objects(edge, "region", "-i") == {}
    reset = cxl_objects(edge, "decoder", "-i")["decoder1.0"]
    assert (reset.get("region"), reset["state"]) == (None, "disabled")
    assert dax_devices(edge) == {}
    machine.replug(edge, "cxl0")
    cxl.resync(edge)
    assert sorted(cxl_objects(edge, "memdev")) == ["mem0"]
    assert cxl_objects(edge, "decoder")["decoder1.0"]["region"] == "region0"
    assert sorted(dax_devices(edge)) == ["dax0.0"]


def test_failed_memdev_is_listed_only_as_disabled(edge: Path) -> None:
    machine.set_health(edge, "cxl0", healthy=False, reason="poison")
    assert cxl_objects(edge, "memdev") == {}
    assert cxl_objects(edge, "memdev", "-i")["mem0"]["state"] == "disabled"
    machine.set_health(edge, "cxl0", healthy=True)
    assert "state" not in cxl_objects(edge, "memdev")["mem0"]


def test_idle_listing_shows_the_same_objects(edge: Path) -> None:
    assert sorted(cxl_objects(edge, "decoder", "-i")) == sorted(
        ["decoder0.0", *(f"decoder{p}.{s}" for p in (1, 2) for s in range(4))])
    buses = objects(json_in_tree(edge, "cxl", "list", "-B", "-i"), "bus")
    assert buses["root0"]["provider"] == "ACPI.CXL"
