"""The runtime helpers a local node runs are the ones named, never the first on PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fakehw.cluster.errors import HostError
from fakehw.cluster.local import host
from fakehw.cluster.local.restarts import node_environment
from fakehw.cluster.settings import DEFAULT_RUNC


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.mark.unit
def test_a_node_path_holds_its_own_folders_and_the_systems_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path / 'elsewhere'}{os.pathsep}/usr/bin")
    env = node_environment("/hw", tmp_path / "containerd-v2.4.2")
    folders = env["PATH"].split(os.pathsep)
    assert folders[0] == str(tmp_path / "containerd-v2.4.2")
    assert str(tmp_path / "elsewhere") not in folders
    assert {"/usr/sbin", "/usr/bin", "/sbin", "/bin"} <= set(folders)
    assert env["FAKEHW_HARDWARE_ROOT"] == "/hw"


@pytest.mark.unit
def test_cni_plugins_are_looked_for_in_the_named_folder_only(tmp_path: Path) -> None:
    for plugin in ("bridge", "host-local"):
        (tmp_path / plugin).write_text("")
    with pytest.raises(HostError, match=rf"loopback are not in {tmp_path}.*--cni-bin-dir"):
        host.require_cni_plugins(tmp_path, ("bridge", "host-local", "loopback"))
    (tmp_path / "loopback").write_text("")
    host.require_cni_plugins(tmp_path, ("bridge", "host-local", "loopback"))


@pytest.mark.tools
def test_runc_is_the_one_named_and_must_answer_as_runc(tmp_path: Path) -> None:
    assert host.require_runc(DEFAULT_RUNC) == DEFAULT_RUNC
    with pytest.raises(HostError, match="--runc runc: give an absolute path"):
        host.require_runc(Path("runc"))
    with pytest.raises(HostError, match=rf"{tmp_path}/none is not an executable.*FAKEHW_RUNC"):
        host.require_runc(tmp_path / "none")
    impostor = _script(tmp_path / "runc", "echo 'not runc' >&2; exit 3")
    with pytest.raises(HostError, match=r"did not answer as runc does \('not runc'\)"):
        host.require_runc(impostor)
