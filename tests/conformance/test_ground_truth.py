"""The ground truth catches a driver that publishes wrong attributes: a real fakehw tree, its
devices published as a correct driver would, then with one thing wrong at a time."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dra_conformance import groundtruth
from dra_conformance.kube.workloads import listing_parts

from fakehw import machine, profiles, runtime
from tests.driver.driverkit import camera_daemon

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("gt") / "hw"
    runtime.up(profiles.load("edge-node"), root, "node-a", cameras=False)
    try:
        yield root
    finally:
        machine.down(root)


@pytest.fixture(scope="module")
def hardware(tree: Path) -> list[dict[str, Any]]:
    return groundtruth.pci_devices(tree)


def published_correctly(hardware: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": f"dev-{index}", "attributes": {
        "pciAddress": {"string": device["bdf"]},
        "vendorID": {"string": device["attributes"]["vendor"]},
        "deviceID": {"string": device["attributes"]["device"]},
        groundtruth.PCIE_ROOT: {"string": device["attributes"]["pcieRoot"]}}}
        for index, device in enumerate(hardware)]


def test_a_faithful_driver_has_no_problems(hardware: list[dict[str, Any]]) -> None:
    problems, matched = groundtruth.problems(hardware, published_correctly(hardware))
    assert problems == []
    assert len(matched) == len(hardware) >= 4  # 2 GPUs, an FPGA, a CXL memory device


@pytest.mark.parametrize(("attribute", "value", "words"), [
    ("deviceID", {"string": "0xdead"}, "is published as nothing"),
    ("pciAddress", {"string": "0000:99:00.0"}, "published but not in the hardware"),
    (groundtruth.PCIE_ROOT, {"string": "pci0000:80"}, "is under 'pci0000:00'"),
])
def test_each_wrong_attribute_is_named(hardware: list[dict[str, Any]], attribute: str,
                                       value: dict[str, str], words: str) -> None:
    published = published_correctly(hardware)
    wrong = copy.deepcopy(published)
    wrong[0]["attributes"][attribute] = value
    problems, _ = groundtruth.problems(hardware, wrong)
    assert any(words in problem for problem in problems), problems


def test_a_device_published_twice_or_missing_is_named(hardware: list[dict[str, Any]]) -> None:
    published = published_correctly(hardware)
    twice, _ = groundtruth.problems(hardware, [*published, {**published[0], "name": "copy"}])
    assert any("is published as ['dev-0', 'copy']" in p for p in twice), twice
    missing, _ = groundtruth.problems(hardware, published[1:])
    assert any(f"{hardware[0]['name']} " in p and "nothing" in p for p in missing), missing


def test_device_numbers_are_the_trees_nodes_and_their_owners(tree: Path) -> None:
    owners = groundtruth.device_numbers(tree)
    card0 = os.stat(tree / "dev/dri/card0").st_rdev
    assert owners[f"{os.major(card0)}:{os.minor(card0)}"] == "gpu0"
    assert owners["226:128"] == "gpu0"  # its render node
    port = os.stat(tree / "dev/dfl-port.0").st_rdev
    assert owners[f"{os.major(port)}:{os.minor(port)}"] == "fpga0"
    dax = os.stat(tree / "dev/dax0.0").st_rdev  # a region's DAX device: its memory device's
    assert owners[f"{os.major(dax)}:{os.minor(dax)}"] == "cxl0"


def test_a_container_with_another_gpus_nodes_is_caught(tree: Path,
                                                       hardware: list[dict[str, Any]]) -> None:
    owners = groundtruth.device_numbers(tree)
    gpu0 = [d for d in hardware if d["name"] == "gpu0"]
    # as a busybox container lists them: stat -c "%t:%T %n" (hex numbers)
    _, exact = listing_parts("A=1\n--- device nodes\n1:3 /dev/null\n"
                             "e2:0 /dev/dri/card0\ne2:80 /dev/dri/renderD128\n")
    assert exact == {"/dev/null": "1:3", "/dev/dri/card0": "226:0",
                     "/dev/dri/renderD128": "226:128"}
    assert groundtruth.node_problems(exact, owners, gpu0) == []
    every = {**exact, "/dev/dri/card1": "226:1", "/dev/dri/renderD129": "226:129"}
    assert groundtruth.node_problems(every, owners, gpu0) == [
        "/dev/dri/card1 (226:1) is gpu1's, which was not allocated",
        "/dev/dri/renderD129 (226:129) is gpu1's, which was not allocated"]
    assert groundtruth.node_problems({"/dev/null": "1:3"}, owners, gpu0) == [
        "no device node of gpu0 (gpu)"]
    cxl = [d for d in hardware if d["kind"] == "cxl"]  # used through a region, not its node
    assert groundtruth.node_problems({"/dev/null": "1:3"}, owners, cxl) == []


@pytest.mark.socket
def test_a_camera_is_told_by_its_marks_and_the_password_never_shows() -> None:
    login = {"username": "admin", "password": "s3cret-pw", "width": 320, "height": 240,
             "port": 0}
    with camera_daemon([{"name": "cam0", **login}, {"name": "cam1", **login}]) as daemon:
        url = daemon.urls["cam1"].replace("rtsp://", "rtsp://admin:s3cret-pw@")
        assert groundtruth.camera_at(url, ["cam0", "cam1", "front-door"]) == "cam1"
        with pytest.raises(groundtruth.GroundTruthError, match="none of") as wrong:
            groundtruth.camera_at(url, ["cam0"])
        with pytest.raises(groundtruth.GroundTruthError, match="401") as refused:
            groundtruth.camera_at(url.replace("s3cret-pw", "wrong-pw"), ["cam1"])
    assert "s3cret-pw" not in str(wrong.value)
    assert "wrong-pw" not in str(refused.value)
