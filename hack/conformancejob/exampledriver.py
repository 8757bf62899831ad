"""sigs.k8s.io/dra-example-driver's kubelet plugin, built once from the Go module proxy.

``make certify-example-driver`` certifies it; ``make bench-drivers`` measures the reference
driver beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import click

MODULE = "sigs.k8s.io/dra-example-driver"
VERSION = "v0.4.0"
PACKAGE = "cmd/dra-example-kubeletplugin"
PLUGIN = "dra-example-kubeletplugin"


def build(version: str) -> Path:
    """The plugin built from the module's own go.mod and go.sum, so its dependencies are the
    release's. ``go install pkg@version`` is not used: it asks the proxy for the module's
    version list (for deprecations), which a proxy may refuse."""
    cache = Path(os.environ.get("FAKEHW_CACHE_DIR") or Path.home() / ".cache/fakehw")
    binary = cache / "bin" / f"dra-example-driver-{version}" / PLUGIN
    if binary.is_file():
        return binary
    env = dict(os.environ, GOFLAGS="-mod=readonly")
    done = subprocess.run(["go", "mod", "download", "-json", f"{MODULE}@{version}"],
                          capture_output=True, text=True, check=False, env=env, cwd=cache)
    if done.returncode != 0:
        raise click.ClickException(f"go mod download {MODULE}@{version}: {done.stdout}"
                                   f"{done.stderr}")
    source = Path(json.loads(done.stdout)["Dir"])
    binary.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"building {PLUGIN} {version} from {MODULE} (a few minutes, once)", err=True)
    subprocess.run(["go", "build", "-trimpath", "-o", str(binary), f"./{PACKAGE}"],
                   check=True, env=env, cwd=source)
    return binary
