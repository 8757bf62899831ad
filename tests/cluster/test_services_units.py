"""Unit tests of a local cluster's Services, DNS and per-node paths: no cluster, no processes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from fakehw.cluster.binaries.builder import BinarySet
from fakehw.cluster.local import components, configs, mountns, nodepaths, services
from fakehw.cluster.local.identities import certificate_requests, kubeconfig_users
from fakehw.cluster.local.layout import ClusterLayout
from fakehw.cluster.local.node_actions import NodeCreation
from fakehw.cluster.local.plan import creation_steps
from fakehw.cluster.local.state import ClusterState
from fakehw.cluster.settings import ClusterSettings

pytestmark = pytest.mark.unit

BINARIES = BinarySet({n: Path("/cache") / n for n in (
    "kube-apiserver", "kubelet", "kube-proxy", "coredns")})


def _layout(tmp_path: Path, **overrides: object) -> ClusterLayout:
    settings = ClusterSettings(state_dir=tmp_path, nodes=2, **overrides)  # type: ignore[arg-type]
    return ClusterLayout(settings)


def test_with_services_the_api_server_listens_on_the_first_bridge(tmp_path: Path) -> None:
    plain, full = _layout(tmp_path), _layout(tmp_path, services=True)
    assert "--bind-address=127.0.0.1" in components.kube_apiserver(plain, BINARIES)
    first = full.nodes[0].node_ip
    assert f"--bind-address={first}" in components.kube_apiserver(full, BINARIES)
    assert f"--advertise-address={first}" in components.kube_apiserver(full, BINARIES)
    assert services.apiserver_host(full) == first == "10.244.0.1"


def test_kube_proxy_keeps_to_its_own_tables_and_the_hosts_settings(tmp_path: Path) -> None:
    layout = _layout(tmp_path, services=True, kube_proxy_port=11249)
    config = yaml.safe_load(services.kube_proxy_config(layout, "/k/kube-proxy"))
    assert config["mode"] == "nftables"
    assert config["clusterCIDR"] == "10.244.0.0/16"
    assert config["nftables"]["masqueradeAll"] is True
    assert config["healthzBindAddress"] == "127.0.0.1:11256"
    assert config["metricsBindAddress"] == "127.0.0.1:11249"
    assert config["nodePortAddresses"] == ["10.244.0.1/32"]
    # conntrack sysctls and its OOM score are left as the host has them
    assert config["conntrack"]["maxPerCore"] == 0
    assert config["oomScoreAdj"] == 0
    assert components.kube_proxy(layout, BINARIES)[1].endswith("kube-proxy.yaml")


def test_coredns_serves_the_cluster_zone_and_forwards_nothing(tmp_path: Path) -> None:
    layout = _layout(tmp_path, services=True, dns_port=11053)
    corefile = services.corefile(layout, "/k/coredns")
    assert corefile.startswith(".:11053 {")
    assert "bind 10.244.0.1" in corefile
    assert "kubernetes cluster.local in-addr.arpa ip6.arpa" in corefile
    assert "kubeconfig /k/coredns fakehw" in corefile
    assert "forward" not in corefile
    objects = {o["kind"]: o for o in services.objects(layout)}
    assert objects["Service"]["spec"]["clusterIP"] == services.dns_service_ip(layout) == \
        "10.96.0.10"
    assert [p["targetPort"] for p in objects["Service"]["spec"]["ports"]] == [11053, 11053]
    slice_ = objects["EndpointSlice"]
    assert slice_["endpoints"][0]["addresses"] == ["10.244.0.1"]
    assert slice_["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns"
    assert objects["ClusterRoleBinding"]["subjects"][0]["name"] == services.COREDNS_USER
    assert len(yaml.safe_load_all(services.manifest(layout)).__iter__().__next__()) > 0


def test_kubelets_name_the_cluster_dns_only_with_services(tmp_path: Path) -> None:
    plain, full = _layout(tmp_path), _layout(tmp_path, services=True)
    assert yaml.safe_load(configs.kubelet_config(plain, plain.nodes[1]))["clusterDNS"] == []
    assert yaml.safe_load(configs.kubelet_config(full, full.nodes[1]))["clusterDNS"] == [
        "10.96.0.10"]


def test_pods_route_to_the_cluster_subnets_only(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    ipam = json.loads(configs.cni_conflist(layout.nodes[1]))["plugins"][0]["ipam"]
    assert ipam["routes"] == [{"dst": "10.244.0.0/16"}, {"dst": "10.96.0.0/16"}]
    assert all(route["dst"] != "0.0.0.0/0" for route in ipam["routes"])


def test_services_add_identities_ports_and_steps(tmp_path: Path) -> None:
    plain, full = _layout(tmp_path), _layout(tmp_path, services=True)
    names = {r.common_name for r in certificate_requests(full)}
    assert {"system:kube-proxy", "system:coredns"} <= names
    assert not {"system:kube-proxy", "system:coredns"} & {
        r.common_name for r in certificate_requests(plain)}
    assert {"kube-proxy", "coredns"} <= set(kubeconfig_users(full))
    ports = full.settings.ports()
    assert ports["CoreDNS"] == 10053
    assert ports["kube-proxy healthz"] == 10256
    assert len(set(ports.values())) == len(ports)
    assert "CoreDNS" not in plain.settings.ports()

    def titles(layout: ClusterLayout) -> list[str]:
        creation = NodeCreation(layout, Console(quiet=True),
                                ClusterState(layout.state_file, "fakehw"))
        return [s.title for s in creation_steps(creation)]

    steps = titles(full)
    # kube-proxy reads its node's addresses, so it starts once the nodes are Ready
    assert steps.index("wait for every node to be Ready") < steps.index(
        "start kube-proxy (nftables)") < steps.index("start CoreDNS and the kube-dns Service")
    assert "start kube-proxy (nftables)" not in titles(plain)
    assert any("fakehw-node-paths" in t for t in titles(plain))


def test_node_paths_map_the_longest_prefix_to_the_nodes_own(tmp_path: Path) -> None:
    layout = _layout(tmp_path, hardware_profiles={1: "edge-node"})
    plain, hardware = layout.nodes
    kubelet, cdi = str(hardware.kubelet_dir), str(hardware.cdi_dir)
    tree = str(hardware.hardware_root)
    assert nodepaths.map_path(hardware, "/var/lib/kubelet/plugins_registry") == \
        f"{kubelet}/plugins_registry"
    assert nodepaths.map_path(hardware, "/var/lib/kubelet") == kubelet
    assert nodepaths.map_path(hardware, "/var/run/cdi") == cdi
    assert nodepaths.map_path(hardware, "/etc/cdi") == cdi
    assert nodepaths.map_path(hardware, "/sys") == f"{tree}/sys"
    assert nodepaths.map_path(hardware, "/dev/dri") == f"{tree}/dev/dri"
    # a prefix matches whole path components only
    assert nodepaths.map_path(hardware, "/system") == "/system"
    assert nodepaths.map_path(hardware, "/var/lib/kubelets") == "/var/lib/kubelets"
    # a node without a fakehw tree keeps the host's /sys and /dev
    assert nodepaths.map_path(plain, "/sys") == "/sys"
    assert nodepaths.map_path(plain, "/var/lib/kubelet/plugins") == \
        f"{plain.kubelet_dir}/plugins"


def test_the_policy_holds_every_nodes_rules(tmp_path: Path) -> None:
    layout = _layout(tmp_path, hardware_profiles={0: "edge-node"})
    policy, binding = nodepaths.policy(layout)
    variables = {v["name"]: v["expression"] for v in policy["spec"]["variables"]}
    table = json.loads(variables["table"])
    assert set(table) == {n.name for n in layout.nodes}
    assert table[layout.nodes[0].name] == [list(r) for r in nodepaths.rules(layout.nodes[0])]
    lengths = [len(prefix) for prefix, _ in nodepaths.rules(layout.nodes[0])]
    assert lengths == sorted(lengths, reverse=True)
    assert policy["spec"]["matchConstraints"]["resourceRules"][0]["operations"] == ["CREATE"]
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]


def test_the_kubelet_runs_in_a_mount_namespace_of_its_own(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    node = layout.nodes[1]
    argv = components.kubelet(layout, node, BINARIES)
    assert argv[:3] == [sys.executable, "-m", "fakehw.cluster.local.mountns"]
    assert f"--bind={node.kubelet_dir}:/var/lib/kubelet" in argv
    command = mountns.command_of(argv)
    assert command[0] == "/cache/kubelet"
    assert f"--root-dir={node.kubelet_dir}" in command
    assert mountns.command_of(command) == command


def test_mountns_refuses_a_missing_command() -> None:
    with pytest.raises(SystemExit):
        mountns.main(["--bind=/a:/b"])
    with pytest.raises(SystemExit):
        mountns.main(["--bind=/a", "--", "/bin/true"])
