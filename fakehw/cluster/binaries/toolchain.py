"""Checks made before a build starts: is Go there and new enough, is there room on disk.

A Kubernetes build runs for many minutes and writes gigabytes into Go's caches; failing after
ten minutes because the disk filled up or Go is too old wastes a CI run, so both are checked
first and reported with the fix.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from fakehw.cluster.errors import DiskSpaceError, ToolchainError
from fakehw.cluster.versions import MINIMUM_GO

GIB = 1024**3
# A cold build of all components fills GOCACHE and GOMODCACHE with about 6 GiB.
BUILD_DISK_BYTES = 8 * GIB

_GO_VERSION = re.compile(r"go version go(\d+)\.(\d+)(?:\.(\d+))?")


def parse_go_version(text: str) -> tuple[int, int, int]:
    """Read (major, minor, patch) from the output of `go version`."""
    match = _GO_VERSION.search(text)
    if match is None:
        raise ToolchainError(f"cannot read a Go version from {text.strip()!r}")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


GO_FALLBACKS = (Path("/usr/local/go/bin/go"),)


def find_go(minimum: tuple[int, int, int] = MINIMUM_GO,
            fallbacks: tuple[Path, ...] = GO_FALLBACKS) -> Path:
    """Return the `go` binary (PATH, then Go's usual install place), or explain how to get one."""
    wanted = ".".join(map(str, minimum))
    found = shutil.which("go") or next((str(p) for p in fallbacks if p.exists()), None)
    if found is None:
        raise ToolchainError(
            f"Go >= {wanted} is needed to build the cluster binaries and `go` is not on PATH; "
            "install it (https://go.dev/doc/install) or point FAKEHW_K8S_BIN_DIR, "
            "FAKEHW_ETCD_BIN_DIR and FAKEHW_CONTAINERD_BIN_DIR at release binaries"
        )
    out = subprocess.run([found, "version"], capture_output=True, text=True, check=False)
    version = parse_go_version(out.stdout)
    if version < minimum:
        have = ".".join(map(str, version))
        raise ToolchainError(
            f"{found} is Go {have}; Kubernetes 1.37 needs Go >= {wanted}. Install a newer Go "
            "and put it first on PATH"
        )
    return Path(found)


def check_disk(path: Path, needed: int, purpose: str) -> None:
    """Fail early when the filesystem holding `path` has less than `needed` bytes free."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise DiskSpaceError(
            f"{purpose} needs about {needed / GIB:.1f} GiB free under {path}, only "
            f"{free / GIB:.1f} GiB is; free some space or set FAKEHW_CACHE_DIR elsewhere"
        )
