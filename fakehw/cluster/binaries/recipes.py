"""How each component is built from the Go module proxy, as a list of steps.

kubernetes: a wrapper module (see gomod.py) and one `go build` per command.
etcd:       a wrapper module whose main calls `etcdmain.Main`.
containerd: containerd's go.mod has no replace directives, so `go install pkg@version` works.
pause:      our own program (pause.py).
dra-test-driver (optional, only when asked for): upstream's e2e DRA kubelet plugin, used by
            the cluster tests to prove that a claim's CDI edits reach a container.
fakehw-cdi-plugin (optional): our device plugin that hands out static CDI devices.
kube-proxy (Services): built in the Kubernetes wrapper module.
coredns (cluster DNS): `go install github.com/coredns/coredns@version`.
helm (optional, chart installs): `go install helm.sh/helm/v4/cmd/helm@version`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fakehw.cluster.binaries import gomod
from fakehw.cluster.binaries.cache import CacheEntry
from fakehw.cluster.binaries.cdiplugin import CDI_PLUGIN, CDI_PLUGIN_MAIN_GO, CDI_PLUGIN_PACKAGE
from fakehw.cluster.binaries.gotool import GoTool
from fakehw.cluster.binaries.pause import PAUSE_GO_MOD, PAUSE_MAIN_GO
from fakehw.cluster.steps import Step
from fakehw.cluster.versions import CONTAINERD_BINARIES, KUBERNETES_BINARIES, Versions

StepFactory = Callable[[GoTool, CacheEntry, Path], list[Step]]
DRA_TEST_DRIVER = "dra-test-driver"
KUBE_PROXY = "kube-proxy"
COREDNS = "coredns"
HELM = "helm"


@dataclass(frozen=True)
class Recipe:
    """One component: its binaries, the variable naming a prebuilt copy, its build steps."""

    component: str
    version: str
    binaries: tuple[str, ...]
    override_env: str
    steps: StepFactory
    optional: bool = False
    fingerprint: str = ""


def fingerprint(source: str) -> str:
    """Short hash of an embedded program's source: a changed program is rebuilt."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _kubernetes_module(go: GoTool, src: Path, version: str, staging_version: str) -> list[Step]:
    def write_module() -> None:
        info = go.module_info(f"k8s.io/kubernetes@{version}", cwd=src)
        staging = gomod.staging_modules(Path(info["GoMod"]).read_text())
        _write_if_changed(
            src / "go.mod", gomod.kubernetes_go_mod(version, staging_version, staging)
        )
        _write_if_changed(src / "tools.go", gomod.kubernetes_tools_go())

    return [
        Step(f"resolve k8s.io/kubernetes@{version} and write its wrapper module", write_module),
        Step("go mod tidy (kubernetes wrapper)", lambda: go.run(["mod", "tidy"], cwd=src)),
    ]


def _kubernetes_steps(version: str, staging_version: str) -> StepFactory:
    def factory(go: GoTool, entry: CacheEntry, src: Path) -> list[Step]:
        ldflags = gomod.kubernetes_ldflags(version, time.strftime("%Y-%m-%dT00:00:00Z"))

        def build(name: str) -> Callable[[], None]:
            package = gomod.KUBERNETES_COMMANDS[name]
            args = ["build", "-trimpath", "-ldflags", ldflags, "-o", str(entry.path(name)), package]
            return lambda: go.run(args, cwd=src)

        return [
            *_kubernetes_module(go, src, version, staging_version),
            *(Step(f"build {name} {version}", build(name)) for name in KUBERNETES_BINARIES),
        ]

    return factory


def _cdi_plugin_steps(version: str, staging_version: str) -> StepFactory:
    """Our small device plugin (cdiplugin.py), built in the Kubernetes wrapper module."""

    def factory(go: GoTool, entry: CacheEntry, src: Path) -> list[Step]:
        src = src.with_name(f"kubernetes-{version}")
        main = src / CDI_PLUGIN_PACKAGE / "main.go"

        def write_source() -> None:
            main.parent.mkdir(parents=True, exist_ok=True)
            _write_if_changed(main, CDI_PLUGIN_MAIN_GO)

        args = ["build", "-trimpath", "-ldflags", "-s -w", "-o", str(entry.path(CDI_PLUGIN)),
                CDI_PLUGIN_PACKAGE]
        return [
            *_kubernetes_module(go, src, version, staging_version),
            Step(f"write the {CDI_PLUGIN} source", write_source),
            Step(f"build {CDI_PLUGIN}", lambda: go.run(args, cwd=src)),
        ]

    return factory


def _kubernetes_command_steps(name: str, package: str, version: str, staging_version: str,
                              *, stamped: bool = False) -> StepFactory:
    """One more command of k8s.io/kubernetes, built in the Kubernetes wrapper module: upstream's
    e2e DRA test driver (a real kubelet plugin that writes CDI specs), or kube-proxy."""

    def factory(go: GoTool, entry: CacheEntry, src: Path) -> list[Step]:
        src = src.with_name(f"kubernetes-{version}")
        src.mkdir(parents=True, exist_ok=True)
        ldflags = (gomod.kubernetes_ldflags(version, time.strftime("%Y-%m-%dT00:00:00Z"))
                   if stamped else "-s -w")
        args = ["build", "-trimpath", "-ldflags", ldflags, "-o", str(entry.path(name)), package]
        return [
            *_kubernetes_module(go, src, version, staging_version),
            Step(f"build {name} {version}", lambda: go.run(args, cwd=src)),
        ]

    return factory


