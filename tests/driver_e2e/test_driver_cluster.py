"""The reference driver end to end: slices in a real API server, a pod with a GPU claim,
one claim shared by two pods, CXL memory carved for a pod and destroyed after it, hot-plug
reflected in the slices, a restart without churn, and the shipped RBAC and admission policy
confining a node's plugin to its own slices."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from fakehw import machine
from fakehw.camera.control import CameraControl
from fakehw.cluster.images import WORKLOAD_IMAGE
from fakehw.cluster.pytest_fixtures import SessionCluster
from fakehw.devices.fpga import write_bitstream
from tests.driver_e2e.conftest import (
    DEPLOY,
    DRIVER,
    Cameras,
    RunningDriver,
    running_controller,
    wait_until,
)

pytestmark = pytest.mark.cluster
GPU0, GPU1 = "gpu-0000-01-00-0", "gpu-0000-02-00-0"
PLUGIN_SA = "system:serviceaccount:dra-reference:kubelet-plugin"


def devices(driver: RunningDriver) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for s in driver.slices() for d in s["spec"].get("devices", [])}


def generation(driver: RunningDriver) -> int:
    return max(s["spec"]["pool"]["generation"] for s in driver.slices())  # type: ignore[index]


def test_the_nodes_devices_are_published_and_owned_by_the_node(driver: RunningDriver) -> None:
    found = devices(driver)
    assert {GPU0, GPU1, "fpga-0000-03-00-0", "cxl-0000-81-00-0"} <= set(found)
    assert found[GPU0]["attributes"]["type"] == {"string": "gpu"}
    assert found["cxl-0000-81-00-0"]["allowMultipleAllocations"] is True
    node = driver.kubectl.json(["get", "node", driver.node])
    for item in driver.slices():
        [owner] = item["metadata"]["ownerReferences"]  # type: ignore[index]
        assert (owner["kind"], owner["uid"]) == ("Node", node["metadata"]["uid"])


def test_a_pod_claiming_a_gpu_sees_its_environment_and_nodes(driver: RunningDriver) -> None:
    kubectl = driver.kubectl
    name = "gpu-e2e"
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        claim_template(name), pod(name, "env | grep ^FAKEHW_GPU | sort; ls -ln /dev/dri")]}))
    try:
        wait_until(lambda: phase(driver, name) in {"Succeeded", "Failed"}, 120, driver)
        logs = kubectl.run(["logs", name]).stdout
        assert phase(driver, name) == "Succeeded", logs
        assert "FAKEHW_GPU_SHARING=time-sliced" in logs
        assert "FAKEHW_GPU_TIMESLICE=short" in logs
        [chosen] = [line.split("=", 1)[1] for line in logs.splitlines()
                    if line.startswith("FAKEHW_GPU_DEVICES=")]
        assert chosen in (GPU0, GPU1)
        card_minor = 0 if chosen == GPU0 else 1
        assert any(line.startswith("c") and f"226, {card_minor:>3}" in line
                   for line in logs.splitlines()), logs
    finally:
        kubectl.run(["delete", "pod", name, "--wait=true", "--timeout=60s"], check=False)
        kubectl.run(["delete", "resourceclaimtemplate", name], check=False)
    wait_until(lambda: not list(driver.cdi_dir.glob(f"{DRIVER}-device_*.json")), 60, driver)


FPGA = "fpga-0000-03-00-0"
NEW_AFU = "00112233445566778899aabbccddeeff"


@pytest.fixture
def bitstreams(driver: RunningDriver) -> str:
    """A compatible and an incompatible image in the node's firmware directory."""
    compat = devices(driver)[FPGA]["attributes"]["compatID"]["string"]
    firmware = driver.tree / "lib/firmware"
    firmware.mkdir(parents=True, exist_ok=True)
    write_bitstream(firmware / "e2e-good.gbs", compat, NEW_AFU)
    write_bitstream(firmware / "e2e-wrong.gbs", "ab" * 16, NEW_AFU)
    return str(compat)


