"""The reference driver's Helm chart, rendered by the real helm: the plain manifests of
drivers/deploy are its output, and its values reach the objects."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from fakehw.cluster.binaries import ensure_binaries
from hack import manifests

pytestmark = pytest.mark.tools


@pytest.fixture(scope="module")
def helm() -> Path:
    return ensure_binaries(components={"helm"})["helm"]


def _template(helm: Path, *flags: str) -> list[dict[str, Any]]:
    text = subprocess.run([str(helm), "template", "drv", str(manifests.CHART), *flags],
                          capture_output=True, text=True, check=True).stdout
    return [d for d in yaml.safe_load_all(text) if d]


def test_the_plain_manifests_are_the_charts_output(helm: Path) -> None:
    rendered = manifests.render(helm)
    assert set(rendered) == {"rbac.yaml", "admission.yaml", "deviceclasses.yaml",
                             "kubelet-plugin.yaml", "camera-controller.yaml"}
    for name, text in rendered.items():
        assert (manifests.DEPLOY / name).read_text() == text, f"run `make manifests` ({name})"


def test_values_reach_the_objects(helm: Path) -> None:
    objects = _template(helm, "--namespace", "gpus", "--set", "driverName=gpu.example.org",
                        "--set", "kubeletPlugin.kinds={gpu}",
                        "--set", "kubeletPlugin.sysfsRoot=/hw/sys",
                        "--set", "kubeletPlugin.cameraControlDirectory=/run/cams",
                        "--set", "cameraController.enabled=false", "--set", "image.tag=")
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("Namespace", "gpus") not in kinds
    assert ("Deployment", "camera-controller") not in kinds
    assert ("DeviceClass", "gpu.gpu.example.org") in kinds
    plugin = next(o for o in objects if o["kind"] == "DaemonSet")
    assert plugin["metadata"]["namespace"] == "gpus"
    pod = plugin["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "dra-reference:0.1.0"  # the chart's appVersion
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DRA_REFERENCE_DRIVER_NAME"] == "gpu.example.org"
    assert env["DRA_REFERENCE_KINDS"] == "gpu"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["sys"]["hostPath"]["path"] == "/hw/sys"
    assert volumes["camera-control"]["hostPath"]["path"] == "/run/cams"
    policy = next(o for o in objects if o["kind"] == "ValidatingAdmissionPolicy"
                  and o["metadata"]["name"] == "drv-node-slices")
    assert "system:serviceaccount:gpus:kubelet-plugin" in \
        policy["spec"]["matchConditions"][0]["expression"]
