"""GPUs prepared through the dispatcher, and through the real kubelet plugin on its sockets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dra_reference.discovery.node import NodeHardware
from dra_reference.inventory import Inventory
from dra_reference.params.decode import InvalidParametersError
from dra_reference.plugin.memory import Config
from dra_reference.plugin.model import AllocatedDevice, ClaimRef, OpaqueConfig, PrepareRequest
from dra_reference.preparers.base import DeviceUnavailableError
from dra_reference.preparers.dispatch import KindDispatcher
from dra_reference.preparers.gpu import GpuPreparer
from dra_reference.preparers.journal import Journal

from fakehw.tree.state import TreeState
from tests.driver.conftest import DRIVER, NODE, Plugin

GPU0, GPU1 = "gpu-0000-01-00-0", "gpu-0000-02-00-0"
SLICED = {"apiVersion": "gpu.fakehw.dev/v1alpha1", "kind": "GpuConfig",
          "sharing": {"strategy": "TimeSlicing", "timeSlicing": {"interval": "Short"}},
          "features": ["fp64"]}


def dispatcher(tree: TreeState, journal: Path) -> KindDispatcher:
    root = Path(tree.root)
    hardware = NodeHardware(root / "sys", root / "dev", ("gpu",))
    inventory = Inventory(lambda: {NODE: hardware.scan()})
    inventory.refresh()
    return KindDispatcher([GpuPreparer()], inventory.lookup, Journal(journal))


def request(*devices: str, parameters: Any = None) -> PrepareRequest:
    configs = (OpaqueConfig("FromClaim", (), parameters),) if parameters else ()
    return PrepareRequest(ClaimRef("default", "c", "uid-1"), tuple(
        AllocatedDevice("gpu", NODE, device, configs=configs) for device in devices))


@pytest.mark.unit
def test_a_gpu_gets_its_drm_nodes_and_environment(edge_tree: TreeState, tmp_path: Path) -> None:
    [prepared] = dispatcher(edge_tree, tmp_path).prepare(request(GPU0))
    edits = prepared.edits
    assert set(edits.env) == {f"FAKEHW_GPU_DEVICES={GPU0}", "FAKEHW_GPU_SHARING=exclusive",
                              f"FAKEHW_DEVICE_GPU_0000_01_00_0={GPU0}"}
    truth = {f"/dev/{n.path}": (n.major, n.minor) for n in edge_tree.find("gpu0").dev_nodes}
    assert {n.path: (n.major, n.minor) for n in edits.device_nodes} == truth
    assert {(n.type, n.permissions) for n in edits.device_nodes} == {("c", "rw")}
    assert prepared.undo == {"kind": "gpu", "device": GPU0}


@pytest.mark.unit
def test_time_slicing_and_features_reach_the_environment(edge_tree: TreeState,
                                                         tmp_path: Path) -> None:
    prepared = dispatcher(edge_tree, tmp_path).prepare(request(GPU0, GPU1, parameters=SLICED))
    for device in prepared:
        name = device.allocated.device
        assert {f"FAKEHW_GPU_DEVICES={GPU0},{GPU1}", "FAKEHW_GPU_SHARING=time-sliced",
                "FAKEHW_GPU_TIMESLICE=short", "FAKEHW_GPU_FEATURES=fp64",
                f"FAKEHW_DEVICE_{name.upper().replace('-', '_')}={name}"} == set(
            device.edits.env)


@pytest.mark.unit
def test_bad_parameters_fail_the_claim_naming_request_device_and_field(
        edge_tree: TreeState, tmp_path: Path) -> None:
    bad = {**SLICED, "features": ["warp"]}
    with pytest.raises(InvalidParametersError) as failure:
        dispatcher(edge_tree, tmp_path).prepare(request(GPU0, parameters=bad))
    message = str(failure.value)
    assert f"request 'gpu', device {NODE}/{GPU0}" in message
    assert "GpuConfig.features[0]: 'warp'" in message


@pytest.mark.unit
def test_a_device_that_is_not_there_is_a_retryable_error(edge_tree: TreeState,
                                                         tmp_path: Path) -> None:
    with pytest.raises(DeviceUnavailableError, match="not on this node now") as failure:
        dispatcher(edge_tree, tmp_path).prepare(request("gpu-0000-99-00-0"))
    assert failure.value.retryable


@pytest.mark.socket
def test_through_the_plugin_a_bad_claim_fails_alone(edge_tree: TreeState,
                                                    short_dir: Path) -> None:
    """The kubelet's view: one NodePrepareResources call, a per-claim error and a CDI spec."""
    plugin = Plugin(short_dir, preparer=dispatcher(edge_tree, short_dir / "journal")).start()
    try:
        good = plugin.add_claim("good", "uid-good", [GPU0], configs=[
            Config("FromClaim", DRIVER, SLICED)])
        bad = plugin.add_claim("bad", "uid-bad", [GPU1], configs=[
            Config("FromClaim", DRIVER, {**SLICED, "sharing": {"strategy": "Shared"}})])
        response = plugin.kubelet.prepare(good, bad)
        assert "GpuConfig.sharing.strategy: 'Shared'" in response.claims["uid-bad"].error
        assert "[permanent]" in response.claims["uid-bad"].error
        [device] = response.claims["uid-good"].devices
        assert device.device_name == GPU0
        [cdi_id] = device.cdi_device_ids
        spec = json.loads((plugin.cdi_dir / plugin.cdi_files()[0]).read_text())
        [entry] = spec["devices"]
        assert cdi_id.endswith(entry["name"])
        assert "FAKEHW_GPU_SHARING=time-sliced" in entry["containerEdits"]["env"]
        nodes = {n["path"]: (n["major"], n.get("minor", 0))  # CDI omits a zero
                 for n in entry["containerEdits"]["deviceNodes"]}
        assert nodes == {"/dev/dri/card0": (226, 0), "/dev/dri/renderD128": (226, 128)}
        unprepared = plugin.kubelet.unprepare(good)
        assert unprepared.claims["uid-good"].error == ""
        assert plugin.cdi_files() == []
    finally:
        plugin.stop()


@pytest.mark.unit
def test_gpus_change_nothing_so_they_journal_nothing(edge_tree: TreeState,
                                                    tmp_path: Path) -> None:
    """No journal file and, through ``changes_devices``, no "preparing" record: a GPU claim
    costs one synchronous checkpoint write."""
    gpus = dispatcher(edge_tree, tmp_path / "journal")
    assert not gpus.changes_devices(request(GPU0, GPU1))
    gpus.prepare(request(GPU0, GPU1))
    assert not (tmp_path / "journal").exists() or not list((tmp_path / "journal").iterdir())
    # a device that is not found counts as changing, to be safe
    assert gpus.changes_devices(request(GPU0, "gpu-0000-99-00-0"))
