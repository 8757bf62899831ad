"""Services and cluster DNS for a local cluster: kube-proxy, CoreDNS and their API objects.

A chart's pods reach the API server the way they do on any cluster: through the `kubernetes`
Service (in-cluster configuration) by its ClusterIP, or by name through cluster DNS. Here:

- the API server listens on the first node's bridge address (the `kubernetes` Service's
  endpoint, reachable from every pod and from this host; nothing outside the host routes to
  it), no longer on loopback;
- one kube-proxy for the whole cluster, since all nodes share the host's network namespace,
  in nftables mode: everything it programs is in its own tables (`ip kube-proxy`,
  `ip6 kube-proxy`), which `down` deletes. It masquerades all Service traffic, so a reply
  from a pod on the same bridge as the client goes back through the host. There is one such
  table per host, so one cluster with Services at a time;
- CoreDNS as a host process on the first node's address, serving `cluster.local` from the
  API server (its own identity, `system:coredns`, with kubeadm's role) and answering nothing
  else: no forwarding to the host's resolvers. The `kube-dns` Service (ClusterIP `.10` of
  the service subnet) points at it through an EndpointSlice; the kubelets give pods that
  address as their name server.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from fakehw.cluster.errors import HostError
from fakehw.cluster.local.layout import ClusterLayout
from fakehw.cluster.local.state import ClusterState

KUBE_PROXY_TABLES = ("ip kube-proxy", "ip6 kube-proxy")
DNS_SERVICE = "kube-dns"
COREDNS_USER = "system:coredns"


def dns_service_ip(layout: ClusterLayout) -> str:
    """The `kube-dns` Service's ClusterIP: the tenth address of the service subnet."""
    return str(ipaddress.IPv4Network(layout.settings.service_subnet).network_address + 10)


def apiserver_host(layout: ClusterLayout) -> str:
    """Where the API server listens: loopback, or with Services the first node's bridge."""
    return layout.nodes[0].node_ip if layout.settings.services else "127.0.0.1"


def kube_proxy_config(layout: ClusterLayout, kubeconfig: str) -> str:
    """KubeProxyConfiguration: nftables, the cluster's pod subnet, listeners on loopback, and
    no changes to the host's conntrack sysctls or to its own OOM score."""
    s, first = layout.settings, layout.nodes[0]
    config: dict[str, Any] = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": kubeconfig},
        "mode": "nftables",
        "clusterCIDR": s.pod_subnet,
        "hostnameOverride": first.name,
        "bindAddress": first.node_ip,
        "healthzBindAddress": f"127.0.0.1:{s.kube_proxy_port + 7}",
        "metricsBindAddress": f"127.0.0.1:{s.kube_proxy_port}",
        # NodePorts open on the first node's bridge address only, never on the host's own.
        "nodePortAddresses": [f"{first.node_ip}/32"],
        "nftables": {"masqueradeAll": True},
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s",
                      "tcpCloseWaitTimeout": "0s"},
        "oomScoreAdj": 0,
        "featureGates": dict(s.feature_gates),
    }
    return yaml.safe_dump(config, sort_keys=False)


def corefile(layout: ClusterLayout, kubeconfig: str) -> str:
    """CoreDNS: cluster.local and the reverse zones from the API server, nothing forwarded."""
    s = layout.settings
    return (
        f".:{s.dns_port} {{\n"
        f"    bind {layout.nodes[0].node_ip}\n"
        "    errors\n"
        f"    health 127.0.0.1:{s.dns_port + 1}\n"
        "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
        f"        kubeconfig {kubeconfig} {s.name}\n"
        "        pods insecure\n"
        "        ttl 5\n"
        "    }\n"
        "    cache 5\n"
        "    loadbalance\n"
        "}\n"
    )


def objects(layout: ClusterLayout) -> list[dict[str, Any]]:
    """CoreDNS's role and binding (kubeadm's), the `kube-dns` Service and its endpoints."""
    port = layout.settings.dns_port
    labels = {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}
    ports = [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": port},
             {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": port}]
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": COREDNS_USER},
         "rules": [
             {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
              "verbs": ["list", "watch"]},
             {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
              "verbs": ["list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": COREDNS_USER},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": COREDNS_USER},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                       "name": COREDNS_USER}]},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": DNS_SERVICE, "namespace": "kube-system", "labels": labels},
         "spec": {"clusterIP": dns_service_ip(layout), "ports": ports}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": f"{DNS_SERVICE}-host", "namespace": "kube-system",
                      "labels": {"kubernetes.io/service-name": DNS_SERVICE,
                                 "endpointslice.kubernetes.io/managed-by": "fakehw.dev"}},
         "addressType": "IPv4",
         "endpoints": [{"addresses": [layout.nodes[0].node_ip],
                        "conditions": {"ready": True}}],
         "ports": [{"name": "dns", "port": port, "protocol": "UDP"},
                   {"name": "dns-tcp", "port": port, "protocol": "TCP"}]},
    ]


def manifest(layout: ClusterLayout) -> str:
    """objects() as one multi-document YAML (JSON documents, which YAML reads)."""
    return "\n---\n".join(json.dumps(o) for o in objects(layout)) + "\n"


def require_nft() -> str:
    """kube-proxy's nftables mode runs `nft`; name the package when it is missing."""
    found = shutil.which("nft", path="/usr/sbin:/sbin:/usr/bin:/bin")
    if found is None:
        raise HostError("`nft` is not installed (kube-proxy's nftables mode needs it); "
                        "`apt-get install nftables`, or start the cluster with --no-services")
    return found


def _nft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_nft(), *args], capture_output=True, text=True, check=False)


def kube_proxy_tables() -> list[str]:
    """The kube-proxy tables present on this host (another cluster's, or a stale one)."""
    return [t for t in KUBE_PROXY_TABLES if _nft("list", "table", *t.split()).returncode == 0]


def owner(state_dir: Path) -> str | None:
    """The cluster under `state_dir` whose state says it runs Services, if any."""
    for path in sorted(state_dir.glob("*/state.json")):
        state = ClusterState.load(path)
        if state is not None and state.facts.get("services"):
            return path.parent.name
    return None


def require_no_kube_proxy(owner: str | None) -> None:
    """One kube-proxy per host: its tables have fixed names."""
    tables = kube_proxy_tables()
    if tables:
        who = f"cluster {owner!r}" if owner else "another kube-proxy"
        stale = "" if owner else (f"; if no kube-proxy runs, the tables are stale: "
                                  f"`nft delete table {tables[0]}`")
        raise HostError(
            f"nftables table {tables[0]!r} exists: {who} runs Services on this host, and "
            "kube-proxy's tables have fixed names; stop it first (`fakehw cluster down "
            f"--name {owner or 'NAME'}`), or start this cluster with --no-services{stale}")


def delete_kube_proxy_tables() -> None:
    """Remove kube-proxy's tables (it leaves them behind when stopped); absent ones are fine."""
    for table in kube_proxy_tables():
        done = _nft("delete", "table", *table.split())
        if done.returncode != 0 and table in kube_proxy_tables():
            raise HostError(f"cannot delete nftables table {table!r}: {done.stderr.strip()}")