def _go_install_steps(name: str, package: str, version: str, ldflags: str = "-s -w"
                      ) -> StepFactory:
    """`go install package@version`, for modules whose go.mod has no replace directives."""

    def factory(go: GoTool, entry: CacheEntry, src: Path) -> list[Step]:
        args = ["install", "-trimpath", "-ldflags", ldflags, f"{package}@{version}"]
        return [Step(f"build {name} {version}", lambda: go.run(
            args, cwd=src, GOBIN=str(entry.directory), GOFLAGS=""))]

    return factory


def _etcd_steps(version: str) -> StepFactory:
    def factory(go: GoTool, entry: CacheEntry, src: Path) -> list[Step]:
        def write_module() -> None:
            _write_if_changed(src / "go.mod", gomod.etcd_go_mod(version))
            _write_if_changed(src / "main.go", gomod.etcd_main_go())

        args = ["build", "-trimpath", "-ldflags", gomod.etcd_ldflags(version),
                "-o", str(entry.path("etcd")), "."]
        return [
            Step(f"write the etcd {version} wrapper module", write_module),
            Step("go mod tidy (etcd wrapper)", lambda: go.run(["mod", "tidy"], cwd=src)),
            Step(f"build etcd {version}", lambda: go.run(args, cwd=src)),
        ]

    return factory


def _containerd_steps(version: str) -> StepFactory:
    def factory(go: GoTool, entry: CacheEntry, src: Path) -> list[Step]:
        module = "github.com/containerd/containerd/v2/cmd"
        packages = [f"{module}/{name}@{version}" for name in CONTAINERD_BINARIES]
        args = ["install", "-trimpath", "-ldflags", gomod.containerd_ldflags(version), *packages]
        return [Step(
            f"build containerd, ctr, containerd-shim-runc-v2 {version}",
            lambda: go.run(args, cwd=src, GOBIN=str(entry.directory), GOFLAGS=""),
        )]

    return factory


def _pause_steps(version: str) -> StepFactory:
    def factory(go: GoTool, entry: CacheEntry, src: Path) -> list[Step]:
        def build() -> None:
            _write_if_changed(src / "go.mod", PAUSE_GO_MOD)
            _write_if_changed(src / "main.go", PAUSE_MAIN_GO)
            go.run(["build", "-trimpath", "-ldflags", "-s -w", "-o", str(entry.path("pause")),
                    "."], cwd=src)

        return [Step(f"build the pause program {version}", build)]

    return factory


def recipes(versions: Versions) -> list[Recipe]:
    """Every component a local cluster needs, in build order (fastest first)."""
    return [
        Recipe("pause", versions.pause, ("pause",), "FAKEHW_PAUSE_BIN_DIR",
               _pause_steps(versions.pause), fingerprint=fingerprint(PAUSE_MAIN_GO)),
        Recipe("etcd", versions.etcd, ("etcd",), "FAKEHW_ETCD_BIN_DIR",
               _etcd_steps(versions.etcd)),
        Recipe("containerd", versions.containerd, CONTAINERD_BINARIES,
               "FAKEHW_CONTAINERD_BIN_DIR", _containerd_steps(versions.containerd)),
        Recipe("kubernetes", versions.kubernetes, KUBERNETES_BINARIES, "FAKEHW_K8S_BIN_DIR",
               _kubernetes_steps(versions.kubernetes, versions.staging)),
        Recipe(CDI_PLUGIN, versions.kubernetes, (CDI_PLUGIN,), "FAKEHW_CDI_PLUGIN_DIR",
               _cdi_plugin_steps(versions.kubernetes, versions.staging), optional=True,
               fingerprint=fingerprint(CDI_PLUGIN_MAIN_GO)),
        Recipe(DRA_TEST_DRIVER, versions.kubernetes, (DRA_TEST_DRIVER,),
               "FAKEHW_DRA_TEST_DRIVER_DIR",
               _kubernetes_command_steps(DRA_TEST_DRIVER, gomod.DRA_TEST_DRIVER_PACKAGE,
                                         versions.kubernetes, versions.staging), optional=True),
        Recipe(KUBE_PROXY, versions.kubernetes, (KUBE_PROXY,), "FAKEHW_KUBE_PROXY_DIR",
               _kubernetes_command_steps(
                   KUBE_PROXY, gomod.KUBE_PROXY_PACKAGE, versions.kubernetes, versions.staging,
                   stamped=True)),
        Recipe(COREDNS, versions.coredns, (COREDNS,), "FAKEHW_COREDNS_DIR",
               _go_install_steps(COREDNS, "github.com/coredns/coredns", versions.coredns)),
        Recipe(HELM, versions.helm, (HELM,), "FAKEHW_HELM_DIR",
               _go_install_steps(HELM, "helm.sh/helm/v4/cmd/helm", versions.helm,
                                 gomod.helm_ldflags(versions.helm)),
               optional=True),
    ]
