"""Each node's own world at the paths a chart mounts, although all nodes share one host.

A driver's DaemonSet mounts `hostPath: /var/lib/kubelet/plugins`, `/var/lib/kubelet/
plugins_registry`, `/var/run/cdi`, `/sys` and `/dev` and expects the node's own. Here the
nodes' kubelet roots, CDI folders and fakehw trees live at paths of their own, so the cluster
maps the paths, with two real mechanisms:

1. A MutatingAdmissionPolicy (`fakehw-node-paths`) rewrites the hostPath volumes of a pod
   bound to a node when it is created: a DaemonSet's pods (the DaemonSet controller names the
   node in their node affinity) and pods created with `spec.nodeName`. The longest matching
   prefix wins; the pod spec shows the path really mounted. A pod left to the scheduler keeps
   its paths (no node is known when it is admitted).

       /var/lib/kubelet        -> the node's kubelet root
       /var/run/cdi, /run/cdi, /etc/cdi -> the node's CDI folder (its containerd reads it)
       /sys, /dev              -> the node's fakehw tree, when it has one

2. Each kubelet runs in a mount namespace of its own where `/var/lib/kubelet` is its root
   (mountns.py). A driver announces its socket by the path it sees in its container, usually
   `/var/lib/kubelet/plugins/<driver>/dra.sock`; the kubelet dials that path, and finds its
   own node's socket there.
"""

from __future__ import annotations

import json
from typing import Any

from fakehw.cluster.local.layout import ClusterLayout, NodeLayout

POLICY = "fakehw-node-paths"
KUBELET_ROOT = "/var/lib/kubelet"
CDI_PATHS = ("/var/run/cdi", "/run/cdi", "/etc/cdi")


def rules(node: NodeLayout) -> list[tuple[str, str]]:
    """(host path prefix as charts write it, this node's path), longest prefix first."""
    mapped = [(KUBELET_ROOT, str(node.kubelet_dir))]
    mapped += [(path, str(node.cdi_dir)) for path in CDI_PATHS]
    if node.hardware_root is not None:
        mapped += [("/sys", str(node.hardware_root / "sys")),
                   ("/dev", str(node.hardware_root / "dev"))]
    return sorted(mapped, key=lambda rule: len(rule[0]), reverse=True)


def map_path(node: NodeLayout, path: str) -> str:
    """What the policy makes of one hostPath on `node` (the CEL below, in Python)."""
    for prefix, target in rules(node):
        if path == prefix or path.startswith(prefix + "/"):
            return target + path[len(prefix):]
    return path


# The node a pod is bound to at creation, as a list of zero or one name.
_BOUND = """\
variables.nodes.filter(n, (has(object.spec.nodeName) && object.spec.nodeName == n) ||
  (has(object.spec.affinity) && has(object.spec.affinity.nodeAffinity) &&
   has(object.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution) &&
   object.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
     .nodeSelectorTerms.exists(t, has(t.matchFields) && t.matchFields.exists(f,
       f.key == 'metadata.name' && f.operator == 'In' && n in f.values))))"""

_MATCHES = "(v.hostPath.path == r[0] || v.hostPath.path.startsWith(r[0] + '/'))"

_MUTATION = f"""\
Object{{spec: Object.spec{{volumes: object.spec.volumes
  .filter(v, has(v.hostPath) && variables.rules.exists(r, {_MATCHES}))
  .map(v, Object.spec.volumes{{name: v.name, hostPath: Object.spec.volumes.hostPath{{
    path: variables.rules.filter(r, {_MATCHES})
      .map(r, r[1] + v.hostPath.path.substring(size(r[0])))[0]}}}})}}}}"""


def policy(layout: ClusterLayout) -> list[dict[str, Any]]:
    """The policy and its binding, with every node's rules written into the policy."""
    table = {node.name: [list(rule) for rule in rules(node)] for node in layout.nodes}
    return [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicy",
         "metadata": {"name": POLICY},
         "spec": {
             "failurePolicy": "Fail",
             "reinvocationPolicy": "Never",
             "matchConstraints": {"resourceRules": [{
                 "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                 "resources": ["pods"]}]},
             "matchConditions": [{
                 "name": "has-host-paths",
                 "expression": "has(object.spec.volumes) && "
                               "object.spec.volumes.exists(v, has(v.hostPath))"}],
             "variables": [
                 {"name": "table", "expression": json.dumps(table)},
                 {"name": "nodes", "expression": json.dumps(list(table))},
                 {"name": "bound", "expression": _BOUND},
                 {"name": "rules", "expression":
                  "size(variables.bound) == 1 ? variables.table[variables.bound[0]] : []"},
             ],
             "mutations": [{"patchType": "ApplyConfiguration",
                            "applyConfiguration": {"expression": _MUTATION}}],
         }},
        {"apiVersion": "admissionregistration.k8s.io/v1",
         "kind": "MutatingAdmissionPolicyBinding",
         "metadata": {"name": POLICY},
         "spec": {"policyName": POLICY}},
    ]


def manifest(layout: ClusterLayout) -> str:
    return "\n---\n".join(json.dumps(o) for o in policy(layout)) + "\n"
