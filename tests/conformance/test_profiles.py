"""Driver profiles: the example files parse, and mistakes are named with their fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from dra_conformance import profiles
from dra_conformance.errors import ProfileError
from dra_conformance.features import Feature
from dra_conformance.profiles.model import DeploymentMode

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).parents[2] / "conformance/examples"
HEAD = """apiVersion: conformance.fakehw.dev/v1alpha1
kind: DriverProfile
metadata: {name: x}
spec:
  driver: {name: gpu.example.com}
"""


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_parses(path: Path) -> None:
    profile = profiles.load(path)
    assert profile.driver
    assert profile.source == str(path)


def test_reference_example() -> None:
    profile = profiles.load(EXAMPLES / "reference-driver.yaml")
    assert profile.driver == "dra.fakehw.dev"  # the driver's --driver-name default
    assert profile.device_classes[0] == "gpu.dra.fakehw.dev"
    assert len(profile.device_classes) == 4
    assert Feature.V1BETA1 in profile.features
    assert profile.deployment.mode is DeploymentMode.DEPLOYED
    assert profile.injection.check_command[:2] == ("sh", "-c")
    assert profile.config is not None
    assert profile.config.expect_env["FAKEHW_GPU_SHARING"] == "time-sliced"
    assert profile.injection.device_env == "^FAKEHW_DEVICE_"
    assert profile.node_identity is not None
    identity = profile.node_identity.on("node-7")
    assert identity.user == "system:serviceaccount:dra-reference:kubelet-plugin"
    assert identity.extra == {"authentication.kubernetes.io/node-name": ("node-7",)}


def test_example_driver_example_has_config_and_leaves_deployment_to_the_run() -> None:
    profile = profiles.load(EXAMPLES / "dra-example-driver.yaml")
    assert profile.deployment.mode is DeploymentMode.DEPLOYED
    assert profile.simulated_devices
    assert profile.config is not None
    assert profile.config.expect_env == {"GPU_DEVICE_0_SHARING_STRATEGY": "TimeSlicing",
                                         "GPU_DEVICE_0_TIMESLICE_INTERVAL": "Long"}


def test_relative_manifests_are_relative_to_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + "  deployment: {mode: manifests, manifests: [deploy/a.yaml]}\n")
    assert profiles.load(path).deployment.manifests == (tmp_path / "deploy/a.yaml",)


def test_minimal_profile_defaults() -> None:
    profile = profiles.loads(HEAD)
    assert profile.features == frozenset()
    assert not profile.simulated_devices
    assert profiles.loads(HEAD + "  devices: simulated\n").simulated_devices
    assert profile.deployment.mode is DeploymentMode.DEPLOYED
    assert profile.cdi_spec_dirs == (Path("/etc/cdi"), Path("/var/run/cdi"))


@pytest.mark.parametrize(("extra", "field", "words"), [
    ("  features: [telepathy]\n", "spec.features[0]", "known features"),
    ("  deviceClasses: [Not_A_Name]\n", "spec.deviceClasses[0]", "DNS subdomain"),
    ("  deployment: {mode: helm}\n", "spec.deployment.mode", "use one of"),
    ("  deployment: {mode: command}\n", "spec.deployment.command", "give the command"),
    ("  deployment: {mode: manifests}\n", "spec.deployment.manifests", "list the YAML"),
    ("  deployment: {restartCommand: kubectl}\n", "spec.deployment.restartCommand",
     "list of non-empty strings"),
    ("  sockets: {plugin: dra.sock}\n", "spec.sockets.plugin", "absolute"),
    ("  injection: {env: [1BAD]}\n", "spec.injection.env[0]", "environment variable"),
    ("  injection: {devicePaths: [dev/x]}\n", "spec.injection.devicePaths[0]", "absolute"),
    ("  config: {parameters: {a: b}}\n", "spec.config.expectEnv", "is empty"),
    ("  config: {parameters: {a: b}, expectEnv: {A: b}, classParameters: {a: c}}\n",
     "spec.config.classExpectEnv", "together"),
    ("  colour: blue\n", "spec.colour", "unknown field"),
    ("  cdi: {specDirs: [cdi]}\n", "spec.cdi.specDirs[0]", "absolute"),
    ("  nodeIdentity: {groups: [g]}\n", "spec.nodeIdentity.user", "is required"),
    ("  injection: {deviceEnv: '(unclosed'}\n", "spec.injection.deviceEnv",
     "not a regular expression"),
    ("  nodeIdentity: {user: u, extra: {k: v}}\n", "spec.nodeIdentity.extra.k",
     "list of strings"),
    ("  devices: imaginary\n", "spec.devices", "use one of"),
    ("  features: [fpgaProgramming]\n", "spec.fpgaProgramming", "is missing"),
    ("  fpgaProgramming: {parameters: {bitstream: x.gbs}}\n",
     "spec.fpgaProgramming.parameters", "{bitstream}"),
    ("  fpgaProgramming: {parameters: {bitstream: '{bitstream}'}}\n", "spec.features",
     "does not list fpgaProgramming"),
    ("  features: [claimCredentials]\n", "spec.claimCredentials", "is missing"),
    ("  features: [claimCredentials]\n  claimCredentials: {deviceClass: c, urlEnv: '('}\n",
     "spec.claimCredentials.urlEnv", "not a regular expression"),
])
def test_mistakes_name_field_and_fix(extra: str, field: str, words: str) -> None:
    with pytest.raises(ProfileError) as caught:
        profiles.loads(HEAD + extra, "p.yaml")
    assert caught.value.field == field
    assert words in str(caught.value)
    assert str(caught.value).startswith("p.yaml: ")


@pytest.mark.parametrize(("text", "field"), [
    ("apiVersion: v9\nkind: DriverProfile\n", "apiVersion"),
    ("apiVersion: conformance.fakehw.dev/v1alpha1\nkind: HardwareProfile\n", "kind"),
    ("apiVersion: conformance.fakehw.dev/v1alpha1\nkind: DriverProfile\nspec: {}\n",
     "spec.driver.name"),
    ("apiVersion: conformance.fakehw.dev/v1alpha1\nkind: DriverProfile\n"
     "spec: {driver: {name: UPPER}}\n", "spec.driver.name"),
    (": : :\n", "<document>"),
])
def test_broken_documents(text: str, field: str) -> None:
    with pytest.raises(ProfileError) as caught:
        profiles.loads(text)
    assert caught.value.field == field


def test_profile_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        profiles.loads(HEAD + "  x: 1\n")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot be read"):
        profiles.load(tmp_path / "missing.yaml")


def test_seen_devices_are_the_values_of_the_matching_variables() -> None:
    from dra_conformance.kube.workloads import seen_devices  # noqa: PLC0415

    environment = ("PATH=/bin\nFAKEHW_DEVICE_GPU_0=gpu-0\nFAKEHW_DEVICE_CXL_1=cxl-1\n"
                   "FAKEHW_GPU_DEVICES=gpu-0\nnot a variable\n")
    assert seen_devices(environment, "^FAKEHW_DEVICE_") == {"gpu-0", "cxl-1"}
    assert seen_devices("GPU_DEVICE_0=gpu-3\nGPU_DEVICE_0_SHARING=x\n",
                        "^GPU_DEVICE_[0-9]+$") == {"gpu-3"}
