"""Unit tests of cluster management: no subprocesses, no sockets, no cluster."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from rich.console import Console

from fakehw.cluster import providers
from fakehw.cluster.binaries import gomod
from fakehw.cluster.binaries.builder import BinarySet
from fakehw.cluster.binaries.cache import CacheEntry, default_cache_dir
from fakehw.cluster.binaries.recipes import recipes
from fakehw.cluster.binaries.toolchain import check_disk, parse_go_version
from fakehw.cluster.errors import (
    ClusterConfigError,
    ComponentError,
    DiskSpaceError,
    PortInUseError,
    ToolchainError,
    UnknownProviderError,
)
from fakehw.cluster.images.oci import Entry, ImageSpec, layer_bytes, write_oci_archive
from fakehw.cluster.local import components, configs, pki
from fakehw.cluster.local.identities import certificate_requests
from fakehw.cluster.local.layout import ClusterLayout
from fakehw.cluster.local.node_actions import NodeCreation
from fakehw.cluster.local.plan import creation_steps
from fakehw.cluster.local.state import ClusterState
from fakehw.cluster.local.teardown import teardown_steps
from fakehw.cluster.settings import (
    ClusterSettings,
    default_state_dir,
    parse_feature_gates,
    parse_runtime_config,
)
from fakehw.cluster.steps import Step, run_steps
from fakehw.cluster.versions import Versions
from fakehw.errors import ClusterError

pytestmark = pytest.mark.unit

KUBERNETES_GO_MOD = """module k8s.io/kubernetes

