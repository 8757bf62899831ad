"""Bringing trees up and down, hot-plug and health faults, and their bad inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.errors import DeviceStateError, TreeError, UnknownDeviceError
from fakehw.tree.state import TreeState
from tests.treesnap import snapshot

pytestmark = pytest.mark.unit


def test_down_removes_everything_and_twice_is_harmless(tmp_path: Path) -> None:
    root = tmp_path / "hw"
    machine.up(profiles.load("edge-node"), root, "node-a")
    assert machine.down(root) is True
    assert not root.exists()
    assert machine.down(root) is False


def test_down_keeps_a_root_it_did_not_create(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    machine.up(profiles.load("edge-node"), tmp_path, "node-a")
    machine.down(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_up_twice_is_refused(edge_tree: TreeState) -> None:
    with pytest.raises(TreeError, match="fakehw down"):
        machine.up(profiles.load("edge-node"), Path(edge_tree.root))


def test_failed_up_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("fakehw.devices.gpu._write_vendor_extras", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        machine.up(profiles.load("edge-node"), tmp_path / "hw")
    assert not (tmp_path / "hw").exists()


def test_unplug_removes_the_subtree_and_every_link(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    gpu = edge_tree.find("gpu0")
    card = gpu.attributes["card"]
    machine.unplug(root, "gpu0")
    assert not (root / "sys" / gpu.sysfs).exists()
    assert not (root / "sys/bus/pci/devices" / gpu.bdf).is_symlink()
    assert not (root / f"sys/class/drm/{card}").is_symlink()
    assert not (root / f"dev/dri/{card}").exists()
    assert not (root / f"dev/dri/by-path/pci-{gpu.bdf}-card").is_symlink()
    assert (root / "sys/bus/pci/devices" / edge_tree.find("gpu1").bdf).exists()


def test_replug_restores_the_tree_exactly(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    before = snapshot(root)
    assert machine.unplug(root, "gpu1") == ["gpu1"]
    assert snapshot(root) != before
    assert machine.replug(root, "gpu1") == ["gpu1"]
    assert snapshot(root) == before


def test_vfs_go_with_their_pf(sriov_tree: TreeState) -> None:
    root = Path(sriov_tree.root)
    before = snapshot(root)
    removed = machine.unplug(root, "0000:01:00.0")
    assert removed == ["gpu0-vf0", "gpu0-vf1", "gpu0-vf2", "gpu0-vf3", "gpu0"]
    assert not (root / "sys/bus/pci/devices/0000:01:00.3").exists()
    with pytest.raises(DeviceStateError, match="replug gpu0"):
        machine.replug(root, "gpu0-vf1")
    with pytest.raises(DeviceStateError, match="already unplugged"):
        machine.unplug(root, "gpu0")
    machine.replug(root, "gpu0")
    assert snapshot(root) == before


@pytest.mark.parametrize(("action", "error", "message"), [
    (lambda r: machine.unplug(r, "gpu9"), UnknownDeviceError, "devices: gpu0, gpu1"),
    (lambda r: machine.replug(r, "gpu0"), DeviceStateError, "unplug it first"),
    (lambda r: machine.set_health(r, "tpu0", False), UnknownDeviceError, "no device 'tpu0'"),
])
def test_bad_device_operations(edge_tree: TreeState, action: object, error: type[Exception],
                               message: str) -> None:
    root = Path(edge_tree.root)
    before = snapshot(root, skip=())
    with pytest.raises(error, match=message):
        action(root)  # type: ignore[operator]
    assert snapshot(root, skip=()) == before


def test_a_vf_cannot_be_unplugged_alone(sriov_tree: TreeState) -> None:
    root = Path(sriov_tree.root)
    before = snapshot(root, skip=())
    with pytest.raises(DeviceStateError, match="unplug gpu2"):
        machine.unplug(root, "gpu2-vf3")
    assert snapshot(root, skip=()) == before


def test_double_unplug_is_refused_and_changes_nothing(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    machine.unplug(root, "gpu0")
    before = snapshot(root, skip=())
    with pytest.raises(DeviceStateError, match="already unplugged"):
        machine.unplug(root, "gpu0")
    assert snapshot(root, skip=()) == before


def test_unhealthy_gpu_shows_a_fatal_aer_error(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    gpu = edge_tree.find("gpu0")
    fatal = root / "sys" / gpu.sysfs / "aer_dev_fatal"
    assert "TOTAL_ERR_FATAL 0" in fatal.read_text()
    machine.set_health(root, "gpu0", healthy=False, reason="GuC hang")
    assert "TOTAL_ERR_FATAL 1" in fatal.read_text()
    assert "GuC hang" in (root / "sys" / gpu.sysfs / "drm/card0/error").read_text()
    machine.set_health(root, "gpu0", healthy=True)
    assert "TOTAL_ERR_FATAL 0" in fatal.read_text()


def test_unplugged_device_health_is_refused(edge_tree: TreeState) -> None:
    machine.unplug(Path(edge_tree.root), "gpu0")
    with pytest.raises(DeviceStateError, match="replug"):
        machine.set_health(Path(edge_tree.root), "gpu0", healthy=False)
