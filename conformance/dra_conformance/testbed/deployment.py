"""The driver's deployment as its vendor ships it, through the real helm and kubectl.

Rendering first (``helm template``, ``kubectl kustomize``, or reading the files) finds a
chart that does not render before a cluster starts, and gives the run what it installs: the
DaemonSets whose pods are the driver's kubelet plugins.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dra_conformance.testbed.settings import Shipped


class DeployError(Exception):
    """A deployment step failed; the message is the tool's own words."""


@dataclass(frozen=True)
class Tools:
    helm: Path
    kubectl: Path
    kubeconfig: Path | None = None

    def _run(self, argv: Sequence[str], stdin: str | None = None, timeout: float = 300) -> str:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                              check=False, timeout=timeout)
        if done.returncode != 0:
            raise DeployError(f"`{' '.join(argv[:3])} ...` exited {done.returncode}: "
                              f"{(done.stderr or done.stdout).strip()[-3000:]}")
        return done.stdout

    def run_kubectl(self, args: Sequence[str], stdin: str | None = None) -> str:
        return self._run([*self.kubectl_args(), *args], stdin=stdin)

    def helm_args(self) -> list[str]:
        return [str(self.helm), *([f"--kubeconfig={self.kubeconfig}"] if self.kubeconfig
                                  else [])]

    def kubectl_args(self) -> list[str]:
        return [str(self.kubectl), *([f"--kubeconfig={self.kubeconfig}"] if self.kubeconfig
                                     else [])]


def _chart_flags(shipped: Shipped) -> list[str]:
    flags = ["--namespace", shipped.namespace]
    for values in shipped.values:
        flags += ["--values", str(values)]
    for value in shipped.sets:
        flags += ["--set", value]
    return flags


def _manifest_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
        else:
            files.append(path)
    return files


def render(shipped: Shipped, tools: Tools) -> list[dict[str, Any]]:
    """Every object the deployment creates, as the tools render it (no cluster needed)."""
    if shipped.chart is not None:
        text = tools._run([*tools.helm_args(), "template", shipped.release, str(shipped.chart),
                           *_chart_flags(shipped)])
    elif shipped.kustomize is not None:
        text = tools._run([*tools.kubectl_args(), "kustomize", str(shipped.kustomize)])
    else:
        text = "\n---\n".join(p.read_text() for p in _manifest_files(shipped.manifests))
    try:
        return [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind")]
    except yaml.YAMLError as error:
        raise DeployError(f"the deployment's YAML does not parse: {error}") from None


# Namespaces and definitions before what lives in them, as helm and kustomize order them.
FIRST = ("Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "Role")


def _ordered(objects: Sequence[dict[str, Any]]) -> str:
    rank = {kind: i for i, kind in enumerate(FIRST)}
    ordered = sorted(objects, key=lambda o: rank.get(o["kind"], len(FIRST)))
    return yaml.safe_dump_all(ordered, sort_keys=False)


def install(shipped: Shipped, tools: Tools, objects: Sequence[dict[str, Any]]) -> None:
    """``helm install`` (no --wait: the run waits, and diagnoses), ``kubectl apply -k``, or
    the manifests' objects applied in one go, namespaces first."""
    if shipped.chart is not None:
        tools._run([*tools.helm_args(), "install", shipped.release, str(shipped.chart),
                    "--create-namespace", *_chart_flags(shipped)])
        return
    if shipped.kustomize is not None:
        tools._run([*tools.kubectl_args(), "apply", "-k", str(shipped.kustomize)])
        return
    tools._run([*tools.kubectl_args(), "apply", "-f", "-"], stdin=_ordered(objects))


def uninstall(shipped: Shipped, tools: Tools, objects: Sequence[dict[str, Any]]) -> None:
    """Remove what install made, waiting for it to be gone; absent is fine."""
    if shipped.chart is not None:
        tools._run([*tools.helm_args(), "uninstall", shipped.release, "--namespace",
                    shipped.namespace, "--ignore-not-found", "--wait", "--timeout", "120s"])
        return
    if shipped.kustomize is not None:
        tools._run([*tools.kubectl_args(), "delete", "--ignore-not-found", "--wait=true",
                    "--timeout=120s", "-k", str(shipped.kustomize)])
        return
    tools._run([*tools.kubectl_args(), "delete", "--ignore-not-found", "--wait=true",
                "--timeout=120s", "-f", "-"], stdin=_ordered(objects))


def daemonsets(objects: Sequence[dict[str, Any]], default_namespace: str
               ) -> list[tuple[str, str]]:
    """(namespace, name) of each DaemonSet: the driver's kubelet plugins."""
    return [(o.get("metadata", {}).get("namespace") or default_namespace, o["metadata"]["name"])
            for o in objects if o.get("kind") == "DaemonSet"]