require (
\tgithub.com/foo/bar v1.2.3
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0 // indirect
\tk8s.io/kube-openapi v0.0.0-20260721132016-d427ff9ee9ad
\tk8s.io/streaming v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
)
"""


def _settings(tmp_path: Path, **overrides: object) -> ClusterSettings:
    return ClusterSettings(state_dir=tmp_path, **overrides)  # type: ignore[arg-type]


def _binaries() -> BinarySet:
    names = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
             "kubectl", "containerd", "ctr", "containerd-shim-runc-v2", "pause"]
    return BinarySet({n: Path("/cache") / n for n in names})


# -- wrapper modules and the binary cache ----------------------------------------------------

def test_staging_modules_are_the_v0_0_0_requirements() -> None:
    assert gomod.staging_modules(KUBERNETES_GO_MOD) == [
        "k8s.io/api", "k8s.io/client-go", "k8s.io/streaming"]


def test_wrapper_go_mod_replaces_each_staging_module_with_its_release() -> None:
    text = gomod.kubernetes_go_mod("v1.37.2", "v0.37.2", ["k8s.io/api", "k8s.io/streaming"])
    assert "require k8s.io/kubernetes v1.37.2" in text
    assert "\tk8s.io/api => k8s.io/api v0.37.2" in text
    assert "\tk8s.io/streaming => k8s.io/streaming v0.37.2" in text
    assert '_ "k8s.io/kubernetes/cmd/kubelet/app"' in gomod.kubernetes_tools_go()


def test_ldflags_stamp_both_version_packages() -> None:
    flags = gomod.kubernetes_ldflags("v1.37.2", "2026-01-01T00:00:00Z")
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {package}.gitVersion=v1.37.2" in flags
        assert f"-X {package}.gitMinor=37" in flags
    assert "etcdmain.Main(os.Args)" in gomod.etcd_main_go()
    assert "version.Version=v2.4.2" in gomod.containerd_ldflags("v2.4.2")


def test_staging_version_follows_the_release() -> None:
    assert Versions(kubernetes="v1.36.4").staging == "v0.36.4"
    assert Versions().kubernetes_minor == 37


def test_cache_entry_hits_only_with_matching_version_and_checksums(tmp_path: Path) -> None:
    entry = CacheEntry(tmp_path, "etcd", "v3.7.3")
    entry.directory.mkdir(parents=True)
    entry.path("etcd").write_bytes(b"binary")
    assert not entry.is_valid(["etcd"])
    entry.write_manifest(["etcd"])
    assert entry.is_valid(["etcd"])
    assert not CacheEntry(tmp_path, "etcd", "v3.7.4").is_valid(["etcd"])
    entry.path("etcd").write_bytes(b"truncated")
    assert not entry.is_valid(["etcd"])
    entry.write_manifest(["etcd"])
    manifest = json.loads((entry.directory / "manifest.json").read_text())
    assert manifest["files"]["etcd"] == hashlib.sha256(b"truncated").hexdigest()
    entry.invalidate()
    assert not entry.is_valid(["etcd"])
    entry.write_manifest(["etcd"], fingerprint="abc")
    assert entry.is_valid(["etcd"], "abc")
    assert not entry.is_valid(["etcd"], "def")


def test_cache_dir_comes_from_the_environment() -> None:
    assert default_cache_dir({"FAKEHW_CACHE_DIR": "/x"}) == Path("/x")
    assert default_cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/fakehw")
    assert default_state_dir({"FAKEHW_STATE_DIR": "/s"}) == Path("/s")


def test_recipes_build_every_binary_and_the_test_driver_only_on_request() -> None:
    built = {r.component: r for r in recipes(Versions())}
    assert set(built) == {"pause", "etcd", "containerd", "kubernetes", "dra-test-driver",
                          "fakehw-cdi-plugin", "kube-proxy", "coredns", "helm"}
    for optional in ("dra-test-driver", "fakehw-cdi-plugin", "helm"):
        assert built[optional].optional, optional
    assert not built["kube-proxy"].optional
    assert not built["coredns"].optional
    assert built["helm"].version == Versions().helm
    assert built["kubernetes"].override_env == "FAKEHW_K8S_BIN_DIR"
    assert "kubelet" in built["kubernetes"].binaries


def test_go_version_parsing_and_disk_check(tmp_path: Path) -> None:
    assert parse_go_version("go version go1.26.8 linux/amd64") == (1, 26, 8)
    assert parse_go_version("go version go1.27 linux/amd64") == (1, 27, 0)
    with pytest.raises(ToolchainError):
        parse_go_version("bash: go: not found")
    with pytest.raises(DiskSpaceError, match="FAKEHW_CACHE_DIR"):
        check_disk(tmp_path / "not" / "yet", 1 << 60, "a test")


# -- images ------------------------------------------------------------------------------------

def test_oci_archive_is_a_consistent_image_layout(tmp_path: Path) -> None:
    binary = tmp_path / "hello"
    binary.write_bytes(b"#!/bin/sh\necho hi\n")
    spec = ImageSpec("fakehw.local/test:2", [Entry("bin/hello", source=binary),
                                              Entry("bin/sh", link="/bin/hello")],
                     cmd=["/bin/hello"])
    archive = write_oci_archive(spec, tmp_path / "image.tar")
    with tarfile.open(archive) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    index = json.loads(files["index.json"])
    descriptor = index["manifests"][0]
    assert descriptor["annotations"]["io.containerd.image.name"] == "fakehw.local/test:2"
    assert descriptor["annotations"]["org.opencontainers.image.ref.name"] == "2"
    for name, blob in files.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(blob).hexdigest() == name.rsplit("/", 1)[1]
    manifest = json.loads(files["blobs/sha256/" + descriptor["digest"].split(":")[1]])
    config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]])
    layer_digest = manifest["layers"][0]["digest"]
    assert config["rootfs"]["diff_ids"] == [layer_digest]
    assert config["config"]["Cmd"] == ["/bin/hello"]


def test_layers_are_reproducible_and_hold_parents() -> None:
    entries = [Entry("usr/bin/tool", data=b"x"), Entry("bin/sh", link="/usr/bin/tool")]
    assert layer_bytes(entries) == layer_bytes(list(reversed(entries)))
    with tarfile.open(fileobj=io.BytesIO(layer_bytes(entries))) as tar:
        names = tar.getnames()
        assert {"usr", "usr/bin", "bin"} <= set(names)
        assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())


# -- certificates ------------------------------------------------------------------------------

def test_certificates_name_users_groups_and_addresses(tmp_path: Path) -> None:
    layout = ClusterLayout(_settings(tmp_path, nodes=2))
    authority = pki.new_authority()
    issued = {r.name: pki.issue(authority, r)[1] for r in certificate_requests(layout)}
    kubelet = issued["kubelet-1"]
    assert kubelet.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "system:node:fakehw-worker")
    assert kubelet.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "system:nodes")
    assert issued["admin"].subject.get_attributes_for_oid(
        NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    serving = issued["apiserver"]
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc" in names.get_values_for_type(x509.DNSName)
    assert {str(a) for a in names.get_values_for_type(x509.IPAddress)} >= {
        "127.0.0.1", "10.96.0.1", "10.244.0.1", "10.244.1.1"}
    usage = serving.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    for certificate in issued.values():
        certificate.verify_directly_issued_by(authority.certificate)


def test_key_files_are_private(tmp_path: Path) -> None:
    authority = pki.new_authority()
    pki.write_pair(tmp_path, "ca", authority.key, authority.certificate)
    pki.write_service_account_keys(tmp_path)
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "sa.key").stat().st_mode & 0o777 == 0o600
    assert b"PUBLIC KEY" in (tmp_path / "sa.pub").read_bytes()


# -- configuration files -----------------------------------------------------------------------

def test_kubelet_config_suits_a_cgroup_v1_host_without_systemd(tmp_path: Path) -> None:
    layout = ClusterLayout(_settings(tmp_path, feature_gates={"DRAListTypeAttributes": True}))
    config = yaml.safe_load(configs.kubelet_config(layout, layout.nodes[0]))
    assert config["failCgroupV1"] is False
    assert config["cgroupDriver"] == "cgroupfs"
    assert config["cgroupRoot"] == "/fakehw-fakehw-0"
    assert config["failSwapOn"] is False
    assert config["makeIPTablesUtilChains"] is False
    assert config["imageGCHighThresholdPercent"] == 100
    assert set(config["evictionHard"].values()) == {"0%"}
    assert config["featureGates"] == {"DRAListTypeAttributes": True}
    assert config["containerRuntimeEndpoint"].endswith("nodes/0/containerd/containerd.sock")


def test_containerd_config_is_an_instance_of_its_own(tmp_path: Path) -> None:
    layout = ClusterLayout(_settings(tmp_path))
    node = layout.nodes[0]
    shim = Path("/cache/containerd-v2.4.2/containerd-shim-runc-v2")
    config = tomllib.loads(configs.containerd_config(
        layout, node, runc=Path("/usr/sbin/runc"), shim=shim))
    assert config["root"].startswith(str(node.containerd_dir))
    assert config["state"].startswith(str(node.containerd_dir))
    plugins = config["plugins"]
    assert plugins["io.containerd.server.v1.grpc"]["address"] == str(node.containerd_socket)
    assert plugins["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == (
        "fakehw.local/pause:1.0")
    runtime = plugins["io.containerd.cri.v1.runtime"]
    assert runtime["cdi_spec_dirs"] == ["/etc/cdi", "/var/run/cdi", str(node.cdi_dir)]
    runc = runtime["containerd"]["runtimes"]["runc"]
    assert runc["options"]["SystemdCgroup"] is False
    # Named, never looked up on PATH (where Docker's containerd 1.x shim may come first).
    assert runc["runtime_path"] == str(shim)
    assert runc["options"]["BinaryName"] == "/usr/sbin/runc"
    assert runtime["cni"]["bin_dirs"] == ["/usr/lib/cni"]
    assert runtime["cni"]["conf_dir"] == str(node.cni_conf_dir)
    assert len(plugins["io.containerd.shim.v1.manager"]["socket_dir"]) <= 42
    assert config["imports"] == []


def test_cni_uses_the_nodes_bridge_without_masquerading(tmp_path: Path) -> None:
    layout = ClusterLayout(_settings(tmp_path, nodes=3))
    conflist = json.loads(configs.cni_conflist(layout.nodes[2]))
    bridge = conflist["plugins"][0]
    assert bridge["bridge"] == layout.nodes[2].bridge
    assert len(bridge["bridge"]) <= 15
    assert bridge["ipMasq"] is False
    assert bridge["ipam"]["ranges"][0][0]["subnet"] == "10.244.2.0/24"


def test_kubeconfig_points_at_loopback_with_client_files(tmp_path: Path) -> None:
    text = configs.kubeconfig("c", "https://127.0.0.1:6443", b"PEM", user="admin",
                              cert=tmp_path / "a.crt", key=tmp_path / "a.key")
    document = yaml.safe_load(text)
    assert document["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    assert document["users"][0]["user"]["client-key"] == str(tmp_path / "a.key")


# -- command lines -----------------------------------------------------------------------------

def test_feature_gates_reach_all_four_components(tmp_path: Path) -> None:
    gates = {"DRAListTypeAttributes": True, "DRAPartitionableDevices": False}
    layout = ClusterLayout(_settings(tmp_path, feature_gates=gates))
    flag = "--feature-gates=DRAListTypeAttributes=true,DRAPartitionableDevices=false"
    for build in (components.kube_apiserver, components.kube_controller_manager,
                  components.kube_scheduler):
        assert flag in build(layout, _binaries())
    assert yaml.safe_load(configs.kubelet_config(layout, layout.nodes[0]))["featureGates"] == gates
    apiserver = components.kube_apiserver(layout, _binaries())
    runtime_config = next(a for a in apiserver if a.startswith("--runtime-config="))
    assert "resource.k8s.io/v1alpha3=true" in runtime_config


def test_control_plane_listens_on_loopback_with_authz(tmp_path: Path) -> None:
    layout = ClusterLayout(_settings(tmp_path, apiserver_port=7443, etcd_port=3379))
    apiserver = components.kube_apiserver(layout, _binaries())
    assert "--bind-address=127.0.0.1" in apiserver
    assert "--secure-port=7443" in apiserver
    assert "--etcd-servers=http://127.0.0.1:3379" in apiserver
    assert "--authorization-mode=Node,RBAC" in apiserver
    assert "--enable-admission-plugins=NodeRestriction" in apiserver
    assert not any(a.startswith("--feature-gates") for a in apiserver)
    assert "--leader-elect=false" in components.kube_scheduler(layout, _binaries())
    assert "--leader-elect=false" in components.kube_controller_manager(layout, _binaries())
    etcd = components.etcd(layout, _binaries())
    assert "--listen-client-urls=http://127.0.0.1:3379" in etcd


# -- settings ----------------------------------------------------------------------------------

def test_feature_gate_syntax_errors_are_value_errors() -> None:
    assert parse_feature_gates("A=true, B=false") == {"A": True, "B": False}
    for bad in ("A", "A=yes", "a=true", "=true"):
        with pytest.raises(ClusterConfigError) as error:
            parse_feature_gates(bad)
        assert isinstance(error.value, ValueError)
    assert parse_runtime_config("resource.k8s.io/v1alpha3") == {
        "resource.k8s.io/v1alpha3": "true"}
    with pytest.raises(ClusterConfigError):
        parse_runtime_config("nonsense=true")


def test_settings_reject_bad_names_counts_and_ports(tmp_path: Path) -> None:
    for bad in ({"name": "Bad_Name"}, {"nodes": 0}, {"nodes": 9}, {"apiserver_port": 70000},
                {"hardware_roots": {3: Path("/hw")}}, {"pod_subnet": "10.244.0.0/33"},
                {"pod_subnet": "10.244.0.0/25"}, {"pod_subnet": "10.244.0.0/24", "nodes": 2}):
        with pytest.raises(ClusterConfigError):
            _settings(tmp_path, **bad)


def test_each_node_has_its_own_ports_names_and_dirs(tmp_path: Path) -> None:
    settings = _settings(tmp_path, nodes=3, hardware_roots={1: Path("/hw/b")})
    layout = ClusterLayout(settings)
    names = [n.name for n in layout.nodes]
    assert names == ["fakehw-control-plane", "fakehw-worker", "fakehw-worker2"]
    assert len({n.kubelet_port for n in layout.nodes}) == 3
    assert len({n.containerd_socket for n in layout.nodes}) == 3
    assert len({n.cgroup_root for n in layout.nodes}) == 3
    assert len({n.cdi_dir for n in layout.nodes}) == 3
    assert layout.nodes[1].hardware_root == Path("/hw/b")
    assert layout.nodes[0].hardware_root is None
    ports = list(settings.ports().values())
    assert len(ports) == len(set(ports))


def test_port_in_use_error_names_port_and_purpose() -> None:
    error = PortInUseError(6443, "kube-apiserver")
    assert "6443" in str(error)
    assert "kube-apiserver" in str(error)
    assert isinstance(error, ClusterError)


# -- steps and providers -----------------------------------------------------------------------

def test_creation_steps_are_ordered_and_cover_every_node(tmp_path: Path) -> None:
    layout = ClusterLayout(_settings(tmp_path, nodes=2))
    creation = NodeCreation(layout, Console(quiet=True), ClusterState(layout.state_file, "fakehw"))
    titles = [s.title for s in creation_steps(creation)]
    assert titles[0].startswith("check the host")
    assert titles.index("start etcd") < titles.index("start kube-apiserver")
    for node in layout.nodes:
        bridge = titles.index(f"{node.name}: create bridge {node.bridge} ({node.node_ip})")
        kubelet = titles.index(f"{node.name}: start kubelet")
        assert bridge < titles.index("start kube-apiserver") < kubelet
        assert titles.index(f"{node.name}: start containerd") < kubelet
    assert titles[-1] == "record the cluster as up"


def test_teardown_stops_kubelets_first_and_keeps_logs_last(tmp_path: Path) -> None:
    state = ClusterState(tmp_path / "state.json", "x")
    titles = [s.title for s in teardown_steps(state, tmp_path)]
    assert titles[0] == "stop kubelets"
    unmount = titles.index(f"unmount everything under {tmp_path} and the kubelet roots")
    assert titles.index("stop containerd and the control plane") < unmount
    assert unmount < titles.index("remove shim socket and kubelet directories")
    assert titles[-1].endswith("(logs/ is kept)")


def test_a_failing_step_stops_the_run() -> None:
    ran: list[str] = []

    def fail() -> None:
        raise ClusterError("boom")

    steps = [Step("one", lambda: ran.append("one")), Step("two", fail),
             Step("three", lambda: ran.append("three"))]
    with pytest.raises(ClusterError, match="boom"):
        run_steps(steps, Console(quiet=True))
    assert ran == ["one"]


def test_providers_are_picked_by_name() -> None:
    assert providers.get_provider("local").name == "local"
    assert providers.get_provider("kind").name == "kind"
    with pytest.raises(UnknownProviderError, match="choose one of kind, local") as error:
        providers.get_provider("minikube")
    assert isinstance(error.value, ValueError)


def test_state_round_trips(tmp_path: Path) -> None:
    from fakehw.cluster.local.processes import ProcessRecord  # noqa: PLC0415

    state = ClusterState(tmp_path / "state.json", "c", bridges=["b0"], cgroups=["/fakehw-c-0"])
    state.add_process(ProcessRecord("etcd", 42, 7, "/l", ("etcd", "--x")))
    loaded = ClusterState.load(tmp_path / "state.json")
    assert loaded is not None
    assert loaded.processes == state.processes
    assert loaded.bridges == ["b0"]
    assert ClusterState.load(tmp_path / "missing.json") is None


def test_known_failures_get_a_hint() -> None:
    from fakehw.cluster.local.hints import explain  # noqa: PLC0415

    tail = ('E1128 run.go:72] "command failed" err="failed to validate kubelet configuration: '
            'kubelet is configured to not run on a host using cgroup v1. cgroup v1 support is '
            'unsupported and will be removed in a future release"')
    assert "failCgroupV1: false" in explain(tail)
    assert explain("all is well") == ""
    error = ComponentError("kubelet-0", "exited before it was healthy", tail, explain(tail))
    assert str(error).startswith("kubelet-0: exited before it was healthy\n--- last lines")
    assert str(error).endswith(explain(tail))


def test_steps_may_run_steps_of_their_own() -> None:
    console = Console(quiet=True)
    ran: list[str] = []
    inner = [Step("inner", lambda: ran.append("inner"))]
    outer = [Step("outer", lambda: ran.extend(r.title for r in run_steps(inner, console))),
             Step("last", lambda: ran.append("last"))]
    assert [r.title for r in run_steps(outer, console)] == ["outer", "last"]
    assert ran == ["inner", "inner", "last"]


def test_missing_go_says_how_to_get_it_or_avoid_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from fakehw.cluster.binaries import toolchain  # noqa: PLC0415

    monkeypatch.setattr("fakehw.cluster.binaries.toolchain.shutil.which", lambda name: None)
    with pytest.raises(ToolchainError, match="FAKEHW_K8S_BIN_DIR") as error:
        toolchain.find_go(fallbacks=())
    assert "Go >= 1.26.0" in str(error.value)
