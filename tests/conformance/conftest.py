"""Fixtures for the suite's own tests: the reference driver running in-process, and the
suite run in-process (with pytester, which the top conftest enables)."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dra_conformance import plugin as suite_plugin

from tests.conformance import harness_plugin
from tests.conformance.harness import Harness


@pytest.fixture
def reference() -> Iterator[Harness]:
    running = Harness().start()
    harness_plugin.CURRENT[:] = [running]
    yield running
    harness_plugin.CURRENT.clear()
    running.close()


def plugins(harness: bool = True) -> list[object]:
    """The suite's plugin unless its installed entry point already loads it, and the harness
    (without ``harness``: the suite on its own, for a driver running outside this process).

    Passed as objects, not ``-p`` names: ``-p`` would warn (an error here) that an already
    imported module cannot be assertion-rewritten.
    """
    loaded = any(ep.value.startswith("dra_conformance.plugin")
                 for ep in importlib.metadata.entry_points(group="pytest11"))
    found: list[object] = [] if loaded else [suite_plugin]
    return [*found, harness_plugin] if harness else found


@dataclass
class SuiteRun:
    result: pytest.RunResult
    report_dir: Path

    @property
    def report(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.report_dir / "report.json").read_text())
        return loaded

    def verdicts(self) -> dict[str, str]:
        return {r["id"]: r["verdict"] for r in self.report["requirements"]}

    def evidence(self, rid: str) -> list[str]:
        return next(r["evidence"] for r in self.report["requirements"] if r["id"] == rid)


def suite_run(pytester: pytest.Pytester, profile: str, *args: str,
              harness: bool = True) -> SuiteRun:
    """Run the installed suite in-process with driver profile ``profile`` (YAML text) and
    ``args``; results in ``report/``. ``harness``: with the in-process driver's plugin."""
    # in-process, modules the outer session imported (fakehw) cannot be assertion-rewritten
    (pytester.path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers\nfilterwarnings =\n    error\n"
        "    ignore::pytest.PytestAssertRewriteWarning\n")
    profile_path = pytester.path / "profile.yaml"
    profile_path.write_text(profile)
    report_dir = pytester.path / "report"
    result = pytester.runpytest_inprocess(
        "-c", str(pytester.path / "pytest.ini"), "--rootdir", str(pytester.path),
        "-p", "no:cacheprovider", "--pyargs", "dra_conformance.suite",
        "--dra-profile", str(profile_path), "--dra-report-dir", str(report_dir), *args,
        plugins=plugins(harness))
    return SuiteRun(result, report_dir)


def run_suite(pytester: pytest.Pytester, harness: Harness, *args: str,
              profile: str | None = None, tier: str = "socket",
              registration: Path | None = None) -> SuiteRun:
    """Run the installed suite in-process against ``harness``; results in ``report/``."""
    return suite_run(pytester, profile or harness.profile_yaml(), "-m", tier,
                     "--dra-registration-socket", str(registration or harness.registry),
                     "--dra-hypothesis-profile", "dev", *args)
