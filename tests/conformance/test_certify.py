"""``python -m dra_conformance certify`` end to end, against the in-process reference driver.

The suite runs in a child process, which reaches the driver's sockets but not the in-memory
claims, so claim tests are "not run" there: certification must then be refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from dra_conformance.certify import _collected
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