def fpga_template(name: str, bitstream: str, afu: str = NEW_AFU) -> dict[str, Any]:
    """A template whose FpgaConfig loads ``bitstream`` unless the port already shows ``afu``."""
    wanted = {"afuID": afu} if afu else {}
    return template(name, "fpga", "fpga.dra.fakehw.dev", {
        "apiVersion": "fpga.fakehw.dev/v1alpha1", "kind": "FpgaConfig",
        "bitstream": bitstream, **wanted, "setup": {"lanes": 4}})


def test_a_pod_gets_an_fpga_programmed_with_its_afu(driver: RunningDriver,
                                                   bitstreams: str) -> None:
    kubectl, name = driver.kubectl, "fpga-e2e"
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        fpga_template(name, "e2e-good.gbs"),
        pod(name, "env | grep ^FAKEHW_FPGA | sort; ls -ln /dev/dfl-port.0", claim="fpga")]}))
    try:
        wait_until(lambda: phase(driver, name) in {"Succeeded", "Failed"}, 120, driver)
        logs = kubectl.run(["logs", name]).stdout
        assert phase(driver, name) == "Succeeded", logs
        assert f"FAKEHW_FPGA_AFU_ID={NEW_AFU}" in logs
        assert "FAKEHW_FPGA_SETUP_LANES=4" in logs
        assert "235,   0" in logs  # the port's character device, with its real numbers
        wait_until(lambda: devices(driver)[FPGA]["attributes"]["afuID"] == {
            "string": NEW_AFU}, 30, driver)  # the new AFU is republished for selectors
    finally:
        kubectl.run(["delete", "pod", name, "--wait=true", "--timeout=60s"], check=False)
        kubectl.run(["delete", "resourceclaimtemplate", name], check=False)


def test_an_incompatible_bitstream_keeps_the_pod_pending_with_the_reason(
        driver: RunningDriver, bitstreams: str) -> None:
    kubectl, name = driver.kubectl, "fpga-wrong-e2e"
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        fpga_template(name, "e2e-wrong.gbs", afu=""), pod(name, "true", claim="fpga")]}))

    def reasons() -> str:
        return kubectl.run(["get", "events", "--field-selector",
                            f"involvedObject.name={name}", "-o",
                            "jsonpath={.items[*].message}"], check=False).stdout

    try:
        wait_until(lambda: "reconfig incompatible image" in reasons(), 120, driver)
        assert "write init error" in reasons()
        assert phase(driver, name) == "Pending"
    finally:
        kubectl.run(["delete", "pod", name, "--wait=true", "--timeout=60s"], check=False)
        kubectl.run(["delete", "resourceclaimtemplate", name], check=False)


def test_unplugging_a_gpu_updates_the_slice(driver: RunningDriver) -> None:
    before = generation(driver)
    machine.unplug(driver.tree, "gpu1")
    try:
        wait_until(lambda: GPU1 not in devices(driver), 30, driver)
        assert generation(driver) > before
    finally:
        machine.replug(driver.tree, "gpu1")
    wait_until(lambda: GPU1 in devices(driver), 30, driver)


def test_a_fault_taints_the_device(driver: RunningDriver) -> None:
    machine.set_health(driver.tree, "fpga0", healthy=False, reason="e2e")
    try:
        wait_until(lambda: devices(driver)["fpga-0000-03-00-0"].get("taints"), 30, driver)
    finally:
        machine.set_health(driver.tree, "fpga0", healthy=True)
    wait_until(lambda: not devices(driver)["fpga-0000-03-00-0"].get("taints"), 30, driver)


