"""The work of `up` per node: bridge, cgroup root, containerd, images, kubelet, readiness."""

from __future__ import annotations

import subprocess
from functools import partial
from pathlib import Path

from fakehw import profiles, runtime
from fakehw.cluster.errors import ClusterError, ComponentError, HostError
from fakehw.cluster.images import pause_image, workload_image, write_oci_archive
from fakehw.cluster.kubectl import Kubectl
from fakehw.cluster.local import components, configs, host, mountns
from fakehw.cluster.local.actions import Creation
from fakehw.cluster.local.health import http_ok
from fakehw.cluster.local.layout import NodeLayout
from fakehw.cluster.local.processes import ProcessRecord, wait_ready
from fakehw.cluster.local.restarts import node_environment


def _node_ready(kubectl: Kubectl, name: str) -> bool:
    done = kubectl.run(["get", "node", name, "-o",
                        "jsonpath={.status.conditions[?(@.type=='Ready')].status}"], check=False)
    return done.returncode == 0 and done.stdout.strip() == "True"


class NodeCreation(Creation):
    """`Creation` plus the steps that make and wait for nodes."""

    def node_environment(self, node: NodeLayout, binary: str) -> dict[str, str]:
        """The node's processes see its fake-hardware root (if any) as FAKEHW_HARDWARE_ROOT,
        and on PATH the folder of their own binary before the system's."""
        return node_environment(node.hardware_root, self.binaries[binary].parent)

    def create_hardware(self, node: NodeLayout, with_cameras: bool) -> None:
        """Materialize the node's hardware profile; its cameras run once per cluster, on the
        first node whose profile has any, since they sit on the network, not in a node."""
        root = node.root / "hardware"
        self.state.facts.setdefault("hardware_trees", []).append(str(root))
        self.state.save()
        profile = profiles.load(self.layout.settings.hardware_profiles[node.index])
        runtime.up(profile, root, node.name, cameras=with_cameras)

    def create_network(self, node: NodeLayout) -> None:
        self.state.bridges.append(node.bridge)
        self.state.directories.append(str(node.shim_socket_dir))
        self.state.save()
        node.shim_socket_dir.mkdir(parents=True, exist_ok=True)
        host.create_bridge(node.bridge, node.node_ip, node.pod_subnet.prefixlen)
        (node.cni_conf_dir / "10-fakehw.conflist").write_text(configs.cni_conflist(node))

    def create_cgroups(self, node: NodeLayout) -> None:
        """The kubelet's cgroupRoot must exist in every hierarchy before it starts."""
        self.state.cgroups.append(node.cgroup_root)
        self.state.save()
        host.create_cgroup_root(node.cgroup_root)

    def start_containerd(self, node: NodeLayout) -> None:
        config = node.containerd_dir / "config.toml"
        config.write_text(configs.containerd_config(
            self.layout, node, runc=self.tools["runc"],
            shim=self.binaries["containerd-shim-runc-v2"]))
        record = self._start(f"containerd-{node.index}",
                             components.containerd(node, self.binaries, str(config)),
                             self.node_environment(node, "containerd"))
        wait_ready(record, lambda: self._ctr(node, ["version"], check=False) == 0, 60, "serving")
        self._require_cri(node, record)

    def _require_cri(self, node: NodeLayout, record: ProcessRecord) -> None:
        """containerd serves even when its CRI plugin failed to load; the kubelet would not."""
        argv = [str(self.binaries["ctr"]), f"--address={node.containerd_socket}", "plugins", "ls"]
        listing = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
        cri = [line.split() for line in listing.splitlines() if " cri " in f" {line} "]
        if not any(f[0] == "io.containerd.grpc.v1" and f[-1] == "ok" for f in cri):
            problems = [line for line in Path(record.log).read_text().splitlines()
                        if "failed to load plugin" in line]
            raise ComponentError(record.name, "its CRI plugin did not load",
                                 "\n".join(problems[-5:]))

    def _ctr(self, node: NodeLayout, args: list[str], check: bool = True) -> int:
        argv = [str(self.binaries["ctr"]), f"--address={node.containerd_socket}",
                "--namespace=k8s.io", *args]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise HostError(f"`ctr {' '.join(args)}` failed on {node.name}: "
                            f"{done.stderr.strip()}")
        return done.returncode

    def write_images(self) -> None:
        write_oci_archive(pause_image(self.binaries["pause"]),
                          self.layout.image_dir / "pause.tar")
        write_oci_archive(workload_image(), self.layout.image_dir / "workload.tar")

    def import_images(self, node: NodeLayout) -> None:
        pause = str(self.layout.image_dir / "pause.tar")
        self._ctr(node, ["images", "import", "--label", "io.cri-containerd.pinned=pinned",
                         pause])
        self._ctr(node, ["images", "import", str(self.layout.image_dir / "workload.tar")])

    def start_kubelet(self, node: NodeLayout) -> None:
        (node.root / "kubelet-config.yaml").write_text(configs.kubelet_config(self.layout, node))
        mountns.share(node.kubelet_dir)  # its pod volumes reach containerd (mountns.py)
        record = self._start(f"kubelet-{node.index}",
                             components.kubelet(self.layout, node, self.binaries),
                             self.node_environment(node, "kubelet"))
        self.state.nodes.append({
            "name": node.name, "index": node.index, "ip": node.node_ip,
            "kubelet_dir": str(node.kubelet_dir), "containerd_socket": str(node.containerd_socket),
            "cdi_dir": str(node.cdi_dir),
            "hardware_root": str(node.hardware_root) if node.hardware_root else None,
        })
        self.state.save()
        url = f"http://127.0.0.1:{node.kubelet_healthz_port}/healthz"
        wait_ready(record, lambda: http_ok(url), 60, "healthy")

    def wait_nodes_ready(self) -> None:
        kubectl = self.kubectl()
        for node in self.layout.nodes:
            record = self.state.process(f"kubelet-{node.index}")
            if record is None:
                raise ClusterError(f"no kubelet recorded for {node.name}")
            wait_ready(record, partial(_node_ready, kubectl, node.name), 120, "Ready")

    def wait_default_service_account(self) -> None:
        kubectl = self.kubectl()
        record = self.state.process("kube-controller-manager")
        if record is None:
            raise ClusterError("no kube-controller-manager recorded")
        wait_ready(record, lambda: kubectl.run(
            ["get", "serviceaccount", "default", "-n", "default"], check=False
        ).returncode == 0, 60, "creating the default service account")

    def record_up(self) -> None:
        self.state.facts["ready"] = True
        self.state.save()
