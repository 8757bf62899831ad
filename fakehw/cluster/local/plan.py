"""The ordered steps of `up` for the local provider (kind's create/actions, as a list)."""

from __future__ import annotations

from functools import partial

from fakehw import profiles
from fakehw.cluster.local.node_actions import NodeCreation
from fakehw.cluster.steps import Step


def creation_steps(c: NodeCreation) -> list[Step]:
    """The ordered steps of `up` for the local provider."""
    nodes = c.layout.nodes
    steps = [
        Step("check the host (root, runc, CNI plugins, free ports, disk)", c.preflight),
        Step("find or build the binaries", c.find_binaries),
        Step("check the feature gates", c.check_feature_gates),
        Step(f"prepare {c.layout.run_dir}", c.prepare_directories),
        Step("write certificates and service-account keys", c.write_certificates),
        Step("write kubeconfigs", c.write_kubeconfigs),
        Step("write the pause and workload images", c.write_images),
    ]
    camera_node = next((n.index for n in nodes if n.index in c.layout.settings.hardware_profiles
                        and profiles.load(c.layout.settings.hardware_profiles[n.index]).cameras),
                       None)
    for node in nodes:
        if node.index in c.layout.settings.hardware_profiles:
            steps.append(Step(
                f"{node.name}: fake hardware "
                f"{c.layout.settings.hardware_profiles[node.index]} at {node.hardware_root}",
                partial(c.create_hardware, node, node.index == camera_node)))
        steps += [
            Step(f"{node.name}: create bridge {node.bridge} ({node.node_ip})",
                 partial(c.create_network, node)),
            Step(f"{node.name}: create cgroup root {node.cgroup_root}",
                 partial(c.create_cgroups, node)),
        ]
    steps += [
        Step("start etcd", c.start_etcd),
        Step("start kube-apiserver", c.start_apiserver),
        Step("start kube-controller-manager and kube-scheduler", c.start_controllers),
        Step("map hostPath volumes to each node's folders (fakehw-node-paths)",
             c.apply_node_paths),
    ]
    for node in nodes:
        steps += [
            Step(f"{node.name}: start containerd", partial(c.start_containerd, node)),
            Step(f"{node.name}: import images", partial(c.import_images, node)),
            Step(f"{node.name}: start kubelet", partial(c.start_kubelet, node)),
        ]
    steps.append(Step("wait for every node to be Ready", c.wait_nodes_ready))
    if c.layout.settings.services:
        # kube-proxy reads its node's addresses from the Node object.
        steps += [
            Step("start kube-proxy (nftables)", c.start_kube_proxy),
            Step("start CoreDNS and the kube-dns Service", c.start_coredns),
        ]
    steps += [
        Step("wait for the default service account", c.wait_default_service_account),
        Step("record the cluster as up", c.record_up),
    ]
    return steps
