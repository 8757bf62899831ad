"""Health from the tree (AER, FME and port errors, a released memdev), hot-plug, and noticing both.

Faults are injected with fakehw's ``set_health`` and ``unplug``, which show them the way the
kernel drivers would; the driver must read them back from the files alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dra_reference.discovery.model import Device
from dra_reference.discovery.node import NodeHardware
from dra_reference.health import InventoryHealth
from dra_reference.inventory import Inventory
from dra_reference.plugin.model import HealthStatus
from dra_reference.watch import TreeWatcher

from fakehw import machine, profiles
from fakehw.tree.state import TreeState

pytestmark = pytest.mark.unit
NODE = "node-a"


@pytest.fixture
def root(edge_tree: TreeState) -> Path:
    return Path(edge_tree.root)


@pytest.fixture
def inventory(root: Path) -> Inventory:
    hardware = NodeHardware(root / "sys", root / "dev")
    inventory = Inventory(lambda: {NODE: hardware.scan()})
    inventory.refresh()
    return inventory


@pytest.fixture
def watcher(root: Path, inventory: Inventory) -> Iterator[TreeWatcher]:
    watching = TreeWatcher(root / "sys", root / "dev")
    watching.follow(inventory.pools()[NODE])
    watching.wait(0.05)  # nothing pending
    yield watching
    watching.close()


def device(root: Path, kind: str) -> Device:
    return next(d for d in NodeHardware(root / "sys", root / "dev").scan() if d.kind == kind)


@pytest.mark.parametrize(("record", "kind", "words"), [
    ("gpu0", "gpu", ["1 fatal PCIe errors (AER)"]),
    ("fpga0", "fpga", ["1 fatal PCIe errors (AER)", "FME catfatal_errors 0x800",
                       "port errors 0x1"]),
    ("cxl0", "cxl", ["1 fatal PCIe errors (AER)", "cxl_mem released the memdev"]),
])
def test_a_failed_device_is_unhealthy_and_recovers(root: Path, record: str, kind: str,
                                                   words: list[str]) -> None:
    assert device(root, kind).healthy
    machine.set_health(root, record, healthy=False, reason="test")
    failed = device(root, kind)
    assert not failed.healthy
    for word in words:
        assert word in failed.health_message
    machine.set_health(root, record, healthy=True)
    assert device(root, kind).healthy


def test_an_unplugged_device_is_reported_vanished_until_it_returns(
        root: Path, inventory: Inventory) -> None:
    gpu = next(d for d in inventory.pools()[NODE] if d.kind == "gpu")
    machine.unplug(root, "gpu0")
    assert inventory.refresh()
    assert gpu.name not in {d.name for d in inventory.pools()[NODE]}
    assert inventory.lookup(NODE, gpu.name) is None
    health = {h.device: h for h in inventory.health()}
    assert health[gpu.name].status is HealthStatus.UNHEALTHY
    assert "vanished" in health[gpu.name].message
    machine.replug(root, "gpu0")
    assert inventory.refresh()
    assert {h.device: h.status for h in inventory.health()}[gpu.name] is HealthStatus.HEALTHY
    assert not inventory.refresh()  # nothing changed since


def test_lookup_rescans_for_a_device_it_does_not_know_yet(root: Path) -> None:
    machine.unplug(root, "fpga0")
    hardware = NodeHardware(root / "sys", root / "dev")
    inventory = Inventory(lambda: {NODE: hardware.scan()})
    inventory.refresh()
    fpga_name = "fpga-0000-03-00-0"
    assert inventory.lookup(NODE, fpga_name) is None
    machine.replug(root, "fpga0")
    found = inventory.lookup(NODE, fpga_name)
    assert found is not None
    assert found.kind == "fpga"


def test_the_watcher_notices_unplug_replug_and_faults(root: Path,
                                                     watcher: TreeWatcher) -> None:
    assert not watcher.wait(0.1)
    machine.unplug(root, "gpu1")
    assert watcher.wait(2)
    machine.replug(root, "gpu1")
    assert watcher.wait(2)
    machine.set_health(root, "fpga0", healthy=False, reason="test")
    assert watcher.wait(2)
    machine.set_health(root, "cxl0", healthy=False, reason="test")
    assert watcher.wait(2)


def test_the_health_source_sends_a_snapshot_on_every_change(root: Path,
                                                           inventory: Inventory) -> None:
    stop = threading.Event()
    stream = InventoryHealth(inventory).watch(stop)
    first = next(stream)
    assert {h.status for h in first} == {HealthStatus.HEALTHY}
    machine.set_health(root, "gpu0", healthy=False, reason="test")
    inventory.refresh()
    second = next(stream)
    assert HealthStatus.UNHEALTHY in {h.status for h in second}
    stop.set()


def test_every_profile_is_healthy_when_materialized(tmp_path: Path) -> None:
    for index, name in enumerate(profiles.builtin_names()):
        state = machine.up(profiles.load(name), tmp_path / f"hw{index}", NODE)
        found = NodeHardware(Path(state.root) / "sys", Path(state.root) / "dev").scan()
        assert found
        assert all(d.healthy for d in found), [d.health_message for d in found]
        machine.down(Path(state.root))
