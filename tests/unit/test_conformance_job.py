"""The `make conformance` job's pure parts: options, the commands it runs, the files it writes.

The job itself needs a cluster (`make conformance`); here nothing is started. The package is
imported as ``hack.conformancejob``; the script's command line is loaded from its file, as
``python hack/conformance.py`` runs it, with its own copy of the package beside it.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from dra_conformance import profiles as driver_profiles
from dra_reference.discovery.cameras import load_cameras

from hack.conformancejob import commands, supervisor
from hack.conformancejob.settings import (
    PROFILE,
    REPO,
    JobSettings,
    JobSettingsError,
    Node,
    nodes_from_status,
    registry_of,
)
from tests.unit import hackscripts

pytestmark = pytest.mark.unit
STATE = Path("/root/.local/state/fakehw/clusters/conformance")  # the default layout
KUBECONFIG = STATE / "kubeconfig"


def node(index: int) -> Node:
    root = STATE / "nodes" / str(index)
    name = "conformance-control-plane" if index == 0 else "conformance-worker"
    return Node(name, index, root / "kubelet", root / "hardware", root / "cdi")


def status(**changes: Any) -> dict[str, Any]:
    nodes = [{"name": n.name, "kubelet_dir": str(n.kubelet_dir),
              "hardware_root": str(n.hardware_root), "cdi_dir": str(n.cdi_dir)}
             for n in (node(0), node(1))]
    return {"name": "conformance", "running": True, "kubeconfig": str(KUBECONFIG),
            "nodes": nodes, **changes}


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


# -- settings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [{"nodes": 0}, {"nodes": 9}, {"apiserver_port": 0},
                                 {"camera_port": 70000}, {"tier": "everything"},
                                 {"hypothesis_profile": "quick"},
                                 {"node_profiles": ("gpu-sriov-8",)}])
def test_settings_refuse_what_cannot_work(bad: dict[str, Any]) -> None:
    with pytest.raises(JobSettingsError) as error:
        JobSettings(**bad)
    assert isinstance(error.value, ValueError)
    assert "--" in str(error.value)  # names the option


def test_defaults_are_the_standard_ports_and_the_projects_paths() -> None:
    s = JobSettings()
    assert (s.name, s.apiserver_port, s.etcd_port, s.kubelet_port) == (
        "conformance", 6443, 2379, 10250)
    assert s.camera_port is None
    assert s.driver_profile == REPO / "conformance/examples/reference-driver.yaml"
    assert s.results == REPO / "results/conformance"
    assert s.work == s.results / "drivers"


def test_node_profiles_override_the_hardware_profile_where_nodes_exist() -> None:
    s = JobSettings(nodes=2, node_profiles=("1=gpu-sriov-8", "5=numa-mixed"))
    assert s.profiles_by_node() == {0: "edge-node", 1: "gpu-sriov-8"}
    assert JobSettings(nodes=1, node_profiles=("1=gpu-sriov-8",)).profiles_by_node() == {
        0: "edge-node"}


def test_the_drivers_are_recorded_with_the_cluster() -> None:
    assert registry_of(status()) == STATE / "conformance-drivers.json"


def test_nodes_come_from_cluster_status() -> None:
    assert nodes_from_status(status()) == [node(0), node(1)]


def test_a_cluster_without_trees_or_cdi_dirs_is_refused_with_the_fix() -> None:
    old = status()
    del old["nodes"][1]["cdi_dir"]
    with pytest.raises(JobSettingsError, match="fakehw cluster down --name conformance"):
        nodes_from_status(old)
    with pytest.raises(JobSettingsError, match="no nodes"):
        nodes_from_status(status(nodes=[]))


# -- commands ---------------------------------------------------------------------------------

def test_cluster_up_gets_every_port_and_the_subnet() -> None:
    s = JobSettings(apiserver_port=7443, etcd_port=3379, kubelet_port=11250,
                    controller_manager_port=11257, scheduler_port=11259,
                    pod_subnet="10.246.0.0/16", nodes=3, verbose=True)
    command = commands.cluster_up(s, {0: "/tmp/edge.yaml", 1: "gpu-sriov-8"})
    assert command[1:3] == ["-m", "fakehw.cli"]
    assert command[3:5] == ["cluster", "up"]
    assert [a for a in command if a.startswith("--hardware-profile")] == [
        "--hardware-profile=0=/tmp/edge.yaml", "--hardware-profile=1=gpu-sriov-8"]
    expected = {"--name": "conformance", "--nodes": "3",
                "--apiserver-port": "7443", "--etcd-port": "3379", "--kubelet-port": "11250",
                "--controller-manager-port": "11257", "--scheduler-port": "11259",
                "--pod-subnet": "10.246.0.0/16"}
    assert {name: flag(command, name) for name in expected} == expected
    assert "--verbose" in command


def test_each_nodes_driver_reads_its_tree_and_writes_its_own_dirs() -> None:
    s = JobSettings()
    cameras = Path("/tmp/cameras.yaml")
    first, second = (commands.kubelet_plugin(s, node(i), KUBECONFIG, cameras) for i in (0, 1))
    assert first[1:4] == ["-m", "dra_reference", "--log-level"]
    assert flag(first, "--sysfs-root") == str(node(0).hardware_root / "sys")
    assert flag(first, "--devfs-root") == str(node(0).hardware_root / "dev")
    assert flag(first, "--registry-dir") == str(node(0).kubelet_dir / "plugins_registry")
    assert flag(first, "--plugins-dir") == str(node(0).kubelet_dir / "plugins")
    assert flag(first, "--kubeconfig") == str(KUBECONFIG)
    assert flag(first, "--cameras-config") == str(cameras)
    for name in ("--node-name", "--cdi-dir", "--state-dir", "--instance-id", "--sysfs-root"):
        assert flag(first, name) != flag(second, name), f"both nodes' drivers share {name}"
    assert flag(second, "--cdi-dir") == str(node(1).cdi_dir)


def test_the_registration_socket_fits_a_unix_socket_path() -> None:
    command = commands.kubelet_plugin(JobSettings(), node(7), KUBECONFIG, None)
    socket = (f"{flag(command, '--registry-dir')}/{flag(command, '--driver-name')}-"
              f"{flag(command, '--instance-id')}-reg.sock")
    assert len(socket.encode()) <= 107
    assert "--cameras-config" not in command


def test_verbose_drivers_log_at_debug() -> None:
    quiet = commands.camera_controller(JobSettings(), KUBECONFIG, Path("/c.yaml"))
    loud = commands.camera_controller(JobSettings(verbose=True), KUBECONFIG, Path("/c.yaml"))
    assert (flag(quiet, "--log-level"), flag(loud, "--log-level")) == ("info", "debug")
    assert "controller" in quiet


def test_certify_plays_the_first_nodes_kubelet() -> None:
    s = JobSettings(seed=7, tier="cluster", pytest_args=("-k", "slices"))
    command = commands.certify(s, Path("/r/profile.yaml"), KUBECONFIG, node(0))
    assert command[1:4] == ["-m", "dra_conformance", "certify"]
    assert flag(command, "--registration-socket") == str(node(0).registry_dir)
    assert flag(command, "--node") == node(0).name
    assert flag(command, "--fakehw-root") == str(node(0).hardware_root)
    assert (flag(command, "--tier"), flag(command, "--seed")) == ("cluster", "7")
    assert flag(command, "--report-dir") == str(s.results)
    assert command[-3:] == ["--", "-k", "slices"]
    assert "--seed" not in commands.certify(JobSettings(), Path("/p"), KUBECONFIG, node(0))
    assert flag(command, "--companion-class") == commands.COMPANION_DRIVER
    assert "--companion-class" not in commands.certify(JobSettings(companion=False), Path("/p"),
                                                       KUBECONFIG, node(0))
    restart = shlex.split(flag(command, "--kubelet-restart-command"))
    assert restart[1:] == ["-m", "fakehw.cli", "cluster", "restart-kubelet", "--name",
                           s.name, "{node}"]


def test_restart_command_calls_this_script() -> None:
    command = commands.restart_driver(JobSettings(), STATE / "r.json", node(0))
    assert command[1] == str(REPO / "hack/conformance.py")
    assert flag(command, "--registry") == str(STATE / "r.json")
    assert command[2] == "restart-driver"
    assert flag(command, "--node") == node(0).name


# -- files ------------------------------------------------------------------------------------

def test_run_profile_adds_nodes_cdi_dirs_and_restart_to_the_example() -> None:
    example = yaml.safe_load(PROFILE.read_text())
    kept = json.dumps(example)
    restart = commands.restart_driver(JobSettings(), STATE / "r.json", node(0))
    profile = commands.run_profile(example, [node(0), node(1)], restart)
    assert json.dumps(example) == kept, "the example was changed"
    parsed = driver_profiles.loads(yaml.safe_dump(profile))
    assert parsed.nodes == (node(0).name, node(1).name)
    assert parsed.cdi_spec_dirs[-1] == node(0).cdi_dir
    assert parsed.deployment.restart_command == tuple(restart)
    assert parsed.device_classes == driver_profiles.load(PROFILE).device_classes
    assert parsed.features == driver_profiles.load(PROFILE).features


def test_camera_port_moves_every_camera() -> None:
    text = (REPO / "fakehw/profiles/builtin/edge-node.yaml").read_text()
    doc = yaml.safe_load(text)
    doc["spec"]["cameras"].append({**doc["spec"]["cameras"][0], "name": "back-door"})
    moved = yaml.safe_load(commands.with_camera_port(yaml.safe_dump(doc), 9554))
    assert [c["listen"] for c in moved["spec"]["cameras"]] == ["127.0.0.1:9554",
                                                               "127.0.0.1:9555"]
    assert moved["spec"]["gpus"] == doc["spec"]["gpus"]


def test_cameras_file_is_one_the_driver_accepts(tmp_path: Path) -> None:
    running = [{"name": "front-door", "width": 640, "height": 360, "fps": 15, "codec": "h264",
                "host": "127.0.0.1", "port": 9554, "path": "/stream"}]
    path = tmp_path / "cameras.yaml"
    path.write_text(commands.cameras_file(running, Path("/hw/.fakehw/cameras.sock")))
    (camera,) = load_cameras(path)
    assert camera.url == "rtsp://127.0.0.1:9554/stream"
    assert camera.control_socket == Path("/hw/.fakehw/cameras.sock")
    assert (camera.width, camera.height, camera.fps) == (640, 360, 15)


def test_tier_seconds_add_up_tests_by_their_requirements_tier() -> None:
    report = {"requirements": [{"id": "A", "tier": "socket"}, {"id": "B", "tier": "cluster"}],
              "tests": [{"requirements": ["A"], "duration": 1.5},
                        {"requirements": ["A"], "duration": 2.0},
                        {"requirements": ["B"], "duration": 4.0}]}
    assert commands.tier_seconds(report) == {"socket": 3.5, "cluster": 4.0}
    assert commands.tier_seconds({}) == {}


# -- the registry of driver processes ----------------------------------------------------------

def test_a_requested_restart_is_told_from_a_crash(tmp_path: Path) -> None:
    registry = tmp_path / "processes.json"
    assert not supervisor._take_marker(registry, "node-a")
    supervisor._marker(registry, "node-a").touch()
    assert supervisor._take_marker(registry, "node-a")
    assert not supervisor._take_marker(registry, "node-a")


def test_leftovers_are_stopped_only_if_they_are_still_the_same_process(
        tmp_path: Path) -> None:
    registry = tmp_path / "processes.json"
    # a PID that is not running now, and our own PID with a start time it never had
    registry.write_text(json.dumps([
        {"label": "gone", "pid": 2**22 + 1, "started": "1"},
        {"label": "reused", "pid": 1, "started": "not-its-start-time"}]))
    said: list[str] = []
    supervisor.stop_recorded(registry, said.append)
    assert said == []
    assert not registry.exists()


# -- the command line -------------------------------------------------------------------------

@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """hack/conformance.py as Python runs it: its folder first on sys.path."""
    yield from hackscripts.loaded(monkeypatch, "conformance.py")


def test_run_builds_settings_from_options_and_environment(script: ModuleType,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    seen: list[Any] = []

    def execute(job: Any) -> int:
        seen.append(job.s)
        return 3
    monkeypatch.setattr(importlib.import_module("conformancejob.job"), "execute", execute)
    result = CliRunner().invoke(script.main, [
        "run", "--name", "dev", "--camera-port", "9554", "--results", str(tmp_path),
        "--seed", "5", "--keep", "--", "-k", "slices"],
        env={"FAKEHW_CONFORMANCE_RUN_APISERVER_PORT": "7443"})
    assert result.exit_code == 3, result.output
    (settings,) = seen
    assert (settings.name, settings.apiserver_port, settings.camera_port) == ("dev", 7443, 9554)
    assert (settings.seed, settings.keep, settings.results) == (5, True, tmp_path)
    assert settings.pytest_args == ("-k", "slices")


def test_bad_options_are_usage_errors(script: ModuleType) -> None:
    result = CliRunner().invoke(script.main, ["run", "--tier", "everything"])
    assert result.exit_code == 2
    assert "everything" in result.output
    result = CliRunner().invoke(script.main, ["run", "--nodes", "0"])
    assert result.exit_code == 1
    assert "--nodes 0" in result.output


def test_drivers_act_as_their_service_accounts() -> None:
    admin = yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "admin@c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "contexts": [{"name": "admin@c", "context": {"cluster": "c", "user": "admin"}}],
        "users": [{"name": "admin", "user": {"client-certificate": "/a.crt"}}]})
    plugin = yaml.safe_load(commands.acting_as(admin, commands.PLUGIN_ACCOUNT, "node-1"))
    user = plugin["users"][0]["user"]
    assert user == {"client-certificate": "/a.crt", "as": commands.PLUGIN_ACCOUNT,
                    "as-user-extra": {"authentication.kubernetes.io/node-name": ["node-1"]}}
    controller = yaml.safe_load(commands.acting_as(admin, commands.CONTROLLER_ACCOUNT))
    assert controller["users"][0]["user"]["as"] == commands.CONTROLLER_ACCOUNT
    assert "as-user-extra" not in controller["users"][0]["user"]
    rbac = (REPO / "drivers/deploy/rbac.yaml").read_text()
    for account in (commands.PLUGIN_ACCOUNT, commands.CONTROLLER_ACCOUNT):
        namespace, name = account.split(":")[2:]
        assert f"name: {name}\n  namespace: {namespace}" in rbac


def test_the_companion_driver_runs_on_the_first_node_with_its_class() -> None:
    command = commands.companion_driver("/bin/dra-test-driver", node(0), KUBECONFIG)
    assert command[0] == "/bin/dra-test-driver"
    assert f"--node-name={node(0).name}" in command
    assert f"--cdi-dir={node(0).cdi_dir}" in command
    assert f"--plugin-registration-path={node(0).registry_dir}" in command
    assert f"--datadir={node(0).plugins_dir}" in command
    device_class = json.loads(commands.companion_class())
    assert device_class["metadata"]["name"] == commands.COMPANION_DRIVER
    assert commands.COMPANION_DRIVER in device_class["spec"]["selectors"][0]["cel"]["expression"]
