"""A CXL region made and destroyed by sysfs writes alone, as a driver makes one, with the
tree's watcher playing the kernel; ndctl's ``cxl list`` and ``daxctl list`` judge the result.

The writes are plain file writes from the test, in ``cxl create-region -t ram`` and
``cxl destroy-region`` order; each step waits for the effect the watcher gives it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakehw import machine, profiles, runtime
from fakehw.tree import state as tree_state
from tests.tools.namespace import json_in_tree, objects, require

pytestmark = [pytest.mark.tools, pytest.mark.timeout(120)]
MiB = 1 << 20
ROOT_DECODER = "devices/platform/ACPI0017:00/root0/decoder0.0"


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Path]:
    """edge-node: mem0 of 1 GiB with region0 (512 MiB) on endpoint decoder slot 0."""
    require("cxl", "daxctl")
    state = runtime.up(profiles.load("edge-node"), tmp_path / "hw", "node-a", cameras=False)
    yield Path(state.root)
    machine.down(Path(state.root))


def write(path: Path, value: str) -> None:
    path.write_text(value)  # one open, one write, truncating: as echo > does


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {seconds}s"
        time.sleep(0.02)


def records(root: Path) -> tree_state.TreeState:
    """The records once the watcher is done with the write it is carrying out."""
    with tree_state.locked(root):
        return tree_state.load(root)


def read(path: Path) -> str:
    return path.read_text().strip()


def endpoint_decoder(root: Path, slot: int) -> Path:
    memdev = tree_state.load(root).find("cxl0")
    endpoint = root / "sys/bus/cxl/devices" / str(memdev.attributes["endpoint"])
    return endpoint.resolve() / f"decoder{str(memdev.attributes['endpoint'])[8:]}.{slot}"


def create(root: Path, size: int, slot: int = 1) -> str:
    """``cxl create-region -t ram -s SIZE``'s writes; returns the region's name."""
    decoder = root / "sys" / ROOT_DECODER
    name = read(decoder / "create_ram_region")
    write(decoder / "create_ram_region", name)
    region = decoder / name
    wait_for((region / "commit").exists, f"{region}")
    write(region / "interleave_granularity", read(decoder / "interleave_granularity"))
    write(region / "interleave_ways", "1")
    target = endpoint_decoder(root, slot)
    write(target / "mode", "ram")
    write(target / "dpa_size", f"{size:#x}")
    write(region / "size", f"{size:#x}")
    write(region / "target0", target.name)
    write(region / "commit", "1")
    write(root / "sys/bus/cxl/drivers/cxl_region/bind", name)
    return name


def destroy(root: Path, name: str, slot: int = 1) -> None:
    """``cxl destroy-region --force``'s writes."""
    region = root / "sys" / ROOT_DECODER / name
    write(root / "sys/bus/cxl/drivers/cxl_region/unbind", name)
    write(region / "commit", "0")
    write(region / "target0", "")
    write(endpoint_decoder(root, slot) / "dpa_size", "0")
    write(root / "sys" / ROOT_DECODER / "delete_region", name)
    wait_for(lambda: not region.exists(), f"removal of {region}")


def listed(root: Path) -> tuple[dict[str, dict[str, object]], dict[str, dict[str, object]]]:
    regions = objects(json_in_tree(root, "cxl", "list", "-R"), "region")
    daxes = objects(json_in_tree(root, "daxctl", "list", "-R", "-D"), "chardev")
    return regions, daxes


def test_a_region_made_by_writes_is_listed_and_goes_by_writes(edge: Path) -> None:
    name = create(edge, 256 * MiB)
    region = edge / "sys" / ROOT_DECODER / name
    wait_for((region / f"dax_{name}").is_dir, "DAX region")
    regions, daxes = listed(edge)
    assert regions[name]["size"] == 256 * MiB
    assert regions[name]["decode_state"] == "commit"
    assert f"dax{name[6:]}.0" in daxes
    memdev = records(edge).find("cxl0")
    assert memdev.attributes["freeCapacity"] == 256 * MiB
    assert (edge / "dev" / f"dax{name[6:]}.0").exists()
    node = records(edge).find(name).attributes["targetNode"]
    meminfo = edge / f"sys/devices/system/node/node{node}/meminfo"
    assert "786432 kB" in meminfo.read_text()  # region0's 512 MiB and this one's 256

    destroy(edge, name)
    regions, daxes = listed(edge)
    assert name not in regions
    assert f"dax{name[6:]}.0" not in daxes
    assert "region0" in regions
    state = records(edge)
    log = (tree_state.state_dir(edge) / "watcher.log").read_text()
    assert state.find("cxl0").attributes["freeCapacity"] == 512 * MiB, log
    assert [r.name for r in state.devices if r.kind == "cxl-region"] == ["region0"]
    assert not (edge / "dev" / f"dax{name[6:]}.0").exists()
    assert "524288 kB" in meminfo.read_text()


def test_a_region_larger_than_the_free_memory_is_refused_without_damage(edge: Path) -> None:
    before = listed(edge)
    name = create(edge, 768 * MiB)  # 512 MiB are free
    region = edge / "sys" / ROOT_DECODER / name
    target = endpoint_decoder(edge, 1)
    log = tree_state.state_dir(edge) / "watcher.log"
    wait_for(lambda: "bind" in log.read_text() and "ENXIO" in log.read_text(),
             "refusal of the bind")
    assert "refused (ENOSPC)" in log.read_text()
    assert read(region / "commit") == "0"
    assert int(read(target / "dpa_size"), 16) == 0
    assert not list(region.glob("dax_region*"))
    assert records(edge).find("cxl0").attributes["freeCapacity"] == 512 * MiB

    write(edge / "sys" / ROOT_DECODER / "delete_region", name)  # as destroy-region would
    wait_for(lambda: not region.exists(), "removal of the unfinished region")
    assert listed(edge) == before
    name = create(edge, 512 * MiB)  # the free memory is still all there
    wait_for((region.parent / name / f"dax_{name}").is_dir, "DAX region")
