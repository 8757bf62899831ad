"""Wrapper Go modules that let `go build` compile Kubernetes and etcd from the module proxy.

`go install k8s.io/kubernetes/cmd/kubelet@v1.37.2` fails: the kubernetes module requires each
staging module (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and replaces it with a directory
of its own repository. A small module of ours requires k8s.io/kubernetes and replaces each of
those staging modules with its published v0.<minor>.<patch> instead. The list is read from the
release's own go.mod, so a new release with a new staging module needs no code change.
etcd's server module has the same kind of replace directives; a one-line main of ours that
calls `etcdmain.Main` builds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_STAGING_REQUIREMENT = re.compile(r"^\s*(k8s\.io/[\w.\-/]+)\s+v0\.0\.0\s*(?://.*)?$", re.MULTILINE)

KUBERNETES_COMMANDS = {
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
    "kubelet": "k8s.io/kubernetes/cmd/kubelet",
    "kubectl": "k8s.io/kubernetes/cmd/kubectl",
}

DRA_TEST_DRIVER_PACKAGE = "k8s.io/kubernetes/test/e2e/dra/test-driver"
KUBE_PROXY_PACKAGE = "k8s.io/kubernetes/cmd/kube-proxy"

_VERSION_PACKAGES = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")


def staging_modules(kubernetes_go_mod: str) -> list[str]:
    """The k8s.io modules the kubernetes go.mod requires at v0.0.0 (its staging modules)."""
    return sorted(set(_STAGING_REQUIREMENT.findall(kubernetes_go_mod)))


def kubernetes_go_mod(version: str, staging_version: str, staging: Iterable[str]) -> str:
    """go.mod of the wrapper module: kubernetes plus every staging module pinned by replace."""
    replaces = "\n".join(f"\t{m} => {m} {staging_version}" for m in sorted(staging))
    return (
        "module fakehw.local/k8sbuild\n\n"
        "go 1.26.0\n\n"
        f"require k8s.io/kubernetes {version}\n\n"
        f"replace (\n{replaces}\n)\n"
    )


def kubernetes_tools_go() -> str:
    """A file that imports the commands' packages so `go mod tidy` keeps their requirements."""
    imports = "\n".join(
        f'\t_ "{pkg}/app"' for name, pkg in KUBERNETES_COMMANDS.items() if name != "kubectl"
    )
    return (
        "//go:build tools\n\n"
        "// Package tools keeps the Kubernetes commands' dependencies in go.mod.\n"
        "package tools\n\n"
        f'import (\n{imports}\n\t_ "k8s.io/kubectl/pkg/cmd"\n)\n'
    )


def kubernetes_ldflags(version: str, build_date: str) -> str:
    """Link flags that stamp the release version, so components do not say v0.0.0-master."""
    major, minor = version.lstrip("v").split(".")[:2]
    fields = {
        "gitVersion": version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitCommit": "0" * 40,
        "gitTreeState": "clean",
        "buildDate": build_date,
    }
    stamps = [f"-X {pkg}.{k}={v}" for pkg in _VERSION_PACKAGES for k, v in fields.items()]
    return " ".join(["-s", "-w", *stamps])


def helm_ldflags(version: str) -> str:
    """Link flags that stamp Helm's version (`helm version` says v4.x.y, not main)."""
    return f"-s -w -X helm.sh/helm/v4/internal/version.version={version}"


def etcd_go_mod(version: str) -> str:
    """go.mod of the etcd wrapper module."""
    return (
        "module fakehw.local/etcdbuild\n\n"
        "go 1.26.0\n\n"
        f"require go.etcd.io/etcd/server/v3 {version}\n"
    )


def etcd_main_go() -> str:
    """The whole etcd wrapper program: etcd's own entry point."""
    return (
        "// Command etcd is etcd's server, built from the module proxy.\n"
        "package main\n\n"
        "import (\n\t\"os\"\n\n\t\"go.etcd.io/etcd/server/v3/etcdmain\"\n)\n\n"
        "func main() {\n\tetcdmain.Main(os.Args)\n}\n"
    )


def etcd_ldflags(version: str) -> str:
    """Link flags for etcd; its version string comes from the api module it requires."""
    return f"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=fakehw-{version}"


def containerd_ldflags(version: str) -> str:
    """Link flags that stamp containerd's version (else it says 2.x.y+unknown)."""
    pkg = "github.com/containerd/containerd/v2/version"
    return f"-s -w -X {pkg}.Version={version} -X {pkg}.Revision=fakehw"