def test_a_restart_with_the_same_hardware_leaves_the_slices_alone(
        driver: RunningDriver) -> None:
    before = {s["metadata"]["name"]: s["metadata"]["resourceVersion"]  # type: ignore[index]
              for s in driver.slices()}
    driver.restart()
    wait_until(lambda: "published pool" in driver.log_tail() or
               "serving on" in driver.log_tail(), 60, driver)
    after = {s["metadata"]["name"]: s["metadata"]["resourceVersion"]  # type: ignore[index]
             for s in driver.slices()}
    assert after == before


def test_the_admission_policy_confines_a_plugin_to_its_own_node(driver: RunningDriver) -> None:
    kubectl = driver.kubectl
    for manifest in ("rbac.yaml", "admission.yaml"):
        kubectl.run(["apply", "-f", str(DEPLOY / manifest)])
    own = slice_manifest("e2e-own", driver.node)
    other = slice_manifest("e2e-other", "some-other-node")
    as_plugin = ["--as", PLUGIN_SA, "--as-group", "system:serviceaccounts",
                 "--as-user-extra", f"authentication.kubernetes.io/node-name={driver.node}"]
    def refused() -> str:
        """The refusal once the policy is in force (the API server loads it in the background)."""
        done = create(kubectl, other, as_plugin)
        if done.returncode == 0:
            kubectl.run(["delete", "resourceslice", "e2e-other"])
        return done.stderr

    try:
        wait_until(refused, 30, driver)
        assert "may not change slices of node 'some-other-node'" in refused()
        assert create(kubectl, own, as_plugin).returncode == 0
        nameless = create(kubectl, other, as_plugin[:4])
        assert nameless.returncode != 0
        assert "names no node" in nameless.stderr
    finally:
        kubectl.run(["delete", "resourceslice", "e2e-own", "e2e-other"], check=False)


def template(name: str, request: str, device_class: str,
             parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ResourceClaimTemplate of one request for a device of ``device_class``, with
    ``parameters`` as the driver's opaque config."""
    devices: dict[str, Any] = {"requests": [
        {"name": request, "exactly": {"deviceClassName": device_class}}]}
    if parameters is not None:
        devices["config"] = [{"opaque": {"driver": DRIVER, "parameters": parameters}}]
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
            "metadata": {"name": name}, "spec": {"spec": {"devices": devices}}}


def claim_template(name: str) -> dict[str, Any]:
    return template(name, "gpu", "gpu.dra.fakehw.dev", {
        "apiVersion": "gpu.fakehw.dev/v1alpha1", "kind": "GpuConfig",
        "sharing": {"strategy": "TimeSlicing", "timeSlicing": {"interval": "Short"}}})


