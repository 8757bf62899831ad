"""pciutils' lspci reads the emulated PCI tree as it reads a real one."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.tree.state import TreeState

pytestmark = pytest.mark.tools

LINE = re.compile(r"^(\S+) .*\[([0-9a-f]{4})\]: .* \[([0-9a-f]{4}):([0-9a-f]{4})\]")


def lspci(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["lspci", "-A", "linux-sysfs", "-O", f"sysfs.path={root}/sys/bus/pci", *args],
        capture_output=True, text=True, check=True, timeout=60)
    return result.stdout


def listed(root: Path) -> dict[str, tuple[str, str, str]]:
    found = {}
    for line in lspci(root, "-nn", "-D").splitlines():
        match = LINE.match(line)
        assert match, f"unexpected lspci line: {line!r}"
        bdf, cls, vendor, device = match.groups()
        found[bdf] = (cls, vendor, device)
    return found


@pytest.mark.parametrize("name", profiles.builtin_names())
def test_lspci_lists_every_device_with_its_identity(tmp_path: Path, name: str) -> None:
    state = machine.up(profiles.load(name), tmp_path / "hw", "node-a")
    try:
        seen = listed(Path(state.root))
        pci = [r for r in state.devices if r.bdf]
        assert pci, "profile has PCI devices"
        for record in pci:
            sysfs = Path(state.root) / "sys" / record.sysfs
            expected = ((sysfs / "class").read_text().strip()[2:6],
                        (sysfs / "vendor").read_text().strip()[2:],
                        (sysfs / "device").read_text().strip()[2:])
            assert seen[record.bdf] == expected, record.name
    finally:
        machine.down(Path(state.root))


def test_lspci_sees_the_driver_numa_node_and_sriov(sriov_tree: TreeState) -> None:
    verbose = lspci(Path(sriov_tree.root), "-vk", "-s", "01:00.0")
    assert "Display controller: Intel Corporation Data Center GPU Flex 170" in verbose
    assert "Kernel driver in use: i915" in verbose
    assert "NUMA node 0" in verbose
    assert "[size=16G]" in verbose


def test_lspci_no_longer_lists_an_unplugged_gpu(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    bdf = edge_tree.find("gpu1").bdf
    assert bdf in listed(root)
    machine.unplug(root, "gpu1")
    assert bdf not in listed(root)
    machine.replug(root, "gpu1")
    assert bdf in listed(root)
