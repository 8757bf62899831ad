"""The reference driver as pods: its image built here and loaded into the nodes, and the
DaemonSet and Deployment of drivers/deploy/ changed only where a local cluster differs.

drivers/deploy/ holds what a real cluster runs. A local cluster differs in three ways:

- Its nodes share one file system, each with its own kubelet root, CDI directory and fakehw
  tree. One DaemonSet's hostPaths cannot name each node's own, so each node gets a copy of
  the DaemonSet (``kubelet-plugin-<index>``, nodeSelector on ``fakehw.io/node-index``) that
  mounts that node's folders at the very paths its kubelet and containerd use: the plugin
  tells the kubelet its socket's path, and its CDI specs name paths on the host.
- It has no kube-proxy, so the pods use the host's network and reach the API server at
  127.0.0.1 (``KUBERNETES_SERVICE_HOST``/``PORT``, which the in-cluster config reads).
- No registry: the image is assembled from this checkout and this Python
  (fakehw.cluster.images.python), loaded with ``fakehw cluster load-image`` and run with
  ``imagePullPolicy: Never``.

The pods run as the service accounts of drivers/deploy/rbac.yaml with real pod tokens, so the
admission policy sees the node name the kubelet put in each token.
"""

from __future__ import annotations

import copy
import json
import subprocess
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from dra_reference.plugin.settings import short_id

from fakehw.cluster.images import write_oci_archive
from fakehw.cluster.images.python import PythonProgram, python_image

from .diagnosis import describe, first_hopeless
from .settings import DRIVER, REPO, Node
from .supervisor import listening

DEPLOY = REPO / "drivers/deploy"
NAMESPACE = "dra-reference"
NODE_INDEX_LABEL = "fakehw.io/node-index"  # set on every local node by `fakehw cluster up`
COMPONENT = "app.kubernetes.io/component"
PREFIX = "DRA_REFERENCE_"
IMAGE_ANNOTATION = "fakehw.dev/image-digest"


@dataclass(frozen=True)
class PodSettings:
    """What every pod of the driver gets on this cluster."""

    image: str
    kubeconfig: Path  # the admin kubeconfig: its server's port is the API server's
    cameras: Path | None  # the cameras file (host path), if the cluster runs cameras
    camera_control: Path | None  # the folder of the cameras' control socket
    log_level: str = "info"
    # the image's manifest digest, annotated on the pod templates: the tag stays the same
    # across builds, so without it a cluster kept running would go on with the old image
    image_digest: str = ""

    @property
    def api_port(self) -> str:
        document = yaml.safe_load(self.kubeconfig.read_text())
        server = urlsplit(document["clusters"][0]["cluster"]["server"])
        return str(server.port or 443)


def driver_image_name(version: str) -> str:
    return f"fakehw.local/dra-reference:{version}"


def plugin_daemonsets(nodes: Sequence[Node], s: PodSettings) -> list[dict[str, Any]]:
    """drivers/deploy/kubelet-plugin.yaml, one copy per node, over that node's folders."""
    template = yaml.safe_load((DEPLOY / "kubelet-plugin.yaml").read_text())
    return [_plugin_daemonset(template, node, s) for node in nodes]


def _plugin_daemonset(template: dict[str, Any], node: Node, s: PodSettings) -> dict[str, Any]:
    daemonset = copy.deepcopy(template)
    daemonset["metadata"]["name"] = f"kubelet-plugin-{node.index}"
    spec = daemonset["spec"]
    for labels in (spec["selector"]["matchLabels"], spec["template"]["metadata"]["labels"]):
        labels[NODE_INDEX_LABEL] = str(node.index)
    spec["template"]["spec"]["nodeSelector"] = {NODE_INDEX_LABEL: str(node.index)}
    folders = {"plugins": node.plugins_dir, "registry": node.registry_dir,
               "cdi": node.cdi_dir, "hardware": node.hardware_root}
    if s.camera_control is not None:  # claims get their credentials minted there
        folders["camera-control"] = s.camera_control
    env = {"SYSFS_ROOT": node.hardware_root / "sys", "DEVFS_ROOT": node.hardware_root / "dev",
           "PLUGINS_DIR": node.plugins_dir, "REGISTRY_DIR": node.registry_dir,
           "CDI_DIR": node.cdi_dir}
    _on_host(spec["template"], s, "kubelet-plugin", folders, env)
    return daemonset


def camera_controller(s: PodSettings) -> dict[str, Any]:
    """The Deployment of drivers/deploy/camera-controller.yaml, reading the cameras file
    from the host (the ConfigMap beside it is left out)."""
    documents = list(yaml.safe_load_all((DEPLOY / "camera-controller.yaml").read_text()))
    deployment: dict[str, Any] = copy.deepcopy(
        next(d for d in documents if d["kind"] == "Deployment"))
    _on_host(deployment["spec"]["template"], s, "controller", {}, {"PROBE_SECONDS": "5"})
    return deployment


