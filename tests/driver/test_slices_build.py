"""ResourceSlice bodies from discovered devices: counters, capacity, taints, limits, placement."""

from __future__ import annotations

from pathlib import Path

import pytest
from dra_reference.camerapools import camera_pool
from dra_reference.discovery.cameras import CameraSpec
from dra_reference.discovery.model import Device
from dra_reference.discovery.node import NodeHardware
from dra_reference.slices import CXL_STEP, MAX_DEVICES_PER_SLICE, Pool, build_pool, taint_key
from kubernetes import client

from fakehw.tree.state import TreeState

pytestmark = pytest.mark.unit
DRIVER = "dra.fakehw.dev"
NODE_POOL = Pool(DRIVER, "node-a", 3, "0.1.0", node_name="node-a", node_uid="uid-1")


def devices_of(slices: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {d["name"]: d for s in slices for d in s["spec"].get("devices", [])}


def test_sriov_functions_share_one_counter_set(sriov_tree: TreeState) -> None:
    root = Path(sriov_tree.root)
    found = NodeHardware(root / "sys", root / "dev", ("gpu",)).scan()
    slices = build_pool(NODE_POOL, found)
    counters = slices[0]["spec"]["sharedCounters"]
    assert "devices" not in slices[0]["spec"]  # the API keeps them apart
    assert len(counters) == 8  # one per physical function
    devices = devices_of(slices)
    for device in found:
        family = device.parent or device.name
        [use] = devices[device.name]["consumesCounters"]
        assert use["counterSet"] == f"{family}-memory"
        assert use["counters"]["memory"]["value"] == str(device.capacity["memory"])
    for pool_slice in slices:
        assert pool_slice["spec"]["pool"] == {"name": "node-a", "generation": 3,
                                              "resourceSliceCount": len(slices)}


def test_cxl_memory_is_consumable_capacity(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    [memdev] = NodeHardware(root / "sys", root / "dev", ("cxl",)).scan()
    entry = devices_of(build_pool(NODE_POOL, [memdev]))[memdev.name]
    assert entry["allowMultipleAllocations"] is True
    policy = entry["capacity"]["memory"]["requestPolicy"]
    assert policy == {"default": str(CXL_STEP),
                      "validRange": {"min": str(CXL_STEP), "step": str(CXL_STEP)}}
    assert entry["capacity"]["memory"]["value"] == str(memdev.capacity["memory"])


def test_an_unhealthy_device_is_tainted() -> None:
    sick = Device("gpu-0000-01-00-0", "gpu", {"type": "gpu"}, healthy=False,
                  health_message="AER")
    [entry] = devices_of(build_pool(NODE_POOL, [sick])).values()
    assert entry["taints"] == [{"key": taint_key(DRIVER), "value": "true",
                                "effect": "NoSchedule"}]


def test_a_large_pool_is_split_at_the_api_limit() -> None:
    many = [Device(f"gpu-{i:04d}", "gpu", {"type": "gpu"}) for i in range(300)]
    slices = build_pool(NODE_POOL, many)
    assert [len(s["spec"]["devices"]) for s in slices] == [128, 128, 44]
    assert MAX_DEVICES_PER_SLICE == 128
    assert len({s["metadata"]["name"] for s in slices}) == 3
    assert {s["spec"]["pool"]["resourceSliceCount"] for s in slices} == {3}


def test_node_slices_are_owned_by_the_node_and_valid_for_the_client() -> None:
    [body] = build_pool(NODE_POOL, [Device("gpu-x", "gpu", {"type": "gpu", "numaNode": 1})])
    assert body["spec"]["nodeName"] == "node-a"
    assert body["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Node", "name": "node-a", "uid": "uid-1",
         "controller": True}]
    model = client.V1ResourceSlice.from_dict(body)
    assert model is not None
    assert model.spec.devices[0].attributes["numaNode"].int == 1
    assert model.spec.devices[0].attributes["driverVersion"].version == "0.1.0"


@pytest.mark.parametrize(("nodes", "labels", "expected"), [
    (("node-b", "node-a"), {}, {"nodeSelector": {"nodeSelectorTerms": [{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": ["node-a", "node-b"]}]}]}}),
    ((), {"site": "lobby"}, {"nodeSelector": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "site", "operator": "In", "values": ["lobby"]}]}]}}),
    ((), {}, {"allNodes": True}),
])
def test_camera_pools_say_which_nodes_reach_them(nodes: tuple[str, ...],
                                                 labels: dict[str, str],
                                                 expected: dict[str, object]) -> None:
    camera = CameraSpec("door", "rtsp://10.0.0.7/s", "", "door", "acme", "m", 640, 360, "h264",
                        15, nodes, labels)
    [body] = build_pool(camera_pool(camera, DRIVER, "0.1.0"), [])
    placement = {k: v for k, v in body["spec"].items()
                 if k in ("nodeName", "nodeSelector", "allNodes")}
    assert placement == expected
    assert "ownerReferences" not in body["metadata"]
    assert client.V1ResourceSlice.from_dict(body) is not None
