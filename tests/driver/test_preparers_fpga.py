"""FPGAs: the requested AFU loaded through the manager's ``firmware`` file, then the port handed
over; a refused bitstream is the claim's error, in the kernel's words."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dra_reference.discovery.node import NodeHardware
from dra_reference.errors import PreparerError
from dra_reference.inventory import Inventory
from dra_reference.plugin.model import AllocatedDevice, ClaimRef, OpaqueConfig, PrepareRequest
from dra_reference.preparers import fpgaprogram
from dra_reference.preparers.base import DeviceSetupError
from dra_reference.preparers.dispatch import KindDispatcher
from dra_reference.preparers.fpga import FpgaPreparer
from dra_reference.preparers.journal import Journal

from fakehw import machine, profiles
from fakehw.devices.fpga import write_bitstream
from tests.driver.driverkit import firmware_loader

pytestmark = pytest.mark.unit
COMPAT = "69528db6eb31577a8c3668f9faa081f6"
NEW_AFU = "00112233445566778899aabbccddeeff"
OTHER = "ffeeddccbbaa99887766554433221100"
LAB = f"""
apiVersion: fakehw.dev/v1alpha1
kind: HardwareProfile
metadata: {{name: fpga-lab}}
spec:
  cpu: {{numaNodes: 1, cpusPerNode: 4}}
  fpgas: [{{model: intel-pac-n3000, count: 2, compatId: {COMPAT}, programmingTime: 200ms}}]
"""
FPGA0, FPGA1 = "fpga-0000-01-00-0", "fpga-0000-02-00-0"


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    state = machine.up(profiles.parse(LAB, "lab.yaml"), tmp_path / "hw", "node-a")
    root = Path(state.root)
    firmware = root / "lib/firmware"
    firmware.mkdir(parents=True)
    write_bitstream(firmware / "good.gbs", COMPAT, NEW_AFU)
    write_bitstream(firmware / "other.gbs", COMPAT, OTHER)
    write_bitstream(firmware / "wrong-interface.gbs", "ab" * 16, NEW_AFU)
    yield root
    machine.down(root)


def dispatcher(root: Path) -> KindDispatcher:
    hardware = NodeHardware(root / "sys", root / "dev", ("fpga",))
    inventory = Inventory(lambda: {"node-a": hardware.scan()})
    return KindDispatcher([FpgaPreparer(root / "sys")], inventory.lookup,
                          Journal(root / "state/journal"))


def request(*devices: tuple[str, dict[str, Any]], admin: bool = False) -> PrepareRequest:
    return PrepareRequest(ClaimRef("default", "c", "uid-1"), tuple(
        AllocatedDevice("fpga", "node-a", name, admin_access=admin, configs=(
            OpaqueConfig("FromClaim", (), {"apiVersion": "fpga.fakehw.dev/v1alpha1",
                                           "kind": "FpgaConfig", **config}),))
        for name, config in devices))


def manager(root: Path, index: int = 0) -> Path:
    return root / f"sys/class/fpga_manager/fpga{index}"


def port_afu(root: Path, index: int = 0) -> str:
    return (root / f"sys/class/fpga_region/region{2 * index}/dfl-port.{index}/afu_id"
            ).read_text().strip()


def test_the_bitstream_is_loaded_and_the_port_handed_over(root: Path) -> None:
    with firmware_loader(root):
        [prepared] = dispatcher(root).prepare(request(
            (FPGA0, {"bitstream": "good.gbs", "afuID": NEW_AFU, "setup": {"lanes": 4}})))
    assert (manager(root) / "state").read_text().strip() == "operating"
    assert port_afu(root) == NEW_AFU
    env = set(prepared.edits.env)
    assert {f"FAKEHW_FPGA_AFU_ID={NEW_AFU}", f"FAKEHW_FPGA_COMPAT_ID={COMPAT}",
            "FAKEHW_FPGA_PORT=/dev/dfl-port.0", "FAKEHW_FPGA_SETUP_LANES=4",
            f"FAKEHW_FPGA_DEVICES={FPGA0}"} <= env
    [node] = prepared.edits.device_nodes
    assert (node.path, node.type, node.major, node.minor) == ("/dev/dfl-port.0", "c", 235, 0)


def test_an_afu_already_loaded_is_not_loaded_again(root: Path) -> None:
    with firmware_loader(root):
        dispatcher(root).prepare(request((FPGA0, {"bitstream": "good.gbs"})))
        stamp = (manager(root) / "state").stat().st_mtime_ns
        started = time.monotonic()
        dispatcher(root).prepare(request((FPGA0, {"bitstream": "good.gbs",
                                                  "afuID": NEW_AFU})))
        assert time.monotonic() - started < 0.2
    assert (manager(root) / "state").stat().st_mtime_ns == stamp


def test_an_incompatible_bitstream_fails_with_the_managers_status(root: Path) -> None:
    with firmware_loader(root), pytest.raises(DeviceSetupError) as failure:
        dispatcher(root).prepare(request(
            (FPGA1, {"bitstream": "good.gbs"}), (FPGA0, {"bitstream": "wrong-interface.gbs"})))
    message = str(failure.value)
    assert f"device node-a/{FPGA0}" in message
    assert "'write init error': reconfig incompatible image" in message
    assert not failure.value.retryable
    assert port_afu(root, 1) == NEW_AFU  # loaded before the failure; an AFU is not unloaded
    assert not list((root / "state/journal").glob("*.json"))  # rolled back and forgotten


def test_a_second_claim_loads_another_afu_over_an_operating_one(root: Path) -> None:
    with firmware_loader(root):
        dispatcher(root).prepare(request((FPGA0, {"bitstream": "good.gbs"})))
        [prepared] = dispatcher(root).prepare(request((FPGA0, {"bitstream": "other.gbs",
                                                               "afuID": OTHER})))
    assert port_afu(root) == OTHER
    assert f"FAKEHW_FPGA_AFU_ID={OTHER}" in prepared.edits.env


def test_a_different_afu_than_asked_for_is_an_error(root: Path) -> None:
    with firmware_loader(root), pytest.raises(DeviceSetupError, match=f"asked for {NEW_AFU}"):
        dispatcher(root).prepare(request((FPGA0, {"bitstream": "other.gbs",
                                                  "afuID": NEW_AFU})))


def test_an_afu_id_without_a_bitstream_must_already_be_there(root: Path) -> None:
    with pytest.raises(DeviceSetupError, match="set bitstream to load it"):
        dispatcher(root).prepare(request((FPGA0, {"afuID": NEW_AFU})))


def test_without_a_loader_the_request_times_out_clearly(root: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fpgaprogram, "SETTLE_SECONDS", 0.1)
    with pytest.raises(PreparerError, match="nothing acted on the request") as failure:
        dispatcher(root).prepare(request((FPGA0, {"bitstream": "good.gbs",
                                                  "programTimeoutSeconds": 1})))
    assert failure.value.retryable


def test_a_missing_firmware_file_is_a_firmware_request_error(root: Path) -> None:
    with firmware_loader(root), pytest.raises(DeviceSetupError,
                                              match="'firmware request error'"):
        dispatcher(root).prepare(request((FPGA0, {"bitstream": "absent.gbs"})))


def test_admin_access_never_reprograms(root: Path) -> None:
    [prepared] = dispatcher(root).prepare(request((FPGA0, {"bitstream": "good.gbs"}),
                                                  admin=True))
    assert (manager(root) / "state").read_text().strip() == "unknown"
    assert prepared.edits.device_nodes[0].path == "/dev/dfl-port.0"
