"""GPU trees have the files, formats and link targets real GPU drivers read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.tree.state import TreeState

pytestmark = pytest.mark.unit


def read(path: Path) -> str:
    return path.read_text().strip()


def test_pci_device_links_and_attributes(sriov_tree: TreeState) -> None:
    sys = Path(sriov_tree.root) / "sys"
    link = sys / "bus/pci/devices/0000:01:00.0"
    assert os.readlink(link) == "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0"
    device = link.resolve()
    assert (read(device / "vendor"), read(device / "device")) == ("0x8086", "0x56c0")
    assert read(device / "class") == "0x038000"
    assert read(device / "numa_node") == "0"
    assert read(device / "local_cpulist") == "0-31"
    assert os.readlink(device / "driver") == "../../../../bus/pci/drivers/i915"
    assert (sys / "bus/pci/drivers/i915/0000:01:00.0").resolve() == device
    assert (device / "iommu_group").resolve().parent.name == "iommu_groups"
    assert len((device / "config").read_bytes()) >= 256
    assert (device / "config").read_bytes()[:4] == bytes.fromhex("8680c056")


def test_sriov_links_are_exact(sriov_tree: TreeState) -> None:
    device = Path(sriov_tree.root) / "sys/bus/pci/devices/0000:01:00.0"
    assert read(device / "sriov_totalvfs") == "31"
    assert read(device / "sriov_numvfs") == "4"
    assert [os.readlink(device / f"virtfn{n}") for n in range(4)] == [
        f"../0000:01:00.{n + 1}" for n in range(4)]
    vf = Path(sriov_tree.root) / "sys/bus/pci/devices/0000:01:00.1"
    assert os.readlink(vf / "physfn") == "../0000:01:00.0"


def test_drm_nodes(sriov_tree: TreeState) -> None:
    root = Path(sriov_tree.root)
    card = root / "sys/class/drm/card0"
    assert card.resolve() == (root / "sys/bus/pci/devices/0000:01:00.0/drm/card0").resolve()
    assert read(card / "dev") == "226:0"
    assert "DEVTYPE=drm_minor" in read(card / "uevent")
    assert os.readlink(card.resolve() / "device") == "../../../0000:01:00.0"
    assert read(root / "sys/class/drm/renderD128/dev") == "226:128"
    assert read(card / "lmem_total_bytes") == str(16 * 2**30)
    node = (root / "dev/dri/card0").lstat()
    assert os.major(node.st_rdev) == 226
    assert os.minor(node.st_rdev) == 0
    assert os.readlink(root / "dev/dri/by-path/pci-0000:01:00.0-render") == "../renderD128"


def test_pcie_root_follows_numa(sriov_tree: TreeState) -> None:
    roots = {r.attributes["pcieRoot"] for r in sriov_tree.devices if r.kind == "gpu"}
    assert roots == {"pci0000:00", "pci0000:10"}


def test_vendor_extras(tmp_path: Path) -> None:
    state = machine.up(profiles.load("numa-mixed"), tmp_path / "hw", "node-c")
    root = Path(state.root)
    amd = next(r for r in state.devices if r.attributes.get("driver") == "amdgpu")
    assert read(root / "sys" / amd.sysfs / "mem_info_vram_total") == str(64 * 2**30)
    properties = read(root / "sys/class/kfd/kfd/topology/nodes/0/properties")
    assert "drm_render_minor 128" in properties
    nvidia = next(r for r in state.devices if r.attributes.get("driver") == "nvidia")
    info = read(root / "proc/driver/nvidia/gpus" / nvidia.bdf / "information")
    assert f"Bus Location: \t {nvidia.bdf}" in info
    assert "GPU UUID: \t GPU-" in info
    assert (root / "dev/nvidiactl").exists()


def test_ids_are_deterministic_from_the_seed(tmp_path: Path) -> None:
    def uuids(node: str, folder: str) -> list[object]:
        state = machine.up(profiles.load("edge-node"), tmp_path / folder, node)
        return [r.attributes.get("uuid") for r in state.devices if r.kind == "gpu"]

    first = uuids("node-a", "one")
    assert first == uuids("node-a", "two")
    assert first != uuids("node-b", "three")
    assert len(set(first)) == len(first)
