"""Python programs' images (fakehw/cluster/images/python.py), run the way a container runtime
runs them: the layer unpacked into a folder that becomes the root, so nothing of this machine
is in reach but what the image holds.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from fakehw.cluster.errors import HostError
from fakehw.cluster.images.oci import ImageSpec, layer_bytes
from fakehw.cluster.images.python import PythonProgram, distribution_closure, python_image
from hack.conformancejob import pods

pytestmark = pytest.mark.tools
VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"


def unpack(spec: ImageSpec, root: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(layer_bytes(spec.entries))) as layer:
        # the layer was made here from this machine's files; its links stay as made
        layer.extractall(root, filter="fully_trusted")  # noqa: S202


def run_in(root: Path, spec: ImageSpec, *argv: str) -> subprocess.CompletedProcess[str]:
    """``argv`` (the entrypoint when empty) chrooted into ``root`` with the image's env."""
    command = list(argv or spec.entrypoint)
    return subprocess.run(["env", "-i", *spec.env, "chroot", str(root), *command],
                          capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture
def program(tmp_path: Path) -> PythonProgram:
    package = tmp_path / "src" / "greeter"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "import ssl, sys, yaml\n"
        "print(yaml.safe_dump({'prefix': sys.prefix, 'ssl': ssl.OPENSSL_VERSION[:7]}))\n")
    return PythonProgram("fakehw.local/greeter:1", "greeter", [package], ["pyyaml"],
                         ("greeter", "1.0"))


def test_a_program_runs_on_nothing_but_its_image(program: PythonProgram,
                                                 tmp_path: Path) -> None:
    spec = python_image(program)
    root = tmp_path / "root"
    unpack(spec, root)
    done = run_in(root, spec)
    assert done.returncode == 0, done.stderr
    assert "prefix: /usr/local" in done.stdout
    assert "ssl: OpenSSL" in done.stdout
    assert (root / f"usr/local/lib/{VERSION}/site-packages/greeter-1.0.dist-info/METADATA"
            ).is_file()
    assert not (root / f"usr/local/lib/{VERSION}/test").exists()
    assert not (root / f"usr/local/lib/{VERSION}/site-packages/pytest").exists()


def test_compiled_files_are_used_not_rewritten(program: PythonProgram, tmp_path: Path) -> None:
    """The .pyc files keep their sources' times: a run compiles nothing of the library."""
    spec = python_image(program)
    root = tmp_path / "root"
    unpack(spec, root)
    assert run_in(root, spec).returncode == 0
    site = root / f"usr/local/lib/{VERSION}/site-packages"
    before = {p: p.stat().st_mtime_ns for p in (site / "yaml").rglob("*.pyc")}
    assert before, "pyyaml's compiled files are in the image"
    assert run_in(root, spec, "/usr/local/bin/python3", "-c", "import yaml").returncode == 0
    assert {p: p.stat().st_mtime_ns for p in (site / "yaml").rglob("*.pyc")} == before


def test_the_driver_image_holds_everything_the_driver_imports(tmp_path: Path) -> None:
    spec = python_image(pods.driver_program("0.1.0"))
    root = tmp_path / "root"
    unpack(spec, root)
    every_module = (
        "import importlib, importlib.metadata, pkgutil, dra_reference, dra_kubelet_api\n"
        "for package in (dra_reference, dra_kubelet_api):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        # not the command line, nor a benchmark (run from a checkout)\n"
        "        if not module.name.endswith(('.__main__', '.bench')):\n"
        "            importlib.import_module(module.name)\n"
        "print(importlib.metadata.version('fakehw'))\n")
    done = run_in(root, spec, "/usr/local/bin/python3", "-c", every_module)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0.1.0"
    helped = run_in(root, spec, *spec.entrypoint, "kubelet-plugin", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "DRA_REFERENCE_NODE_NAME" in helped.stdout


def test_a_distribution_that_is_not_installed_is_named() -> None:
    with pytest.raises(HostError, match=r"'no-such-distribution'.*make setup"):
        distribution_closure(["no-such-distribution"])


def test_requirements_follow_markers_and_extras() -> None:
    closure = distribution_closure(["kubernetes"])
    assert {"kubernetes", "urllib3", "pyyaml", "python-dateutil"} <= set(closure)
    assert "pytest" not in closure
    assert "hypothesis" not in closure
    # this project's extras (driver, dev) are not asked for, so none of theirs come along
    bare = distribution_closure(["fakehw"])
    assert {"fakehw", "pyyaml", "click"} <= set(bare)
    assert not {"grpcio", "kubernetes", "pytest", "mypy"} & set(bare)