def _on_host(template: dict[str, Any], s: PodSettings, command: str,
             folders: dict[str, Path], env: dict[str, Any]) -> None:
    """The pod template on the host's network, running this image, each host folder mounted
    at its own path, the cameras file too; ``env`` (DRA_REFERENCE_ names without the prefix)."""
    if s.image_digest:
        template["metadata"].setdefault("annotations", {})[IMAGE_ANNOTATION] = s.image_digest
    pod = template["spec"]
    pod["hostNetwork"] = True
    pod["dnsPolicy"] = "ClusterFirstWithHostNet"
    container = pod["containers"][0]
    container["image"] = s.image
    container["imagePullPolicy"] = "Never"
    container["args"] = ["--log-level", s.log_level, command]
    mounts = dict(folders)
    values = {f"{PREFIX}{k}": str(v) for k, v in env.items()}
    values[f"{PREFIX}DRIVER_NAME"] = DRIVER
    if s.cameras is not None:
        mounts["cameras"] = s.cameras
        values[f"{PREFIX}CAMERAS_CONFIG"] = str(s.cameras)
    values |= {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": s.api_port}
    container["env"] = [e for e in container.get("env", ())
                        if e["name"] not in values and not (
                            e["name"] == f"{PREFIX}CAMERAS_CONFIG" and s.cameras is None)]
    container["env"] += [{"name": k, "value": v} for k, v in values.items()]
    container["volumeMounts"] = [{"name": name, "mountPath": str(path)}
                                 for name, path in mounts.items()]
    pod["volumes"] = [{"name": name, "hostPath": {"path": str(path)}}
                      for name, path in mounts.items()]


DRIVER_DISTRIBUTIONS = ("grpcio", "protobuf", "kubernetes", "urllib3", "pyyaml", "click",
                        "inotify-simple")  # what drivers/dra_reference and its stubs import


def driver_program(version: str) -> PythonProgram:
    """What the driver's image holds: its two packages, what they import, this Python."""
    return PythonProgram(
        name=driver_image_name(version), module="dra_reference",
        packages=(REPO / "drivers/dra_reference", REPO / "api/dra_kubelet_api"),
        distributions=DRIVER_DISTRIBUTIONS, metadata=("fakehw", version))


def build_image(archive: Path, version: str) -> tuple[str, str]:
    """The driver's image as an OCI archive at ``archive``; returns its name and its
    manifest's digest."""
    program = driver_program(version)
    write_oci_archive(python_image(program), archive)
    with tarfile.open(archive) as tar:
        index = tar.extractfile("index.json")
        if index is None:
            raise PodError(f"{archive} has no index.json")
        return program.name, str(json.load(index)["manifests"][0]["digest"])


@dataclass(frozen=True)
class DriverPods:
    """The driver's pods on a running cluster, through kubectl."""

    kubectl: str
    kubeconfig: Path
    logs: Path | None = None  # where a pod's log is kept before the pod is deleted
    cluster: str = ""  # the local cluster's name, to point at its kubelets' logs

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.kubectl, f"--kubeconfig={self.kubeconfig}", *args],
                              input=stdin, capture_output=True, text=True, check=False)

    def apply(self, documents: Sequence[dict[str, Any]]) -> None:
        listed = {"apiVersion": "v1", "kind": "List", "items": list(documents)}
        done = self.run("apply", "-f", "-", stdin=json.dumps(listed))
        if done.returncode != 0:
            raise PodError(f"kubectl apply of the driver's workloads failed: "
                           f"{done.stderr.strip()}")

    def pods(self) -> list[dict[str, Any]]:
        done = self.run("get", "pods", "-n", NAMESPACE, "-o", "json")
        return list(json.loads(done.stdout)["items"]) if done.returncode == 0 else []

    def plugin_pod(self, node: str, pods: Sequence[dict[str, Any]] | None = None
                   ) -> dict[str, Any] | None:
        """The newest kubelet plugin pod on ``node`` that is not being deleted."""
        for pod in sorted(self.pods() if pods is None else pods, reverse=True,
                          key=lambda p: p["metadata"]["creationTimestamp"]):
            if (pod["metadata"]["labels"].get(COMPONENT) == "kubelet-plugin"
                    and pod["spec"].get("nodeName") == node
                    and "deletionTimestamp" not in pod["metadata"]):
                return pod
        return None

    def restart(self, node: str, timeout: float) -> tuple[str, str]:
        """Delete ``node``'s plugin pod; wait until its DaemonSet's next pod serves and the
        deleted one is gone. Returns the old and the new pod's names."""
        old = self._plugin_pod(node)
        self._keep_log(old)
        self.run("delete", "pod", "-n", NAMESPACE, old["metadata"]["name"], "--wait=false")
        return self._successor(node, old, timeout, "was deleted")

    def roll(self, node: str, timeout: float) -> tuple[str, str]:
        """A rolling update of ``node``'s DaemonSet (``kubectl rollout restart``): its new pod
        starts beside the old one (maxSurge 1), which is stopped once the new one runs. Waits
        until the new pod serves and the old one is gone; returns both pods' names."""
        old = self._plugin_pod(node)
        self._keep_log(old)
        owner = next(o["name"] for o in old["metadata"]["ownerReferences"]
                     if o["kind"] == "DaemonSet")
        done = self.run("rollout", "restart", "-n", NAMESPACE, f"daemonset/{owner}")
        if done.returncode != 0:
            raise PodError(f"kubectl rollout restart daemonset/{owner} failed: "
                           f"{done.stderr.strip()}")
        return self._successor(node, old, timeout, "began to roll")

    def _keep_log(self, pod: dict[str, Any]) -> None:
        if self.logs is not None:
            name = pod["metadata"]["name"]
            self.logs.mkdir(parents=True, exist_ok=True)
            (self.logs / f"{name}.log").write_text(
                self.run("logs", "-n", NAMESPACE, name).stdout)

    def _plugin_pod(self, node: str) -> dict[str, Any]:
        pod = self.plugin_pod(node)
        if pod is None:
            raise PodError(f"no kubelet plugin pod runs on {node}:\n{self.problems()}")
        return pod

    def _successor(self, node: str, old: dict[str, Any], timeout: float,
                   what: str) -> tuple[str, str]:
        name, uid = old["metadata"]["name"], old["metadata"]["uid"]
        registry_dir = registry_of(old)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.2)
            pods = self.pods()
            new = self.plugin_pod(node, pods)
            if (new is not None and new["metadata"]["uid"] != uid
                    and all(p["metadata"]["uid"] != uid for p in pods)
                    and any(listening(registry_dir / f"{DRIVER}-{suffix}-reg.sock")
                            for suffix in socket_suffixes(new["metadata"]["uid"]))):
                return name, new["metadata"]["name"]
        raise PodError(f"the kubelet plugin of {node} was not serving from a new pod, with "
                       f"{name} gone, {timeout:.0f}s after {name} {what}:\n{self.problems()}")

    def problems(self) -> str:
        """Every pod's phase, containers' states, last events and log lines, and where its
        node's kubelet log is."""
        described = [describe(self.run, pod, self._kubelet_log(pod)) for pod in self.pods()]
        return "\n".join(described) or f"no pods in namespace {NAMESPACE}"

    def stuck(self) -> str | None:
        """Why a driver pod will never start (see diagnosis.hopeless), or None."""
        return first_hopeless(self.run, self.pods())

    def _kubelet_log(self, pod: dict[str, Any]) -> str:
        index = pod["spec"].get("nodeSelector", {}).get(NODE_INDEX_LABEL)
        kubelet = f"kubelet-{index}" if index is not None else "kubelet"
        name = f" --name {self.cluster}" if self.cluster else ""
        return f"the node's kubelet log: fakehw cluster logs{name} {kubelet}"

    def save_logs(self, folder: Path) -> dict[str, int]:
        """Each pod's log (and its previous container's, after a crash) into ``folder``;
        returns how often each pod's container was restarted after exiting on its own."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pods.txt").write_text(
            self.run("get", "pods", "-n", NAMESPACE, "-o", "wide").stdout)
        restarts = {}
        for pod in self.pods():
            name = pod["metadata"]["name"]
            statuses = pod.get("status", {}).get("containerStatuses") or ()
            restarts[name] = sum(int(s.get("restartCount", 0)) for s in statuses)
            (folder / f"{name}.log").write_text(self.run("logs", "-n", NAMESPACE, name).stdout)
            previous = self.run("logs", "-n", NAMESPACE, name, "--previous")
            if previous.returncode == 0 and previous.stdout:
                (folder / f"{name}.previous.log").write_text(previous.stdout)
        return restarts

    def delete(self, documents: Sequence[dict[str, Any]], timeout: float = 60.0) -> None:
        """Delete the workloads and wait until their pods are gone (each plugin removes its
        sockets on the way out)."""
        listed = {"apiVersion": "v1", "kind": "List", "items": list(documents)}
        self.run("delete", "--ignore-not-found", "--wait=true", f"--timeout={timeout:.0f}s",
                 "-f", "-", stdin=json.dumps(listed))
        deadline = time.monotonic() + timeout
        while self.pods() and time.monotonic() < deadline:
            time.sleep(0.5)


def registry_of(pod: dict[str, Any]) -> Path:
    """The kubelet's plugins_registry folder of a plugin pod, from its environment."""
    for variable in pod["spec"]["containers"][0].get("env", ()):
        if variable["name"] == f"{PREFIX}REGISTRY_DIR":
            return Path(variable["value"])
    raise PodError(f"pod {pod['metadata']['name']} sets no {PREFIX}REGISTRY_DIR")


class PodError(RuntimeError):
    """The driver's pods do not run as they must; the message shows them."""


def socket_suffixes(uid: str) -> tuple[str, str]:
    """The names a plugin's sockets may carry: its pod UID, or the UID's short digest when
    the UID would make a path too long (drivers/dra_reference/plugin/settings.py)."""
    return uid, short_id(uid)
