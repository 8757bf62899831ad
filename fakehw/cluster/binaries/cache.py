"""The binary cache: one directory per component and version, each with a manifest.

Builds take minutes to hours, so their output is kept outside the repository (default
`~/.cache/fakehw/bin/<component>-<version>/`, or under `$FAKEHW_CACHE_DIR`). The manifest
records the version and the sha256 of every file: a different version, a missing file or a
changed checksum (a truncated copy, a half-finished build) counts as a miss and rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$FAKEHW_CACHE_DIR`, else `$XDG_CACHE_HOME/fakehw`, else `~/.cache/fakehw`."""
    env = os.environ if environ is None else environ
    if env.get("FAKEHW_CACHE_DIR"):
        return Path(env["FAKEHW_CACHE_DIR"]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fakehw"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (binaries are up to 150 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """Where one component at one version lives, and whether it is complete."""

    root: Path
    component: str
    version: str

    @property
    def directory(self) -> Path:
        """`<root>/bin/<component>-<version>/`."""
        return self.root / "bin" / f"{self.component}-{self.version}"

    def path(self, binary: str) -> Path:
        """The path of one binary of this entry."""
        return self.directory / binary

    def is_valid(self, binaries: Iterable[str], fingerprint: str = "") -> bool:
        """True when the manifest names this version (and source fingerprint, for programs
        of our own) and every binary matches its checksum."""
        try:
            manifest = json.loads((self.directory / MANIFEST).read_text())
        except (OSError, ValueError):
            return False
        if manifest.get("version") != self.version:
            return False
        if manifest.get("fingerprint", "") != fingerprint:
            return False
        files = manifest.get("files", {})
        for name in binaries:
            path = self.path(name)
            if name not in files or not path.is_file() or sha256_of(path) != files[name]:
                return False
        return True

    def write_manifest(self, binaries: Iterable[str], **extra: object) -> None:
        """Record the version and checksums once every binary is in place."""
        manifest = {
            "component": self.component,
            "version": self.version,
            "files": {name: sha256_of(self.path(name)) for name in binaries},
            "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **extra,
        }
        (self.directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    def invalidate(self) -> None:
        """Drop the manifest so a partly rebuilt directory never looks complete."""
        (self.directory / MANIFEST).unlink(missing_ok=True)
