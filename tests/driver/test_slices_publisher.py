"""Publishing a node's pool: created once, rewritten with a new generation on change only,
leftovers removed, other publishers' slices left alone; and the node agent keeping it so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from dra_reference.discovery.model import Device
from dra_reference.discovery.node import NodeHardware
from dra_reference.inventory import Inventory
from dra_reference.kube import ApiError
from dra_reference.nodeagent import NodeAgent
from dra_reference.publisher import PublishError, SlicePublisher
from dra_reference.slices import Pool, build_pool, taint_key
from dra_reference.watch import TreeWatcher

from fakehw import machine
from fakehw.tree.state import TreeState
from tests.driver.driverkit import SLICES, FakeResourceApi, wait_for

pytestmark = pytest.mark.unit
DRIVER = "dra.fakehw.dev"
POOL = Pool(DRIVER, "node-a", 0, "0.1.0", node_name="node-a", node_uid="uid-a")


def gpus(count: int, healthy: bool = True) -> list[Device]:
    return [Device(f"gpu-{i:04d}", "gpu", {"type": "gpu"}, healthy=healthy)
            for i in range(count)]


@pytest.fixture
def api() -> FakeResourceApi:
    return FakeResourceApi()


@pytest.fixture
def publisher(api: FakeResourceApi) -> SlicePublisher:
    return SlicePublisher(api, DRIVER, node_name="node-a")


def generations(api: FakeResourceApi, pool: str = "node-a") -> set[int]:
    return {s["spec"]["pool"]["generation"] for s in api.pool(pool)}


def test_the_first_publish_creates_generation_one(api: FakeResourceApi,
                                                  publisher: SlicePublisher) -> None:
    assert publisher.publish([(POOL, gpus(2))]) == 1
    [created] = api.pool("node-a")
    assert created["spec"]["nodeName"] == "node-a"
    assert created["metadata"]["ownerReferences"][0]["uid"] == "uid-a"
    assert generations(api) == {1}
    assert set(api.devices("node-a")) == {"gpu-0000", "gpu-0001"}


def test_unchanged_content_is_not_written_again(api: FakeResourceApi,
                                                publisher: SlicePublisher) -> None:
    publisher.publish([(POOL, gpus(2, healthy=False))])
    writes = len(api.writes)
    assert publisher.publish([(POOL, gpus(2, healthy=False))]) == 0
    assert len(api.writes) == writes  # the server's taint timestamps do not count as change


def test_a_change_bumps_the_generation_of_every_slice(api: FakeResourceApi,
                                                      publisher: SlicePublisher) -> None:
    publisher.publish([(POOL, gpus(200))])
    assert generations(api) == {1}
    publisher.publish([(POOL, gpus(200, healthy=False))])
    assert generations(api) == {2}
    taints = api.devices("node-a")["gpu-0150"]["taints"]
    assert [t["key"] for t in taints] == [taint_key(DRIVER)]


def test_slices_no_longer_needed_are_deleted(api: FakeResourceApi,
                                             publisher: SlicePublisher) -> None:
    publisher.publish([(POOL, gpus(300))])
    assert len(api.pool("node-a")) == 3
    publisher.publish([(POOL, gpus(3))])
    [left] = api.pool("node-a")
    assert left["spec"]["pool"]["resourceSliceCount"] == 1
    assert left["spec"]["pool"]["generation"] == 2
    assert ("delete", "node-a-dra-fakehw-dev-2") in api.writes


def test_other_nodes_slices_are_left_alone(api: FakeResourceApi,
                                           publisher: SlicePublisher) -> None:
    other = Pool(DRIVER, "node-b", 0, "0.1.0", node_name="node-b", node_uid="uid-b")
    SlicePublisher(api, DRIVER, node_name="node-b").publish([(other, gpus(1))])
    publisher.publish([(POOL, gpus(1))])
    publisher.publish([(POOL, gpus(2))])
    assert generations(api, "node-b") == {1}


def test_a_stale_pool_of_the_same_publisher_is_deleted(api: FakeResourceApi) -> None:
    cameras = SlicePublisher(api, DRIVER, label="camera-controller")
    door = Pool(DRIVER, "camera-door", 0, "0.1.0")
    yard = Pool(DRIVER, "camera-yard", 0, "0.1.0")
    cameras.publish([(door, []), (yard, [])])
    cameras.publish([(door, [])])
    assert not api.pool("camera-yard")
    assert generations(api, "camera-door") == {1}


def test_slices_written_by_an_earlier_instance_are_taken_over(api: FakeResourceApi) -> None:
    for body in build_pool(replace(POOL, generation=7), gpus(1)):
        api.create(SLICES, body)
    SlicePublisher(api, DRIVER, node_name="node-a").publish([(POOL, gpus(1))])
    assert generations(api) == {7}  # same content: kept as it is, no generation churn
    SlicePublisher(api, DRIVER, node_name="node-a").publish([(POOL, gpus(2))])
    assert generations(api) == {8}


def test_api_failures_are_retryable_publish_errors(api: FakeResourceApi,
                                                   publisher: SlicePublisher) -> None:
    api.fail = ApiError(503, "Service Unavailable")
    with pytest.raises(PublishError, match="503") as failure:
        publisher.publish([(POOL, gpus(1))])
    assert failure.value.retryable


@pytest.fixture
def agent(edge_tree: TreeState, api: FakeResourceApi) -> Iterator[NodeAgent]:
    root = Path(edge_tree.root)
    hardware = NodeHardware(root / "sys", root / "dev")
    watcher = TreeWatcher(root / "sys", root / "dev")
    running = NodeAgent(Inventory(lambda: {"node-a": hardware.scan()}),
                        SlicePublisher(api, DRIVER, node_name="node-a"), POOL, watcher,
                        resync_seconds=3600, retry_seconds=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=running.run, args=(stop,))
    thread.start()
    yield running
    stop.set()
    thread.join(timeout=10)
    watcher.close()


def test_the_agent_republishes_on_hot_plug_and_faults(edge_tree: TreeState,
                                                      api: FakeResourceApi,
                                                      agent: NodeAgent) -> None:
    root = Path(edge_tree.root)
    assert agent.published.wait(10)
    gpu1 = "gpu-0000-02-00-0"
    assert gpu1 in api.devices("node-a")
    machine.unplug(root, "gpu1")
    wait_for(lambda: gpu1 not in api.devices("node-a"), timeout=5)
    assert generations(api) == {2}
    machine.replug(root, "gpu1")
    wait_for(lambda: gpu1 in api.devices("node-a"), timeout=5)
    machine.set_health(root, "fpga0", healthy=False, reason="test")
    wait_for(lambda: api.devices("node-a")["fpga-0000-03-00-0"].get("taints"), timeout=5)
    assert generations(api) == {4}


def test_the_agent_retries_until_the_api_server_answers(api: FakeResourceApi,
                                                        edge_tree: TreeState) -> None:
    api.fail = ApiError(500, "boom")
    root = Path(edge_tree.root)
    hardware = NodeHardware(root / "sys", root / "dev")
    agent = NodeAgent(Inventory(lambda: {"node-a": hardware.scan()}),
                      SlicePublisher(api, DRIVER, node_name="node-a"), POOL, None,
                      resync_seconds=3600, retry_seconds=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,))
    thread.start()
    try:
        assert not agent.published.wait(0.3)
        api.fail = None
        assert agent.published.wait(5)
        assert api.pool("node-a")
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_nudge_puts_back_slices_someone_else_deleted(api: FakeResourceApi,
                                                       agent: NodeAgent) -> None:
    assert agent.published.wait(10)
    wiped = [s["metadata"]["name"] for s in api.pool("node-a")]
    for name in wiped:  # what a starting kubelet does to its node's slices
        api.delete(f"{SLICES}/{name}")
    assert not api.pool("node-a")
    agent.nudge.set()
    wait_for(lambda: bool(api.pool("node-a")), timeout=5)
    assert sorted(s["metadata"]["name"] for s in api.pool("node-a")) == sorted(wiped)
