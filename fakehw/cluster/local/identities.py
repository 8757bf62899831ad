"""Who is who in a local cluster: the certificate each component presents.

Kubernetes reads a client certificate's CN as the user name and each O as a group:
`system:node:<name>` in `system:nodes` is what the Node authorizer and NodeRestriction expect
of a kubelet; `system:kube-scheduler` and `system:kube-controller-manager` have default RBAC
bindings; `system:masters` is the admin group.
"""

from __future__ import annotations

import ipaddress

from fakehw.cluster.local.layout import ClusterLayout
from fakehw.cluster.local.pki import CertRequest
from fakehw.cluster.local.services import COREDNS_USER


def certificate_requests(layout: ClusterLayout) -> list[CertRequest]:
    """Every certificate a cluster needs, named as written under pki/."""
    service_ip = str(ipaddress.IPv4Network(layout.settings.service_subnet).network_address + 1)
    node_ips = [n.node_ip for n in layout.nodes]
    requests = [
        CertRequest(
            "apiserver", "kube-apiserver", server=True, client=False,
            dns_names=["kubernetes", "kubernetes.default", "kubernetes.default.svc",
                       "kubernetes.default.svc.cluster.local", "localhost"],
            ip_addresses=["127.0.0.1", service_ip, *node_ips],
        ),
        CertRequest("apiserver-kubelet-client", "kube-apiserver-kubelet-client",
                    ["system:masters"]),
        CertRequest("admin", "kubernetes-admin", ["system:masters"]),
        CertRequest("controller-manager", "system:kube-controller-manager"),
        CertRequest("scheduler", "system:kube-scheduler"),
    ]
    if layout.settings.services:
        # system:kube-proxy has the default binding to system:node-proxier; CoreDNS's role
        # is created with the kube-dns Service (services.py).
        requests += [CertRequest("kube-proxy", "system:kube-proxy"),
                     CertRequest("coredns", COREDNS_USER)]
    for node in layout.nodes:
        requests.append(CertRequest(f"kubelet-{node.index}", f"system:node:{node.name}",
                                    ["system:nodes"]))
        requests.append(CertRequest(
            f"kubelet-{node.index}-serving", node.name, server=True, client=False,
            dns_names=[node.name, "localhost"], ip_addresses=[node.node_ip, "127.0.0.1"],
        ))
    return requests


def kubeconfig_users(layout: ClusterLayout) -> dict[str, str]:
    """kubeconfig file name under kubeconfigs/ -> the certificate it uses."""
    users = {"admin": "admin", "controller-manager": "controller-manager",
             "scheduler": "scheduler"}
    if layout.settings.services:
        users.update({"kube-proxy": "kube-proxy", "coredns": "coredns"})
    users.update({f"kubelet-{n.index}": f"kubelet-{n.index}" for n in layout.nodes})
    return users
