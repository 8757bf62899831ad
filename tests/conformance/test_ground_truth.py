"""The ground truth catches a driver that publishes wrong attributes: a real fakehw tree, its
devices published as a correct driver would, then with one thing wrong at a time."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from dra_conformance import groundtruth

from fakehw import machine, profiles, runtime

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def hardware(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("gt") / "hw"
    runtime.up(profiles.load("edge-node"), root, "node-a", cameras=False)
    try:
        yield groundtruth.pci_devices(root)
    finally:
        machine.down(root)


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
