"""Driver profile schema ``conformance.fakehw.dev/v1alpha1``, kind ``DriverProfile``.

    apiVersion: conformance.fakehw.dev/v1alpha1
    kind: DriverProfile
    metadata: {name: reference-gpu}
    spec:
      driver: {name: gpu.fakehw.dev, version: 0.1.0}
      deviceClasses: [gpu.fakehw.dev]
      features: [v1beta1, healthReporting]
      devices: hardware | simulated                  # simulated: no hardware to check against
      nodes: [fakehw-worker]                         # optional
      deployment:
        mode: deployed | manifests | command
        manifests: [deploy/driver.yaml]              # relative to this file
        command: [make, deploy]
        undeployCommand: [make, undeploy]
        restartCommand: [kubectl, rollout, restart, ds/gpu-driver]
        updateCommand: [make, roll, "NODE={node}"]   # rolling update of one node's plugin
        readyTimeoutSeconds: 120
      sockets: {registration: /var/lib/kubelet/plugins_registry/x-reg.sock,
                plugin: /var/lib/kubelet/plugins/x/dra.sock}
      cdi: {specDirs: [/etc/cdi, /var/run/cdi]}
      injection: {env: [GPU_ID], devicePaths: [/dev/dri], checkCommand: [test, -e, /dev/x],
                  deviceEnv: "^GPU_DEVICE_[0-9]+$"}
      config: {parameters: {...}, expectEnv: {NAME: value},
               classParameters: {...}, classExpectEnv: {NAME: value}}
      fpgaProgramming:                               # with feature fpgaProgramming
        parameters: {bitstream: "{bitstream}", afuID: "{afu}"}
      claimCredentials:                              # with feature claimCredentials
        deviceClass: camera.example.com
        urlEnv: "^CAMERA_URL$"                       # rtsp://user:password@host/path
      nodeIdentity:                                  # optional; "{node}": the node's name
        user: system:serviceaccount:gpu-driver:kubelet-plugin
        groups: [system:serviceaccounts]
        extra: {authentication.kubernetes.io/node-name: ["{node}"]}

Everything is checked when the profile is loaded; errors name the field and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path

from dra_conformance.features import Feature
from dra_conformance.profiles.fields import Fields
from dra_conformance.profiles.model import (
    ClaimCredentials,
    ConfigProbe,
    Deployment,
    DeploymentMode,
    DriverProfile,
    FpgaProgramming,
    Injection,
    NodeIdentity,
    Sockets,
)

API_VERSION = "conformance.fakehw.dev/v1alpha1"
KIND = "DriverProfile"
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPEC_KEYS = ("driver", "deviceClasses", "features", "devices", "nodes", "deployment",
              "sockets", "cdi", "injection", "config", "fpgaProgramming", "claimCredentials",
              "nodeIdentity")


def parse(doc: object, source: str, base: Path | None = None) -> DriverProfile:
    """The profile in ``doc`` (parsed YAML); relative paths are taken from ``base``."""
    top = Fields(source, "", doc, ("apiVersion", "kind", "metadata", "spec"))
    top.choice("apiVersion", None, (API_VERSION,))
    top.choice("kind", None, (KIND,))
    top.nested("metadata", ("name", "description"))
    spec = top.nested("spec", _SPEC_KEYS)
    driver = spec.nested("driver", ("name", "version"))
    name = _dns(driver, "name", "the driver name, e.g. gpu.example.com")
    features = _features(spec)
    return DriverProfile(
        driver=name,
        version=str(driver.data.get("version") or "unknown"),
        device_classes=tuple(_dns_list(spec, "deviceClasses")),
        features=features,
        nodes=spec.strings("nodes", "[worker-1]"),
        deployment=_deployment(spec.nested("deployment", (
            "mode", "manifests", "command", "undeployCommand", "restartCommand",
            "updateCommand", "readyTimeoutSeconds")), base),
        sockets=_sockets(spec.nested("sockets", ("registration", "plugin"))),
        cdi_spec_dirs=_cdi_dirs(spec.nested("cdi", ("specDirs",))),
        injection=_injection(spec.nested("injection", (
            "env", "devicePaths", "checkCommand", "image", "deviceEnv"))),
        config=_config(spec.nested("config", (
            "parameters", "expectEnv", "classParameters", "classExpectEnv"))),
        fpga_programming=_fpga_programming(spec, features),
        claim_credentials=_claim_credentials(spec, features),
        simulated_devices=spec.choice("devices", "hardware",
                                      ("hardware", "simulated")) == "simulated",
        node_identity=_node_identity(spec.nested("nodeIdentity", ("user", "groups", "extra"))),
        source=source,
    )


def _dns(fields: Fields, key: str, what: str) -> str:
    value = fields.string(key)
    if not _DNS_SUBDOMAIN.fullmatch(value):
        fields.fail(key, f"{value!r} is not a DNS subdomain",
                    f"use {what} (lowercase letters, digits, '-' and '.')")
    return value


def _dns_list(fields: Fields, key: str) -> list[str]:
    values = fields.strings(key, "[gpu.example.com]")
    for index, value in enumerate(values):
        if not _DNS_SUBDOMAIN.fullmatch(value):
            fields.fail(f"{key}[{index}]", f"{value!r} is not a DeviceClass name",
                        "use a DNS subdomain")
    return list(values)


def _features(spec: Fields) -> frozenset[Feature]:
    features = set()
    for index, text in enumerate(spec.strings("features", "[v1beta1, healthReporting]")):
        try:
            features.add(Feature.parse(text))
        except ValueError as exc:
            spec.fail(f"features[{index}]", str(exc))
    return frozenset(features)


def _deployment(fields: Fields, base: Path | None) -> Deployment:
    mode = DeploymentMode(fields.choice("mode", "deployed", [m.value for m in DeploymentMode]))
    manifests = tuple(_path(m, base) for m in fields.strings("manifests", "[deploy/driver.yaml]"))
    command = fields.strings("command", "[make, deploy]")
    if mode is DeploymentMode.MANIFESTS and not manifests:
        fields.fail("manifests", "is empty but mode is manifests", "list the YAML files to apply")
    if mode is DeploymentMode.COMMAND and not command:
        fields.fail("command", "is empty but mode is command", "give the command as a list")
    return Deployment(
        mode=mode, manifests=manifests, command=command,
        undeploy_command=fields.strings("undeployCommand", "[make, undeploy]"),
        restart_command=fields.strings("restartCommand",
                                       "[kubectl, rollout, restart, ds/driver]"),
        update_command=fields.strings("updateCommand", '[make, roll, "NODE={node}"]'),
        ready_timeout_seconds=fields.number("readyTimeoutSeconds", 120, 1, 3600))


def _path(text: str, base: Path | None) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() or base is None else base / path


def _sockets(fields: Fields) -> Sockets:
    found: dict[str, Path | None] = {}
    for key in ("registration", "plugin"):
        found[key] = None
        if fields.has(key):
            path = Path(fields.string(key))
            if not path.is_absolute():
                fields.fail(key, f"{path} is not absolute", "give the socket's absolute path")
            found[key] = path
    return Sockets(registration=found["registration"], plugin=found["plugin"])


def _cdi_dirs(fields: Fields) -> tuple[Path, ...]:
    if not fields.has("specDirs"):
        return (Path("/etc/cdi"), Path("/var/run/cdi"))
    dirs = tuple(Path(text) for text in fields.strings("specDirs", "[/etc/cdi, /var/run/cdi]"))
    for index, path in enumerate(dirs):
        if not path.is_absolute():
            fields.fail(f"specDirs[{index}]", f"{path} is not absolute",
                        "CDI spec directories are absolute paths on the node")
    return dirs


def _injection(fields: Fields) -> Injection:
    env = fields.strings("env", "[GPU_DEVICE_ID]")
    for index, name in enumerate(env):
        if not _ENV_NAME.fullmatch(name):
            fields.fail(f"env[{index}]", f"{name!r} is not an environment variable name")
    paths = fields.strings("devicePaths", "[/dev/dri/renderD128]")
    for index, path in enumerate(paths):
        if not path.startswith("/"):
            fields.fail(f"devicePaths[{index}]", f"{path!r} is not absolute",
                        "give the path as the container sees it")
    image = fields.data.get("image")
    if image is not None and (not isinstance(image, str) or not image):
        fields.fail("image", f"must be an image reference, got {image!r}")
    device_env = fields.data.get("deviceEnv")
    if device_env is not None:
        try:
            re.compile(str(device_env))
        except re.error as exc:
            fields.fail("deviceEnv", f"{device_env!r} is not a regular expression: {exc}",
                        'e.g. "^GPU_DEVICE_[0-9]+$"')
    return Injection(env=env, device_paths=paths,
                     check_command=fields.strings("checkCommand", "[test, -e, /dev/x]"),
                     image=image, device_env=None if device_env is None else str(device_env))


def _config(fields: Fields) -> ConfigProbe | None:
    if not fields.data:
        return None
    parameters = fields.mapping("parameters")
    expect = _env_map(fields, "expectEnv")
    if not parameters or not expect:
        fields.fail("parameters" if not parameters else "expectEnv", "is empty",
                    "config needs both parameters and the environment they must produce")
    class_parameters = fields.mapping("classParameters") or None
    class_expect = _env_map(fields, "classExpectEnv") or None
    if (class_parameters is None) != (class_expect is None):
        fields.fail("classExpectEnv" if class_parameters else "classParameters", "is missing",
                    "give classParameters and classExpectEnv together")
    return ConfigProbe(parameters=parameters, expect_env=expect,
                       class_parameters=class_parameters, class_expect_env=class_expect)


def _fpga_programming(spec: Fields, features: frozenset[Feature]) -> FpgaProgramming | None:
    fields = spec.nested("fpgaProgramming", ("parameters",))
    claimed = Feature.FPGA_PROGRAMMING in features
    if not fields.data:
        if claimed:
            spec.fail("fpgaProgramming", "is missing",
                      "feature fpgaProgramming needs fpgaProgramming.parameters: the claim's "
                      'opaque parameters, with "{bitstream}" where the image\'s file name goes')
        return None
    parameters = fields.mapping("parameters")
    if "{bitstream}" not in str(parameters):
        fields.fail("parameters", 'names no "{bitstream}"',
                    'put "{bitstream}" where the driver takes the image\'s file name')
    if not claimed:
        spec.fail("features", "does not list fpgaProgramming",
                  "add fpgaProgramming to features, or remove fpgaProgramming")
    return FpgaProgramming(parameters)


def _claim_credentials(spec: Fields, features: frozenset[Feature]) -> ClaimCredentials | None:
    fields = spec.nested("claimCredentials", ("deviceClass", "urlEnv"))
    claimed = Feature.CLAIM_CREDENTIALS in features
    if not fields.data:
        if claimed:
            spec.fail("claimCredentials", "is missing",
                      "feature claimCredentials needs claimCredentials.deviceClass and .urlEnv")
        return None
    if not claimed:
        spec.fail("features", "does not list claimCredentials",
                  "add claimCredentials to features, or remove claimCredentials")
    device_class = _dns(fields, "deviceClass", "the DeviceClass of the network devices")
    pattern = fields.string("urlEnv")
    try:
        re.compile(pattern)
    except re.error as exc:
        fields.fail("urlEnv", f"is not a regular expression: {exc}",
                    'e.g. "^CAMERA_URL$", matching the variable names')
    return ClaimCredentials(device_class, pattern)


def _env_map(fields: Fields, key: str) -> dict[str, str]:
    value = fields.mapping(key)
    for name, text in value.items():
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name) or not isinstance(
                text, str):
            fields.fail(f"{key}.{name}", "must map variable names to strings",
                        "e.g. {GPU_MODE: shared}")
    return {str(k): str(v) for k, v in value.items()}


def _node_identity(fields: Fields) -> NodeIdentity | None:
    if not fields.data:
        return None
    user = fields.string("user")
    extra = fields.mapping("extra")
    for key, values in extra.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            fields.fail(f"extra.{key}", "must be a list of strings",
                        'e.g. {authentication.kubernetes.io/node-name: ["{node}"]}')
    return NodeIdentity(user=user, groups=fields.strings("groups", "[system:serviceaccounts]"),
                        extra={str(k): tuple(v) for k, v in extra.items()})
