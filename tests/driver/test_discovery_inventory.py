"""Discovery finds every device of every built-in profile, with the hardware's true attributes.

The truth is the tree's own inventory (``fakehw.tree.state``): what fakehw wrote, recorded
separately from the files the driver reads. Every GPU, FPGA and CXL memdev it lists must be
found, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dra_reference.discovery.model import PCIE_ROOT, Device, dns_name
from dra_reference.discovery.node import NodeHardware

from fakehw import machine, profiles
from fakehw.tree import state as tree_state
from fakehw.tree.writer import DeviceRecord

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module", params=profiles.builtin_names())
def tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         ) -> Iterator[Path]:
    """One tree per profile, shared by the tests that only read it."""
    state = machine.up(profiles.load(request.param), tmp_path_factory.mktemp("hw") / "hw",
                       "node-a")
    yield Path(state.root)
    machine.down(Path(state.root))


def scan(root: Path) -> dict[str, Device]:
    return {d.name: d for d in NodeHardware(root / "sys", root / "dev").scan()}


def records(root: Path, *kinds: str) -> list[DeviceRecord]:
    return [r for r in tree_state.load(root).devices if r.kind in kinds]


def nodes(record: DeviceRecord, prefix: str) -> set[tuple[str, int, int]]:
    return {(f"/dev/{n.path}", n.major, n.minor) for n in record.dev_nodes
            if n.path.split("/")[-1].startswith(prefix)}


def found_nodes(device: Device) -> set[tuple[str, int, int]]:
    return {(n.path, n.major, n.minor) for n in device.nodes}


def test_every_device_is_found_and_nothing_else(tree: Path) -> None:
    expected = {dns_name(r.kind.removesuffix("-vf"), r.bdf)
                for r in records(tree, "gpu", "gpu-vf", "fpga", "cxl")}
    assert set(scan(tree)) == expected


def test_gpus_carry_their_true_attributes(tree: Path) -> None:
    found = scan(tree)
    for record in records(tree, "gpu", "gpu-vf"):
        gpu, truth = found[dns_name("gpu", record.bdf)], record.attributes
        assert gpu.kind == "gpu"
        assert gpu.attributes["vendorID"] == truth["vendor"]
        assert gpu.attributes["deviceID"] == truth["device"]
        assert gpu.attributes["kernelDriver"] == truth["driver"]
        assert gpu.attributes["numaNode"] == truth["numaNode"]
        assert gpu.attributes[PCIE_ROOT] == truth["pcieRoot"]
        assert gpu.attributes["pciAddress"] == record.bdf
        assert gpu.capacity == {"memory": truth["memory"]}
        # NVIDIA's proprietary driver adds /dev/nvidiaN and /dev/nvidiactl (read from procfs)
        assert found_nodes(gpu) == (nodes(record, "card") | nodes(record, "renderD")
                                    | nodes(record, "nvidia"))
        assert gpu.attributes["virtualFunction"] is (record.kind == "gpu-vf")
        if record.kind == "gpu-vf":
            assert gpu.parent == dns_name("gpu", str(truth["physfn"]))
        elif truth["sriovNumVFs"]:
            assert gpu.attributes["sriovVFs"] == truth["sriovNumVFs"]
        assert gpu.healthy


def test_fpgas_carry_their_true_attributes(tree: Path) -> None:
    found = scan(tree)
    for record in records(tree, "fpga"):
        fpga, truth = found[dns_name("fpga", record.bdf)], record.attributes
        assert fpga.kind == "fpga"
        assert fpga.attributes["type"] == "fpga"
        assert fpga.attributes["compatID"] == truth["compatId"]
        assert fpga.attributes["afuID"] == truth["afuId"]
        assert fpga.attributes["numaNode"] == truth["numaNode"]
        assert fpga.attributes[PCIE_ROOT] == truth["pcieRoot"]
        assert (fpga.attributes["vendorID"], fpga.attributes["deviceID"]) == (
            truth["vendor"], truth["device"])
        assert fpga.attributes["region"] == truth["region"]
        assert fpga.attributes["port"] == truth["port"]
        assert fpga.attributes["fme"] == truth["fme"]
        assert found_nodes(fpga) == nodes(record, "dfl-port")
        assert fpga.paths["manager"].endswith(f"fpga_manager/{truth['fpgaManager']}")
        assert fpga.healthy


def test_cxl_memdevs_carry_their_true_attributes(tree: Path) -> None:
    found = scan(tree)
    for record in records(tree, "cxl"):
        memdev, truth = found[dns_name("cxl", record.bdf)], record.attributes
        assert memdev.attributes["type"] == "cxl-memory"
        assert memdev.attributes["memdev"] == truth["memdev"]
        assert memdev.attributes["host"] == truth["host"] == record.bdf
        assert memdev.attributes["serial"] == f"0x{truth['serial']:016x}"
        assert memdev.attributes["numaNode"] == truth["numaNode"]
        assert memdev.attributes[PCIE_ROOT] == truth["pcieRoot"]
        assert memdev.attributes["ramSize"] == truth["capacity"]
        # the profile's own regions are the administrator's: their capacity is not offered
        assert memdev.capacity == {"memory": truth["freeCapacity"]}
        assert found_nodes(memdev) == nodes(record, "mem")
        assert memdev.paths["rootDecoder"].endswith(str(truth["rootDecoder"]))
        assert memdev.paths["endpoint"].endswith(str(truth["endpoint"]))


def test_regions_the_driver_owns_stay_on_offer(tmp_path: Path) -> None:
    state = machine.up(profiles.load("numa-mixed"), tmp_path / "hw", "node-a")
    root = Path(state.root)
    memdev = records(root, "cxl")[0]
    hardware = NodeHardware(root / "sys", root / "dev", ("cxl",),
                            owned_regions=lambda: {"region0"})
    assert hardware.scan()[0].capacity == {"memory": memdev.attributes["capacity"]}
    machine.down(root)


def test_names_are_stable_dns_labels_across_rescans(tree: Path) -> None:
    first, second = scan(tree), scan(tree)
    assert first == second
    for name in first:
        assert len(name) <= 63
        assert name.replace("-", "").isalnum()
        assert name == name.lower()


def test_an_fpga_region_under_a_non_accelerator_function_is_ignored(tmp_path: Path) -> None:
    """Intel's plugin requires class 0x120000 on the region's PCI parent; so does the driver."""
    state = machine.up(profiles.load("edge-node"), tmp_path / "hw", "node-a")
    root = Path(state.root)
    fpga = records(root, "fpga")[0]
    (root / "sys" / fpga.sysfs / "class").write_text("0x0b4000\n")
    assert not [d for d in scan(root).values() if d.kind == "fpga"]
    machine.down(root)


def test_kinds_limit_what_is_scanned(tree: Path) -> None:
    only_gpus = NodeHardware(tree / "sys", tree / "dev", ("gpu",)).scan()
    assert only_gpus
    assert {d.kind for d in only_gpus} == {"gpu"}


def test_an_nvidia_gpu_gets_its_nodes_only_through_procfs(tmp_path: Path) -> None:
    state = machine.up(profiles.load("numa-mixed"), tmp_path / "hw", "node-a")
    root = Path(state.root)
    try:
        [record] = [r for r in records(root, "gpu") if r.attributes["driver"] == "nvidia"]
        name = dns_name("gpu", record.bdf)
        assert {n.path for n in scan(root)[name].nodes} >= {"/dev/nvidia1", "/dev/nvidiactl"}
        elsewhere = NodeHardware(root / "sys", root / "dev", procfs_root=tmp_path / "noproc")
        found = {d.name: d for d in elsewhere.scan()}[name]
        assert {n.path for n in found.nodes} == {"/dev/dri/card1", "/dev/dri/renderD129"}
    finally:
        machine.down(root)
