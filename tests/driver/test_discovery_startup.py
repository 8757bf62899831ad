"""A driver pointed at the wrong tree refuses to start and says why (no silent fallback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from dra_reference.cli import main
from dra_reference.discovery.node import NodeHardware
from dra_reference.errors import ConfigurationError

from fakehw.tree.state import TreeState

pytestmark = pytest.mark.unit


def test_a_sysfs_root_without_bus_pci_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    with pytest.raises(ConfigurationError, match=r"has no bus/pci/, so it is not a sysfs tree"):
        NodeHardware(tmp_path, tmp_path / "dev").check()


@pytest.mark.parametrize(("sysfs", "devfs", "words"), [
    ("missing", "dev", "is not a directory"),
    ("sys", "missing", "devfs root"),
])
def test_missing_roots_are_refused(edge_tree: TreeState, sysfs: str, devfs: str,
                                   words: str) -> None:
    root = Path(edge_tree.root)
    with pytest.raises(ConfigurationError, match=words):
        NodeHardware(root / sysfs, root / devfs).check()


def test_an_unknown_kind_is_refused(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    with pytest.raises(ConfigurationError, match="unknown device kind 'tpu'"):
        NodeHardware(root / "sys", root / "dev", ("gpu", "tpu")).check()


def test_an_emulated_tree_passes(edge_tree: TreeState) -> None:
    root = Path(edge_tree.root)
    NodeHardware(root / "sys", root / "dev").check()


def test_the_command_line_reports_a_wrong_root(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "kubelet-plugin", "--node-name", "node-a", "--sysfs-root", str(tmp_path),
        "--devfs-root", str(tmp_path), "--plugins-dir", str(tmp_path / "p")])
    assert result.exit_code == 2
    assert "has no bus/pci/" in result.output


def test_every_flag_is_an_environment_variable(edge_tree: TreeState, tmp_path: Path) -> None:
    root = Path(edge_tree.root)
    result = CliRunner().invoke(main, ["kubelet-plugin"], env={
        "DRA_REFERENCE_NODE_NAME": "node-a", "DRA_REFERENCE_SYSFS_ROOT": str(root / "sys"),
        "DRA_REFERENCE_DEVFS_ROOT": str(root / "dev"),
        "DRA_REFERENCE_KUBECONFIG": str(tmp_path / "nowhere.yaml"),
        "DRA_REFERENCE_PLUGINS_DIR": str(tmp_path / "p")})
    assert result.exit_code == 2
    assert "cannot load Kubernetes credentials from" in result.output
    assert "nowhere.yaml" in result.output


def test_the_controller_needs_a_cameras_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["controller", "--cameras-config",
                                       str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2
    assert "absent.yaml" in result.output


def test_help_lists_the_environment_variables() -> None:
    result = CliRunner().invoke(main, ["kubelet-plugin", "--help"])
    for name in ("DRIVER_NAME", "NODE_NAME", "SYSFS_ROOT", "DEVFS_ROOT", "KINDS", "PLUGINS_DIR",
                 "REGISTRY_DIR", "CDI_DIR", "STATE_DIR", "KUBECONFIG", "CAMERAS_CONFIG"):
        assert f"DRA_REFERENCE_{name}" in result.output
