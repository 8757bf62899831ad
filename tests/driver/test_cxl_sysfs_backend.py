"""The driver's own CXL backend, ``SysfsRegions``, against a fakehw tree whose watcher plays
the kernel: regions are made and destroyed by the kernel's sysfs writes alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dra_reference.discovery.model import Device
from dra_reference.discovery.node import NodeHardware
from dra_reference.errors import PreparerError
from dra_reference.preparers.cxlregions import RegionBusyError, SysfsRegions

from fakehw import machine, profiles, runtime
from fakehw.tree import state as tree_state

pytestmark = [pytest.mark.tools, pytest.mark.timeout(120)]
MI = 2**20


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """edge-node: mem0 of 1 GiB, region0 (512 MiB) made at start."""
    state = runtime.up(profiles.load("edge-node"), tmp_path / "hw", "node-a", cameras=False)
    yield Path(state.root)
    machine.down(Path(state.root))


def memdev(root: Path) -> Device:
    [device] = [d for d in NodeHardware(root / "sys", root / "dev", ("cxl",)).scan()
                if d.kind == "cxl"]
    return device


def state(root: Path) -> tree_state.TreeState:
    """The records once the watcher is done with the write it is carrying out."""
    with tree_state.locked(root):
        return tree_state.load(root)


def regions(root: Path) -> list[str]:
    return [r.name for r in state(root).devices if r.kind == "cxl-region"]


def test_create_and_delete_through_the_kernel_abi(root: Path) -> None:
    backend = SysfsRegions(root / "sys")
    reserved: list[str] = []
    name = backend.create(memdev(root), 256 * MI, reserved.append)
    assert reserved == [name]
    assert regions(root) == ["region0", name]
    record = state(root).find(name)
    assert record.attributes["state"] == "online"
    assert (root / "dev" / str(record.attributes["daxDevice"])).exists()
    with pytest.raises(RegionBusyError):
        backend.delete("region0")  # below the new one
    backend.delete(name)
    assert regions(root) == ["region0"]
    log = (tree_state.state_dir(root) / "watcher.log").read_text()
    assert state(root).find("cxl0").attributes["freeCapacity"] == 512 * MI, log
    backend.delete("region0")  # made whole at start; the same writes take it apart
    assert regions(root) == []
    log = (tree_state.state_dir(root) / "watcher.log").read_text()
    assert state(root).find("cxl0").attributes["freeCapacity"] == 1024 * MI, log


def test_too_large_a_region_times_out_and_leaves_no_reservation(root: Path) -> None:
    backend = SysfsRegions(root / "sys", wait_seconds=1)
    with pytest.raises(PreparerError, match="DAX device"):
        backend.create(memdev(root), 768 * MI, lambda _name: None)
    assert state(root).find("cxl0").attributes["freeCapacity"] == 512 * MI
    assert "ENOSPC" in (tree_state.state_dir(root) / "watcher.log").read_text()
