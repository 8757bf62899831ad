"""The fakehw command: results, exit codes and messages a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fakehw.cli import main

pytestmark = pytest.mark.unit


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_up_inventory_down(tmp_path: Path) -> None:
    root = str(tmp_path / "hw")
    code, _ = run("up", "--profile", "gpu-sriov-8", "--root", root, "--node-name", "n1")
    assert code == 0
    code, out = run("inventory", "--root", root, "-o", "json")
    assert code == 0
    inventory = json.loads(out)
    assert inventory["node"] == "n1"
    assert sum(d["kind"] == "gpu" for d in inventory["devices"]) == 8
    assert sum(d["kind"] == "gpu-vf" for d in inventory["devices"]) == 32
    assert run("down", "--root", root)[0] == 0
    assert not Path(root).exists()
    code, out = run("down", "--root", root)
    assert code == 0
    assert "nothing to remove" in out


def test_root_from_the_environment(tmp_path: Path) -> None:
    env = {"FAKEHW_ROOT": str(tmp_path / "hw")}
    assert run("up", "--profile", "gpu-sriov-8", env=env)[0] == 0
    code, out = run("unplug", "gpu3", env=env)
    assert code == 0
    assert "gpu3-vf0" in out
    assert run("down", env=env)[0] == 0


def test_bad_inputs_exit_2_with_the_fix(tmp_path: Path) -> None:
    root = str(tmp_path / "hw")
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: fakehw.dev/v1alpha1\nkind: HardwareProfile\n"
                   "metadata: {name: x}\nspec: {gpus: [{model: voodoo2}]}\n")
    code, out = run("up", "--profile", str(bad), "--root", root)
    assert code == 2
    assert "spec.gpus[0].model" in out
    assert "use one of" in out
    assert not Path(root).exists()
    assert run("up", "--profile", "gpu-sriov-8", "--root", root)[0] == 0
    code, out = run("unplug", "--root", root, "gpu42")
    assert code == 2
    assert "no device 'gpu42'" in out
    run("down", "--root", root)


def test_commands_on_a_missing_tree_explain_how_to_make_one(tmp_path: Path) -> None:
    code, out = run("inventory", "--root", str(tmp_path / "none"))
    assert code == 1
    assert "fakehw up --root" in out


def test_profiles_list_and_validate() -> None:
    code, out = run("profiles", "list")
    assert code == 0
    assert "edge-node" in out
    assert run("profiles", "validate", "numa-mixed")[0] == 0
