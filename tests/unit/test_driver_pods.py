"""The reference driver's workloads for a local cluster (hack/conformancejob/pods.py): the
DaemonSet and Deployment of drivers/deploy, changed only where a local cluster differs.

That they run is shown by ``make conformance``, which certifies the driver deployed this way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hack.conformancejob import pods
from hack.conformancejob.settings import DRIVER, Node

pytestmark = pytest.mark.unit
STATE = Path("/root/.local/state/fakehw/clusters/conformance")
NODES = [Node(name, index, Path(f"/var/lib/fakehw/{kubelet}"),
              STATE / "nodes" / str(index) / "hardware", STATE / "nodes" / str(index) / "cdi")
         for index, (name, kubelet) in enumerate([("conformance-control-plane", "1b227418"),
                                                  ("conformance-worker", "7d5e0c21")])]
CONTROL = NODES[0].hardware_root / ".fakehw"


@pytest.fixture
def settings(tmp_path: Path) -> pods.PodSettings:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({"clusters": [
        {"name": "c", "cluster": {"server": "https://127.0.0.1:7443"}}]}))
    cameras = tmp_path / "cameras.yaml"
    cameras.write_text("cameras: []\n")
    return pods.PodSettings("fakehw.local/dra-reference:0.1.0", kubeconfig, cameras, CONTROL,
                            image_digest="sha256:0123abcd")


def container(workload: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = workload["spec"]["template"]["spec"]["containers"][0]
    return found


def env(workload: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "<from>") for e in container(workload)["env"]}


def mounts(workload: dict[str, Any]) -> dict[str, str]:
    """mountPath -> host path, through the volume names."""
    pod = workload["spec"]["template"]["spec"]
    hosts = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
    return {m["mountPath"]: hosts[m["name"]] for m in container(workload)["volumeMounts"]}


def test_each_node_gets_a_daemonset_over_its_own_folders(settings: pods.PodSettings) -> None:
    daemonsets = pods.plugin_daemonsets(NODES, settings)
    assert [d["metadata"]["name"] for d in daemonsets] == ["kubelet-plugin-0", "kubelet-plugin-1"]
    for node, daemonset in zip(NODES, daemonsets, strict=True):
        spec = daemonset["spec"]
        assert spec["template"]["spec"]["nodeSelector"] == {
            pods.NODE_INDEX_LABEL: str(node.index)}
        assert spec["selector"]["matchLabels"][pods.NODE_INDEX_LABEL] == str(node.index)
        assert spec["template"]["metadata"]["labels"][pods.NODE_INDEX_LABEL] == str(node.index)
        variables = env(daemonset)
        assert variables["DRA_REFERENCE_SYSFS_ROOT"] == str(node.hardware_root / "sys")
        assert variables["DRA_REFERENCE_DEVFS_ROOT"] == str(node.hardware_root / "dev")
        assert variables["DRA_REFERENCE_PLUGINS_DIR"] == str(node.plugins_dir)
        assert variables["DRA_REFERENCE_REGISTRY_DIR"] == str(node.registry_dir)
        assert variables["DRA_REFERENCE_CDI_DIR"] == str(node.cdi_dir)
        assert variables["DRA_REFERENCE_DRIVER_NAME"] == DRIVER
        # what the kubelet is told and what the CDI specs name are host paths: the same
        # paths inside the container
        assert all(inside == host for inside, host in mounts(daemonset).items())
        assert {node.plugins_dir, node.registry_dir, node.cdi_dir, node.hardware_root,
                CONTROL} <= {Path(p) for p in mounts(daemonset)}
        assert not any(p.startswith("/host") for p in (*variables.values(), *mounts(daemonset)))


def test_the_manifest_s_own_choices_stay(settings: pods.PodSettings) -> None:
    """Service account, privileges, rolling update and the pod UID as instance ID come from
    drivers/deploy/kubelet-plugin.yaml unchanged."""
    daemonset = pods.plugin_daemonsets(NODES[:1], settings)[0]
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "kubelet-plugin"
    assert container(daemonset)["securityContext"] == {"privileged": True}
    assert daemonset["spec"]["updateStrategy"]["rollingUpdate"] == {
        "maxSurge": 1, "maxUnavailable": 0}
    # Ready only once serving, so a rolling update never leaves the node without a plugin
    assert container(daemonset)["startupProbe"]["exec"]["command"] == [
        "python3", "-m", "dra_reference.probe"]
    assert daemonset["spec"]["minReadySeconds"] == 2
    uid = next(e for e in container(daemonset)["env"]
               if e["name"] == "DRA_REFERENCE_INSTANCE_ID")
    assert uid["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.uid"}}


def test_pods_use_the_loaded_image_and_reach_the_api_server_on_the_host(
        settings: pods.PodSettings) -> None:
    for workload in (*pods.plugin_daemonsets(NODES, settings), pods.camera_controller(settings)):
        assert workload["spec"]["template"]["spec"]["hostNetwork"] is True
        assert container(workload)["image"] == settings.image
        assert container(workload)["imagePullPolicy"] == "Never"
        # a new build rolls the pods of a cluster kept running, though the tag is the same
        assert workload["spec"]["template"]["metadata"]["annotations"] == {
            pods.IMAGE_ANNOTATION: "sha256:0123abcd"}
        variables = env(workload)
        assert variables["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"
        assert variables["KUBERNETES_SERVICE_PORT"] == "7443"
        assert variables["DRA_REFERENCE_CAMERAS_CONFIG"] == str(settings.cameras)
        assert mounts(workload)[str(settings.cameras)] == str(settings.cameras)


def test_the_camera_controller_reads_the_cameras_file_from_the_host(
        settings: pods.PodSettings) -> None:
    deployment = pods.camera_controller(settings)
    assert deployment["kind"] == "Deployment"
    assert container(deployment)["args"] == ["--log-level", "info", "controller"]
    assert all("configMap" not in v for v in deployment["spec"]["template"]["spec"]["volumes"])
    # it keeps running as nobody, with nothing to write
    assert container(deployment)["securityContext"]["runAsUser"] == 65534
    assert container(deployment)["securityContext"]["readOnlyRootFilesystem"] is True


def test_without_cameras_nothing_names_a_cameras_file(settings: pods.PodSettings) -> None:
    bare = pods.PodSettings(settings.image, settings.kubeconfig, None, None, "debug")
    daemonset = pods.plugin_daemonsets(NODES[:1], bare)[0]
    assert "DRA_REFERENCE_CAMERAS_CONFIG" not in env(daemonset)
    assert set(mounts(daemonset)) == {str(p) for p in (
        NODES[0].plugins_dir, NODES[0].registry_dir, NODES[0].cdi_dir, NODES[0].hardware_root)}
    assert container(daemonset)["args"] == ["--log-level", "debug", "kubelet-plugin"]


def test_a_restarted_pod_s_sockets_carry_its_uid_or_the_uid_s_digest() -> None:
    uid = "980b9667-53c3-427f-a255-ed23a215a61f"
    full, short = pods.socket_suffixes(uid)
    assert full == uid
    assert len(short) == 8
    assert short != pods.socket_suffixes(uid.replace("9", "8"))[1]


def test_the_summary_names_pods_that_restarted_on_their_own(tmp_path: Path) -> None:
    from hack.conformancejob.job import Job, summary  # noqa: PLC0415
    from hack.conformancejob.settings import JobSettings  # noqa: PLC0415

    lines: list[str] = []
    job = Job(JobSettings(results=tmp_path), lines.append)
    job.pod_restarts = {"kubelet-plugin-0-abcde": 2, "kubelet-plugin-1-fghij": 0}
    summary(job, 0)
    named = [line for line in lines if line.startswith("pod ")]
    assert named == ["pod kubelet-plugin-0-abcde: its container restarted 2 time(s) after "
                     "exiting on its own (the last one's log: "
                     "drivers/kubelet-plugin-0-abcde.previous.log)"]
