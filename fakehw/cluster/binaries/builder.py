"""Make sure every cluster binary is at hand: prebuilt, cached, or built now.

For each component, in this order:
1. a directory named by an environment variable (official release binaries, see below);
2. the cache entry `<cache>/bin/<component>-<version>/`, if its manifest matches;
3. a build from the Go module proxy, as steps with a spinner and elapsed time.

To use official release binaries instead of building (for example from the Kubernetes server
tarball, the etcd release tarball and the containerd release tarball), point these at
directories holding them:

    FAKEHW_K8S_BIN_DIR         kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl
    FAKEHW_ETCD_BIN_DIR        etcd
    FAKEHW_CONTAINERD_BIN_DIR  containerd ctr containerd-shim-runc-v2
    FAKEHW_PAUSE_BIN_DIR       pause (any static pause binary)
    FAKEHW_KUBE_PROXY_DIR      kube-proxy
    FAKEHW_COREDNS_DIR         coredns
    FAKEHW_HELM_DIR            helm

Such binaries are used as they are: their versions are the user's responsibility.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from fakehw.cluster.binaries.cache import CacheEntry, default_cache_dir
from fakehw.cluster.binaries.gotool import GoTool
from fakehw.cluster.binaries.recipes import Recipe, recipes
from fakehw.cluster.binaries.toolchain import BUILD_DISK_BYTES, check_disk, find_go
from fakehw.cluster.errors import BuildError
from fakehw.cluster.steps import Step, run_steps
from fakehw.cluster.versions import Versions

log = logging.getLogger(__name__)


@dataclass
class BinarySet:
    """Paths of every binary a cluster runs, by name (`kubelet`, `etcd`, `pause`, ...)."""

    paths: dict[str, Path] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Path:
        return self.paths[name]


def _from_override(recipe: Recipe, directory: Path) -> dict[str, Path]:
    missing = [b for b in recipe.binaries if not (directory / b).is_file()]
    if missing:
        raise BuildError(
            f"{recipe.override_env}={directory} lacks {', '.join(missing)}; put the "
            f"{recipe.component} binaries there or unset {recipe.override_env} to build them"
        )
    return {b: directory / b for b in recipe.binaries}


def _build_steps(recipe: Recipe, go: GoTool, entry: CacheEntry, cache_root: Path) -> list[Step]:
    src = cache_root / "src" / f"{recipe.component}-{recipe.version}"

    def prepare() -> None:
        src.mkdir(parents=True, exist_ok=True)
        entry.directory.mkdir(parents=True, exist_ok=True)
        entry.invalidate()

    def record() -> None:
        entry.write_manifest(recipe.binaries, source="built from the Go module proxy",
                             fingerprint=recipe.fingerprint)

    return [
        Step(f"prepare {entry.directory}", prepare),
        *recipe.steps(go, entry, src),
        Step(f"record checksums of {recipe.component} {recipe.version}", record),
    ]


def ensure_binaries(
    *,
    versions: Versions | None = None,
    cache_root: Path | None = None,
    console: Console | None = None,
    environ: Mapping[str, str] | None = None,
    force: bool = False,
    components: Collection[str] | None = None,
) -> BinarySet:
    """Return every binary, building what is neither overridden nor validly cached.

    `components` limits the work to some of kubernetes, etcd, containerd, pause, kube-proxy,
    coredns (the default), or asks for the optional dra-test-driver, fakehw-cdi-plugin, helm.
    """
    env = os.environ if environ is None else environ
    root = cache_root or default_cache_dir(env)
    console = console or Console(stderr=True)
    found = BinarySet()
    to_build: list[tuple[Recipe, CacheEntry]] = []
    for recipe in recipes(versions or Versions()):
        wanted = recipe.component in components if components is not None else not recipe.optional
        if not wanted:
            continue
        entry = CacheEntry(root, recipe.component, recipe.version)
        if env.get(recipe.override_env):
            found.paths.update(_from_override(recipe, Path(env[recipe.override_env])))
            found.sources[recipe.component] = env[recipe.override_env]
        elif not force and entry.is_valid(recipe.binaries, recipe.fingerprint):
            found.sources[recipe.component] = f"cache {entry.directory}"
        else:
            to_build.append((recipe, entry))
        found.paths.update({b: entry.path(b) for b in recipe.binaries if b not in found.paths})
    if to_build:
        _build(to_build, root, console)
        for recipe, entry in to_build:
            found.sources[recipe.component] = f"built into {entry.directory}"
    for component, source in found.sources.items():
        log.info("%s: %s", component, source)
    return found


def _build(to_build: list[tuple[Recipe, CacheEntry]], root: Path, console: Console) -> None:
    names = ", ".join(f"{r.component} {r.version}" for r, _ in to_build)
    console.print(f"Building {names} (a cold Kubernetes build takes 15-40 minutes)")
    go_binary = find_go()
    check_disk(root, BUILD_DISK_BYTES, "building the cluster binaries")
    go = GoTool(go_binary, root / "logs" / "build.log")
    steps = [s for recipe, entry in to_build for s in _build_steps(recipe, go, entry, root)]
    run_steps(steps, console)
