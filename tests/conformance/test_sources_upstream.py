"""Every requirement's source says what upstream says: each quote and each e2e test's name
is found, verbatim, in the file it names, in the module at the version it names (fetched
from the Go module proxy when the module cache lacks it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from dra_conformance.requirements import CATALOGUE, Requirement
from dra_conformance.sources import SourceKind

pytestmark = pytest.mark.tools


@cache
def module_dir(module: str) -> Path:
    """The unpacked module ``path@version``, downloaded into the module cache if need be."""
    go = shutil.which("go")
    if go is None:
        pytest.fail("`go` is not on PATH: the sources are checked in Go's module cache")
    done = subprocess.run([go, "mod", "download", "-json", module], capture_output=True,
                          text=True, check=False, cwd="/")
    assert done.returncode == 0, f"go mod download {module}: {done.stdout}{done.stderr}"
    return Path(json.loads(done.stdout)["Dir"])


@pytest.mark.parametrize("requirement", CATALOGUE, ids=lambda r: r.id)
def test_the_source_says_it(requirement: Requirement) -> None:
    source = requirement.source
    module, _, path = source.where.partition("/")
    while "@" not in module:  # module paths have slashes: k8s.io/kubelet@v0.37.2/...
        head, _, path = path.partition("/")
        module = f"{module}/{head}"
    text = (module_dir(module) / path).read_text()
    assert source.quote in text, f"{source.where} does not say {source.quote!r}"
    if source.kind is SourceKind.E2E:
        name = source.anchor.split('"')[1] if '"' in source.anchor else source.anchor
        name = name.split(" (")[0]
        assert name in text, f"{source.where} has no e2e test {name!r}"
