"""The plugin itself: cheap to import, strict about requirement IDs, honest about skips."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.conftest import plugins

pytestmark = pytest.mark.unit


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    code = ("import sys, dra_conformance.plugin; "
            "print(sorted(m for m in ('grpc', 'kubernetes', 'yaml', 'hypothesis') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def _run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_x=source)
    pytester.makeini("[pytest]\naddopts = --strict-markers\nfilterwarnings =\n    error\n"
                     "    ignore::pytest.PytestAssertRewriteWarning\n")
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args,
                                        plugins=plugins()[:-1])


def test_unknown_requirement_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "import pytest\n@pytest.mark.requirement('DRA-NOPE-001')\n"
                            "def test_a(): pass\n")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown requirement DRA-NOPE-001" in result.stderr.str()


def test_unclaimed_feature_is_not_applicable_and_report_written(
        pytester: pytest.Pytester, tmp_path: Path) -> None:
    result = _run(pytester, "import pytest\n"
                            "@pytest.mark.requirement('DRA-FEAT-HEALTH-001')\n"
                            "def test_a(): raise AssertionError\n"
                            "@pytest.mark.requirement('DRA-REG-001')\n"
                            "def test_b(dra_kubelet): pass\n",
                  "--dra-driver", "x.example.com", "--dra-report-dir", str(tmp_path))
    result.assert_outcomes(skipped=2)
    header = result.stdout.str()
    assert "dra-conformance: driver x.example.com" in header
    assert "hypothesis seed" in header
    report = (tmp_path / "report.md").read_text()
    assert "| DRA-FEAT-HEALTH-001 | SHOULD (healthReporting) | socket | n/a" in report
    assert "--dra-registration-socket" in report  # the not-run reason names the option
    assert "NOT CERTIFIED" in report


def test_options_fall_back_to_the_environment(pytester: pytest.Pytester,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRA_DRIVER", "env.example.com")
    result = _run(pytester, "def test_a(dra_profile):\n"
                            "    assert dra_profile.driver == 'env.example.com'\n")
    result.assert_outcomes(passed=1)


def test_kubelet_restart_command_gets_the_node(pytester: pytest.Pytester,
                                              tmp_path: Path) -> None:
    marker = tmp_path / "restarted"
    result = _run(pytester, "def test_a(dra_restart_kubelet):\n"
                            "    dra_restart_kubelet('node-7')\n",
                  "--dra-driver", "x.example.com", "--dra-kubelet-restart-command",
                  f"sh -c 'echo \"$0\" > {marker}' {{node}}")
    result.assert_outcomes(passed=1)
    assert marker.read_text() == "node-7\n"


def test_without_a_kubelet_restart_command_the_test_does_not_run(
        pytester: pytest.Pytester) -> None:
    result = _run(pytester, "def test_a(dra_restart_kubelet): pass\n",
                  "--dra-driver", "x.example.com", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*--dra-kubelet-restart-command*"])


def test_a_failing_kubelet_restart_command_fails_the_test_with_its_output(
        pytester: pytest.Pytester) -> None:
    result = _run(pytester, "def test_a(dra_restart_kubelet):\n"
                            "    dra_restart_kubelet('n1')\n",
                  "--dra-driver", "x.example.com", "--dra-kubelet-restart-command",
                  "sh -c 'echo no such node $0 >&2; exit 3' {node}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*exited 3: no such node n1*"])


def test_the_companion_class_comes_from_its_option_or_the_test_does_not_run(
        pytester: pytest.Pytester) -> None:
    source = "def test_a(dra_companion_class):\n    assert dra_companion_class == 'other.example'\n"
    given = _run(pytester, source, "--dra-driver", "x.example.com",
                 "--dra-companion-class", "other.example")
    given.assert_outcomes(passed=1)
    missing = _run(pytester, source, "--dra-driver", "x.example.com", "-rs")
    missing.assert_outcomes(skipped=1)
    missing.stdout.fnmatch_lines(["*--dra-companion-class*"])
