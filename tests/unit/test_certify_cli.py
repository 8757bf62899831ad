"""``fakehw certify``: what it hands to ``dra-conformance certify`` and what it returns.

No suite runs here: the child process is replaced by a recorder.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fakehw import certify
from fakehw.cli import main

pytestmark = pytest.mark.unit


class Recorder:
    """Stands for the child: records its command, exits with ``returncode``."""

    def __init__(self, returncode: int) -> None:
        self.returncode = returncode
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str]) -> Recorder:
        self.commands.append(command)
        return self

    def wait(self, timeout: float | None = None) -> int:
        return self.returncode


def invoke(monkeypatch: pytest.MonkeyPatch, args: list[str],
           returncode: int = 0) -> tuple[Result, list[list[str]]]:
    recorder = Recorder(returncode)
    monkeypatch.setattr(subprocess, "Popen", recorder)
    result = CliRunner().invoke(main, ["certify", *args])
    return result, recorder.commands


def test_every_argument_reaches_the_suite_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["--driver-profile", "driver.yaml", "--kubeconfig", "/k/config",
            "--registration-socket", "/var/lib/kubelet/plugins_registry", "--node", "node-a",
            "--fakehw-root", "/hw", "--report-dir", "out", "--tier", "socket",
            "--hypothesis-profile", "thorough", "--seed", "42",
            "--an-option-added-to-the-suite-later", "x", "--", "-k", "slices", "-x"]
    result, (command,) = invoke(monkeypatch, args)
    assert result.exit_code == 0, result.output
    assert command == [sys.executable, "-m", "dra_conformance", "certify", *args]


def test_help_is_the_suites(monkeypatch: pytest.MonkeyPatch) -> None:
    result, (command,) = invoke(monkeypatch, ["--help"])
    assert result.exit_code == 0, result.output
    assert command[-2:] == ["certify", "--help"]


@pytest.mark.parametrize(("returncode", "status"), [(0, 0), (1, 1), (2, 2), (-15, 143)])
def test_the_suites_exit_status_is_passed_back(monkeypatch: pytest.MonkeyPatch,
                                               returncode: int, status: int) -> None:
    result, _ = invoke(monkeypatch, ["--driver-profile", "p.yaml"], returncode)
    assert result.exit_code == status


def test_a_missing_suite_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = certify.importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name in ("dra_conformance", "kubernetes") else real(name, *args)
    monkeypatch.setattr(certify.importlib.util, "find_spec", find_spec)
    result, commands = invoke(monkeypatch, ["--driver-profile", "p.yaml"])
    assert (result.exit_code, commands) == (1, [])
    assert "cannot import dra_conformance, kubernetes" in result.output
    assert "pip install" in result.output


def test_everything_the_suite_needs_is_looked_up_without_importing_it() -> None:
    assert certify.missing_modules() == []
    assert certify.missing_modules(("surely_no_such_module_here",)) == [
        "surely_no_such_module_here"]
