"""``python -m dra_conformance certify`` end to end, against the in-process reference driver.

The suite runs in a child process, which reaches the driver's sockets but not the in-memory
claims, so claim tests are "not run" there: certification must then be refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from dra_conformance.certify import INI, Run, _collected, count_tests
from dra_conformance.cli import main

from tests.conformance.harness import Harness

pytestmark = pytest.mark.socket


def test_certify_writes_results_and_refuses_when_musts_did_not_run(
        reference: Harness, tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(reference.profile_yaml())
    out = tmp_path / "results"
    result = CliRunner().invoke(main, [
        "certify", "--driver-profile", str(profile), "--registration-socket",
        str(reference.registry), "--report-dir", str(out), "--tier", "socket",
        "--hypothesis-profile", "dev", "--seed", "1234"])
    assert result.exit_code == 1, result.output
    for name in ("junit_01.xml", "e2e.log", "report.md", "report.html", "report.json",
                 "plugins/e2e/results/global/junit_01.xml"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    verdicts = {r["id"]: r["verdict"] for r in report["requirements"]}
    assert verdicts["DRA-REG-001"] == "passed"
    assert verdicts["DRA-PREP-001"] == "not run"
    assert verdicts["DRA-FEAT-HEALTH-001"] == "not applicable"
    assert report["run"]["hypothesis_seed"] == "1234"
    assert "dra_conformance certify" in report["run"]["command"]
    assert "--seed 1234" in report["run"]["command"]
    assert not report["certified"]
    assert "NOT CERTIFIED" in (out / "report.html").read_text()


@pytest.mark.unit
def test_progress_counts_collected_tests_in_both_quiet_formats() -> None:
    lines = ["test_a.py::test_one", "test_b.py: 3", "", "3 tests collected in 0.1s",
             "warnings summary: 1"]
    assert sum(_collected(line) for line in lines) == 4


def test_suite_ignores_conftests_where_certify_starts(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest loads conftest.py files of the directory it starts in and of its test*
    folders; a project's own (here one that drops every test) must not reach the suite."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests/conftest.py").write_text(
        "def pytest_collection_modifyitems(items):\n    items.clear()\n")
    profile = tmp_path / "profile.yaml"
    profile.write_text("apiVersion: conformance.fakehw.dev/v1alpha1\nkind: DriverProfile\n"
                       "metadata: {name: x}\nspec:\n  driver: {name: gpu.example.com}\n")
    run = Run(profile=profile, report_dir=tmp_path / "out")
    run.report_dir.mkdir()
    (run.report_dir / "pytest.ini").write_text(INI)
    monkeypatch.chdir(project)
    assert count_tests(run, 0) > 0


@pytest.mark.unit
def test_paths_reach_the_suite_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = Run(profile=Path("p.yaml"), report_dir=Path("out"), kubeconfig=Path("kc"),
              registration_socket=Path("reg"), fakehw_root=Path("hw"))
    args = run.pytest_args(0)
    for flag, name in (("--dra-profile", "p.yaml"), ("--dra-report-dir", "out"),
                       ("--dra-kubeconfig", "kc"), ("--dra-registration-socket", "reg"),
                       ("--dra-fakehw-root", "hw"), ("-c", "out/pytest.ini")):
        assert args[args.index(flag) + 1] == str(tmp_path / name), flag