def pod(name: str, command: str, claim: str = "gpu") -> dict[str, Any]:
    """A run-once pod whose container uses the claim made from the template ``name``."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
        "resourceClaims": [{"name": claim, "resourceClaimTemplateName": name}],
        "containers": [{"name": "main", "image": WORKLOAD_IMAGE, "imagePullPolicy": "Never",
                        "command": ["sh", "-c", command],
                        "resources": {"claims": [{"name": claim}]}}]}}


def phase(driver: RunningDriver, name: str) -> str:
    done = driver.kubectl.run(["get", "pod", name, "-o", "jsonpath={.status.phase}"],
                              check=False)
    return done.stdout.strip()


def slice_manifest(name: str, node: str) -> str:
    return json.dumps({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
                       "metadata": {"name": name}, "spec": {
                           "driver": DRIVER, "nodeName": node, "devices": [],
                           "pool": {"name": node, "generation": 1, "resourceSliceCount": 1}}})


def create(kubectl: Any, manifest: str,
           impersonate: list[str]) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = kubectl.run(
        ["create", "-f", "-", *impersonate], check=False, stdin=manifest)
    return done


@pytest.fixture
def controller(driver: RunningDriver, cameras: Cameras,
               draref_cluster: SessionCluster) -> Iterator[subprocess.Popen[bytes]]:
    with running_controller(driver, cameras, draref_cluster) as process:
        yield process


def test_a_pod_claiming_a_camera_gets_a_credential_of_its_own(
        driver: RunningDriver, cameras: Cameras, controller: subprocess.Popen[bytes]) -> None:
    kubectl = driver.kubectl

    def camera_pool() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = kubectl.json(["get", "resourceslices"])["items"]
        return [s for s in items if s["spec"]["pool"]["name"] == "camera-cam0"]

    wait_until(camera_pool, 30, driver)
    [pool] = camera_pool()
    assert pool["spec"].get("allNodes") is True
    name = "camera-e2e"
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        template(name, "cam", "camera.dra.fakehw.dev"),
        pod(name, "env | grep ^FAKEHW_CAMERA_ | sort; sleep 60", claim="cam"),
    ]}))
    control = CameraControl(cameras.daemon.control)
    try:
        wait_until(lambda: "FAKEHW_CAMERA_PASSWORD=" in kubectl.run(
            ["logs", name], check=False).stdout, 120, driver)
        values = dict(line.split("=", 1) for line in kubectl.run(["logs", name]).stdout.split())
        assert values["FAKEHW_CAMERA_URL"] == cameras.daemon.urls["cam0"]
        assert values["FAKEHW_CAMERA_TRANSPORT"] == "tcp"  # from the DeviceClass config
        user = values["FAKEHW_CAMERA_USERNAME"]
        assert user in control.status("cam0")[0]["users"]
    finally:
        kubectl.run(["delete", "pod", name, "--wait=true", "--timeout=60s"], check=False)
        kubectl.run(["delete", "resourceclaimtemplate", name], check=False)
    wait_until(lambda: user not in control.status("cam0")[0]["users"], 60, driver)


def test_the_controller_may_publish_only_camera_pools(driver: RunningDriver) -> None:
    kubectl = driver.kubectl
    for manifest in ("rbac.yaml", "admission.yaml"):
        kubectl.run(["apply", "-f", str(DEPLOY / manifest)])
    as_controller = ["--as", "system:serviceaccount:dra-reference:camera-controller",
                     "--as-group", "system:serviceaccounts"]
    node_slice = slice_manifest("e2e-node", driver.node)
    body = json.loads(slice_manifest("e2e-camera", "camera-e2e"))
    del body["spec"]["nodeName"]
    body["spec"]["allNodes"] = True
    body["metadata"]["labels"] = {"dra.fakehw.dev/publisher": "camera-controller"}
    try:
        wait_until(lambda: "node-local" in create(kubectl, node_slice, as_controller).stderr,
                   30, driver)
        assert create(kubectl, json.dumps(body), as_controller).returncode == 0
    finally:
        kubectl.run(["delete", "resourceslice", "e2e-node", "e2e-camera"], check=False)


def shared_claim(name: str) -> dict[str, Any]:
    """A ResourceClaim of its own (not a template), with the GPU settings of the template."""
    template = claim_template(name)
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
            "metadata": {"name": name}, "spec": template["spec"]["spec"]}


def claim_pod(name: str, claim: str, command: str) -> dict[str, Any]:
    """A run-once pod whose container uses the existing ResourceClaim ``claim``."""
    manifest = pod(name, command, claim="dev")
    manifest["spec"]["resourceClaims"] = [{"name": "dev", "resourceClaimName": claim}]
    return manifest


def test_one_claim_shared_by_two_pods_gives_both_the_same_device(
        driver: RunningDriver) -> None:
    kubectl, claim = driver.kubectl, "shared-e2e"
    pods = ["shared-e2e-a", "shared-e2e-b"]
    # Both hold the claim for a while, so the second is prepared while the first runs.
    command = "env | grep ^FAKEHW_GPU | sort; sleep 5"
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        shared_claim(claim), *(claim_pod(name, claim, command) for name in pods)]}))
    try:
        wait_until(lambda: all(phase(driver, name) in {"Succeeded", "Failed"}
                               for name in pods), 180, driver)
        logs = {name: kubectl.run(["logs", name]).stdout for name in pods}
        assert [phase(driver, name) for name in pods] == ["Succeeded"] * 2, logs
        env = {name: sorted(line for line in text.splitlines()
                            if line.startswith("FAKEHW_GPU_")) for name, text in logs.items()}
        assert env[pods[0]] == env[pods[1]], env
        [chosen] = [line.split("=", 1)[1] for line in env[pods[0]]
                    if line.startswith("FAKEHW_GPU_DEVICES=")]
        assert chosen in (GPU0, GPU1)
        assert "FAKEHW_GPU_SHARING=time-sliced" in env[pods[0]]
        reserved = kubectl.json(["get", "resourceclaim", claim])["status"].get(
            "reservedFor", [])
        assert {entry["name"] for entry in reserved} <= set(pods)
    finally:
        kubectl.run(["delete", "pod", *pods, "--wait=true", "--timeout=60s"], check=False)
        kubectl.run(["delete", "resourceclaim", claim, "--wait=true", "--timeout=60s"],
                    check=False)
    wait_until(lambda: not list(driver.cdi_dir.glob(f"{DRIVER}-device_*.json")), 60, driver)


def cxl_regions(driver: RunningDriver) -> set[str]:
    """The CXL regions the node's tree shows now (the kernel's view)."""
    folder = driver.tree / "sys/bus/cxl/devices"
    return {path.name for path in folder.glob("region*")}


def test_a_pod_gets_cxl_memory_of_the_size_it_claimed(driver: RunningDriver) -> None:
    kubectl, name = driver.kubectl, "cxl-e2e"
    before = cxl_regions(driver)
    claim = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
             "metadata": {"name": name}, "spec": {"devices": {"requests": [
                 {"name": "mem", "exactly": {
                     "deviceClassName": "cxl-memory.dra.fakehw.dev",
                     "capacity": {"requests": {"memory": "256Mi"}}}}]}}}
    command = ("env | grep ^FAKEHW_CXL_ | sort; ls -ln /dev/ | grep ' dax' || true; "
               "sleep 3600")
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        claim, claim_pod(name, name, command)]}))
    try:
        wait_until(lambda: "FAKEHW_CXL_DAX_DEVICE=" in kubectl.run(
            ["logs", name], check=False).stdout, 120, driver)
        logs = kubectl.run(["logs", name]).stdout
        env = dict(line.split("=", 1) for line in logs.splitlines()
                   if line.startswith("FAKEHW_CXL_"))
        assert env["FAKEHW_CXL_REGION_SIZE"] == str(256 * 2**20), logs
        region, dax = env["FAKEHW_CXL_REGION"], env["FAKEHW_CXL_DAX_DEVICE"]
        assert region not in before
        assert region in cxl_regions(driver)  # carved in the node's tree while the pod runs
        assert dax.startswith("/dev/dax"), logs
        assert any(line.startswith("c") and line.endswith(dax.removeprefix("/dev/"))
                   for line in logs.splitlines()), logs  # a character device in the pod
        [result] = kubectl.json(["get", "resourceclaim", name])["status"]["allocation"][
            "devices"]["results"]
        assert result["device"] == "cxl-0000-81-00-0"
        assert result["consumedCapacity"]["memory"] in ("256Mi", str(256 * 2**20))
    finally:
        kubectl.run(["delete", "pod", name, "--wait=true", "--timeout=60s"], check=False)
        kubectl.run(["delete", "resourceclaim", name, "--wait=true", "--timeout=60s"],
                    check=False)
    wait_until(lambda: region not in cxl_regions(driver), 60, driver)
    assert cxl_regions(driver) == before
    wait_until(lambda: not list(driver.cdi_dir.glob(f"{DRIVER}-device_*.json")), 60, driver)
