"""A driver restart and then a kubelet restart, with a pod holding a GPU all along: nothing
is lost. The running pod keeps its container and its claim's CDI spec, the slices the
restarting kubelet wipes come back with the same devices, a new pod still gets the other
GPU, and deleting the first pod afterwards unprepares its claim cleanly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.console import Console

from fakehw.cluster.pytest_fixtures import SessionCluster
from tests.driver_e2e.conftest import DRIVER, RunningDriver, wait_until
from tests.driver_e2e.test_driver_cluster import claim_template, phase, pod

pytestmark = pytest.mark.cluster


def container(driver: RunningDriver, name: str) -> tuple[str, int]:
    status = driver.kubectl.json(["get", "pod", name])["status"]["containerStatuses"][0]
    return status["containerID"], status["restartCount"]


def specs(driver: RunningDriver) -> dict[str, str]:
    return {p.name: p.read_text() for p in driver.cdi_dir.glob(f"{DRIVER}-*.json")}


def published(driver: RunningDriver) -> set[str]:
    items: list[Any] = driver.slices()
    return {d["name"] for s in items for d in s["spec"].get("devices", [])}


def test_driver_and_kubelet_restarts_lose_nothing(driver: RunningDriver,
                                                  draref_cluster: SessionCluster) -> None:
    assert draref_cluster.provider is not None
    assert draref_cluster.settings is not None
    kubectl = driver.kubectl
    devices_before = published(driver)
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        claim_template("survivor"), pod("survivor", "sleep 3600"),
        claim_template("newcomer")]}))
    held: dict[str, Any] = {}
    try:
        wait_until(lambda: phase(driver, "survivor") == "Running", 120, driver)
        held.update(container=container(driver, "survivor"), specs=specs(driver))
        assert held["specs"], "no CDI spec for the running pod's claim"
        driver.restart()
        wait_until(lambda: "serving" in driver.log_tail(), 60, driver)
        draref_cluster.provider.restart_kubelet(draref_cluster.settings, driver.node,
                                                Console(quiet=True))
        wait_until(lambda: published(driver) == devices_before, 60, driver)
        assert container(driver, "survivor") == held["container"]
        assert specs(driver) == held["specs"], "the restarts changed the CDI specs"
        kubectl.apply(json.dumps(pod("newcomer", "env | grep ^FAKEHW_GPU_DEVICES=")))
        wait_until(lambda: phase(driver, "newcomer") in {"Succeeded", "Failed"}, 120, driver)
        assert phase(driver, "newcomer") == "Succeeded", kubectl.run(
            ["describe", "pod", "newcomer"]).stdout
        kubectl.run(["delete", "pod", "survivor", "newcomer", "--wait=true",
                     "--timeout=60s"])
        wait_until(lambda: not specs(driver), 60, driver)
        events = kubectl.run(["get", "events", "--field-selector",
                              "reason=FailedUnprepareDynamicResources", "-o", "name"]).stdout
        assert not events.strip(), events
    finally:
        kubectl.run(["delete", "pod", "survivor", "newcomer", "--ignore-not-found"],
                    check=False)
        kubectl.run(["delete", "resourceclaimtemplate", "survivor", "newcomer",
                     "--ignore-not-found"], check=False)
