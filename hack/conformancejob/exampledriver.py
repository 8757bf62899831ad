"""sigs.k8s.io/dra-example-driver's kubelet plugin, built once from the Go module proxy.

``make certify-example-driver`` certifies it as a host process; ``make certify-example-chart``
from its own Helm chart (inside its module, ``deployments/helm/dra-example-driver``) and an
image built here from a static build of the plugin; ``make bench-drivers`` measures the
reference driver beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import click

from fakehw.cluster.images import write_oci_archive
from fakehw.cluster.images.oci import Entry, ImageSpec

MODULE = "sigs.k8s.io/dra-example-driver"
VERSION = "v0.4.0"
PACKAGE = "cmd/dra-example-kubeletplugin"
PLUGIN = "dra-example-kubeletplugin"
IMAGE_REPOSITORY = "registry.k8s.io/dra-example-driver/dra-example-driver"  # the chart's


def _cache() -> Path:
    return Path(os.environ.get("FAKEHW_CACHE_DIR") or Path.home() / ".cache/fakehw")


def source(version: str) -> Path:
    """The module's folder in the Go module cache (downloaded from the proxy once)."""
    env = dict(os.environ, GOFLAGS="-mod=readonly")
    done = subprocess.run(["go", "mod", "download", "-json", f"{MODULE}@{version}"],
                          capture_output=True, text=True, check=False, env=env, cwd=_cache())
    if done.returncode != 0:
        raise click.ClickException(f"go mod download {MODULE}@{version}: {done.stdout}"
                                   f"{done.stderr}")
    return Path(json.loads(done.stdout)["Dir"])


def build(version: str, *, static: bool = False) -> Path:
    """The plugin built from the module's own go.mod and go.sum, so its dependencies are the
    release's. ``go install pkg@version`` is not used: it asks the proxy for the module's
    version list (for deprecations), which a proxy may refuse. ``static``: without cgo, for
    an image holding nothing else."""
    folder = f"dra-example-driver-{version}" + ("-static" if static else "")
    binary = _cache() / "bin" / folder / PLUGIN
    if binary.is_file():
        return binary
    module = source(version)
    binary.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"building {PLUGIN} {version} from {MODULE} (a few minutes, once)", err=True)
    env = dict(os.environ, GOFLAGS="-mod=readonly", **({"CGO_ENABLED": "0"} if static else {}))
    subprocess.run(["go", "build", "-trimpath", "-o", str(binary), f"./{PACKAGE}"],
                   check=True, env=env, cwd=module)
    return binary


def chart(version: str) -> Path:
    return source(version) / "deployments/helm/dra-example-driver"


def image(version: str, archive: Path) -> str:
    """The image the chart names by default (its repository, the chart's appVersion as the
    tag), holding the static plugin on PATH; written as an OCI archive. Returns its name."""
    name = f"{IMAGE_REPOSITORY}:{version}"
    write_oci_archive(ImageSpec(name=name, entries=[
        Entry(f"usr/bin/{PLUGIN}", source=build(version, static=True))]), archive)
    return name
