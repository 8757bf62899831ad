"""pciutils reads the emulated FPGA like a real one: a processing accelerator with its IDs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fakehw import machine, profiles

pytestmark = pytest.mark.tools


def lspci(root: Path, *args: str) -> str:
    if shutil.which("lspci") is None:
        pytest.fail("lspci (pciutils) is not installed; run make setup")
    done = subprocess.run(
        ["lspci", "-A", "linux-sysfs", "-O", f"sysfs.path={root}/sys/bus/pci", "-nn", *args],
        capture_output=True, text=True, timeout=30, check=True)
    return done.stdout


@pytest.mark.parametrize(("profile", "ids"), [
    ("edge-node", ["8086:0b30"]),
    ("numa-mixed", ["8086:0b2b", "8086:0b30"]),
])
def test_fpgas_are_processing_accelerators(tmp_path: Path, profile: str,
                                           ids: list[str]) -> None:
    state = machine.up(profiles.load(profile), tmp_path / "hw", "node-a")
    try:
        lines = lspci(Path(state.root)).splitlines()
    finally:
        machine.down(Path(state.root))
    fpgas = [r for r in state.devices if r.kind == "fpga"]
    accelerators = {line.split()[0]: line for line in lines
                    if "Processing accelerators [1200]" in line}
    assert sorted(accelerators) == sorted(r.bdf.removeprefix("0000:") for r in fpgas)
    for record, expected in zip(fpgas, ids, strict=True):
        assert f"[{expected}]" in accelerators[record.bdf.removeprefix("0000:")]


def test_the_fpga_shows_its_driver_and_numa_node(tmp_path: Path) -> None:
    state = machine.up(profiles.load("numa-mixed"), tmp_path / "hw", "node-a")
    try:
        detail = lspci(Path(state.root), "-vv", "-s", state.find("fpga1").bdf)
    finally:
        machine.down(Path(state.root))
    assert "Processing accelerators [1200]" in detail
    assert "Kernel driver in use: dfl-pci" in detail
    assert "NUMA node: 1" in detail
