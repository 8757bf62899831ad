"""FPGA trees have the files, formats and link texts OPAE, Intel's plugin and drivers read."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.tree.state import TreeState
from tests.treesnap import snapshot

pytestmark = pytest.mark.unit

# Where edge-node's only FPGA sits: behind the third root port, after its two GPUs.
BDF = "0000:03:00.0"
FN = f"devices/pci0000:00/0000:00:03.0/{BDF}"
REGION = f"{FN}/fpga_region/region0"
FME = f"{REGION}/dfl-fme.0"
PORT = f"{REGION}/dfl-port.0"


def read(path: Path) -> str:
    return path.read_text().strip()


@pytest.fixture
def sys(edge_tree: TreeState) -> Path:
    assert edge_tree.find("fpga0").sysfs == FN, "edge-node's layout changed: update FN"
    return Path(edge_tree.root) / "sys"


def test_pci_function_is_a_processing_accelerator_bound_to_dfl_pci(sys: Path) -> None:
    assert os.readlink(sys / "bus/pci/devices" / BDF) == f"../../../{FN}"
    fn = sys / FN
    assert (read(fn / "vendor"), read(fn / "device"), read(fn / "class")) == (
        "0x8086", "0x0b30", "0x120000")
    assert os.readlink(fn / "driver") == "../../../../bus/pci/drivers/dfl-pci"
    assert (fn / "config").read_bytes()[9:12] == bytes([0x00, 0x00, 0x12])


def test_regions_link_back_to_the_pci_function(sys: Path) -> None:
    link = sys / "class/fpga_region/region0"
    assert os.readlink(link) == f"../../{REGION}"
    # OPAE parses the BDF out of this link text; Intel's plugin reads device/{vendor,class}.
    assert re.search(r"([0-9a-f]{4}):([0-9a-f]{2}):([0-9]{2})\.([0-9])/fpga", os.readlink(link))
    assert os.readlink(link / "device") == "../../../0000:03:00.0"
    assert read(link / "device/class") == "0x120000"
    assert os.readlink(link / "subsystem") == "../../../../../../class/fpga_region"
    assert os.readlink(sys / "class/fpga_region/region1") == (
        f"../../{FME}/dfl-fme-region.0/fpga_region/region1")


def test_compat_id_is_found_the_way_intels_plugin_globs_it(sys: Path,
                                                            edge_tree: TreeState) -> None:
    found = list((sys / "class/fpga_region").glob(
        "region*/dfl-fme.*/dfl-fme-region.*/fpga_region/region*/compat_id"))
    assert len(found) == 1
    assert read(found[0]) == edge_tree.find("fpga0").attributes["compatId"]
    assert re.fullmatch(r"[0-9a-f]{32}", read(found[0]))


def test_fme_attributes_and_errors(sys: Path) -> None:
    fme = sys / FME
    assert read(fme / "dev") == "236:0"
    assert read(fme / "ports_num") == "1"
    assert read(fme / "socket_id") == "0"
    assert re.fullmatch(r"0x[0-9a-f]+", read(fme / "bitstream_id"))
    assert re.fullmatch(r"0x[0-9a-f]+", read(fme / "bitstream_metadata"))
    assert sorted(p.name for p in (fme / "errors").iterdir()) == sorted([
        "pcie0_errors", "pcie1_errors", "nonfatal_errors", "catfatal_errors", "inject_errors",
        "fme_errors", "first_error", "next_error"])
    assert {read(p) for p in (fme / "errors").iterdir()} == {"0x0"}
    assert os.readlink(fme / "driver") == "../../../../../../../bus/platform/drivers/dfl-fme"
    assert "DEVNAME=dfl-fme.0" in read(fme / "uevent")


def test_port_attributes(sys: Path, edge_tree: TreeState) -> None:
    port = sys / PORT
    assert read(port / "dev") == "235:0"
    assert read(port / "id") == "0"
    assert read(port / "power_state") == "0x0"
    assert read(port / "afu_id") == edge_tree.find("fpga0").attributes["afuId"]
    assert re.fullmatch(r"[0-9a-f]{32}", read(port / "afu_id"))
    assert read(port / "errors/errors") == "0x0"
    assert read(port / "errors/first_malformed_req") == "0x" + "0" * 32


def test_manager_bridge_and_their_class_links(sys: Path) -> None:
    manager = sys / "class/fpga_manager/fpga0"
    assert os.readlink(manager) == f"../../{FME}/dfl-fme-mgr.0/fpga_manager/fpga0"
    assert (read(manager / "name"), read(manager / "state")) == ("DFL FME FPGA Manager",
                                                                 "unknown")
    assert (manager / "status").read_bytes() == b""
    assert stat.S_IMODE((manager / "firmware").stat().st_mode) == 0o200
    assert os.readlink(manager / "device") == "../../../dfl-fme-mgr.0"
    bridge = sys / "class/fpga_bridge/br0"
    assert os.readlink(bridge) == f"../../{FME}/dfl-fme-bridge.0.auto/fpga_bridge/br0"
    assert read(bridge / "state") == "enabled"


def test_dfl_bus_devices_and_drivers(sys: Path) -> None:
    fme_dev, port_dev = sys / "bus/dfl/devices/dfl_dev.0", sys / "bus/dfl/devices/dfl_dev.1"
    assert os.readlink(fme_dev) == f"../../../{FME}/dfl_dev.0"
    assert (read(fme_dev / "type"), read(fme_dev / "feature_id")) == ("0x0", "0xd")
    assert (read(port_dev / "type"), read(port_dev / "feature_id")) == ("0x1", "0x14")
    assert "MODALIAS=dfl:t0000f000D" in read(fme_dev / "uevent")
    assert (sys / "bus/dfl/drivers/dfl-n3000-nios/dfl_dev.0").resolve() == fme_dev.resolve()
    assert (sys / "bus/platform/drivers/dfl-port/dfl-port.0").resolve() == (sys / PORT)


def test_device_nodes_lead_back_to_sysfs(sys: Path) -> None:
    dev = sys.parent / "dev"
    for name, numbers, folder in (("dfl-fme.0", (236, 0), FME), ("dfl-port.0", (235, 0), PORT)):
        node = (dev / name).lstat()
        assert stat.S_ISCHR(node.st_mode)
        assert (os.major(node.st_rdev), os.minor(node.st_rdev)) == numbers
        # Intel's plugin stats the node and follows /sys/dev/char/MAJ:MIN to the device.
        char = f"{numbers[0]}:{numbers[1]}"
        assert (sys / "dev/char" / char).resolve() == sys / folder
        assert os.readlink(dev / "char" / char) == f"../{name}"


def test_record_names_every_piece(edge_tree: TreeState) -> None:
    record = edge_tree.find("fpga0")
    assert (record.kind, record.sysfs, record.bdf) == ("fpga", FN, BDF)
    assert {k: record.attributes[k] for k in (
        "vendor", "device", "pcieRoot", "region", "fme", "port", "fpgaManager")} == {
        "vendor": "0x8086", "device": "0x0b30", "pcieRoot": "pci0000:00", "region": "region0",
        "fme": "dfl-fme.0", "port": "dfl-port.0", "fpgaManager": "fpga0"}
    assert record.attributes["programmingMillis"] == 300


def test_two_cards_get_their_own_numbers(tmp_path: Path) -> None:
    state = machine.up(profiles.load("numa-mixed"), tmp_path / "hw", "node-c")
    sys = Path(state.root) / "sys"
    second = state.find("fpga1")
    assert (second.attributes["pcieRoot"], second.attributes["device"]) == ("pci0000:10",
                                                                            "0x0b30")
    assert read(sys / "class/fpga_manager/fpga1/device/../dev") == "236:1"
    assert read(sys / "class/fpga_region/region2/dfl-port.1/dev") == "235:1"
    assert read(sys / "bus/dfl/devices/dfl_dev.0/feature_id") == "0x9"  # D5005: EMIF
    assert sorted(p.name for p in (sys / "class/fpga_region").iterdir()) == [
        "region0", "region1", "region2", "region3"]


def test_unplug_takes_every_outside_link_and_node_and_replug_restores_them(
        edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    before = snapshot(root)
    assert machine.unplug(root, "fpga0") == ["fpga0"]
    for folder in ("sys/class/fpga_region", "sys/class/fpga_manager", "sys/class/fpga_bridge",
                   "sys/bus/dfl/devices"):
        assert list((root / folder).iterdir()) == [], folder
    for pattern in ("sys/bus/dfl/drivers/*/dfl_dev.*", "sys/bus/platform/devices/dfl-*",
                    "sys/bus/platform/drivers/*/dfl-*", "sys/dev/char/23[56]:*",
                    "dev/char/23[56]:*", "sys/bus/pci/drivers/dfl-pci/0000:*"):
        assert not list(root.glob(pattern)), pattern
    assert not (root / "dev/dfl-fme.0").exists()
    assert not (root / "dev/dfl-port.0").exists()
    assert machine.replug(root, "fpga0") == ["fpga0"]
    assert snapshot(root) == before


def test_health_fault_shows_in_error_registers_and_aer_then_clears(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    sys = root / "sys"
    machine.set_health(root, "fpga0", healthy=False, reason="thermal trip")
    assert read(sys / FME / "errors/catfatal_errors") == "0x800"
    assert read(sys / FME / "errors/first_error") == "0x800"
    assert read(sys / PORT / "errors/errors") == "0x1"
    assert "TOTAL_ERR_FATAL 1" in read(sys / FN / "aer_dev_fatal")
    machine.set_health(root, "fpga0", healthy=True)
    assert {read(p) for p in (sys / FME / "errors").iterdir()} == {"0x0"}
    assert read(sys / PORT / "errors/errors") == "0x0"
    assert "TOTAL_ERR_FATAL 0" in read(sys / FN / "aer_dev_fatal")
