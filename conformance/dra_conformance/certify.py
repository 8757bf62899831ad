"""``certify``: run the whole suite against a driver and write the certification report.

It runs pytest in a child process (a crashing driver or test cannot take the reporter down),
shows progress from e2e.log as tests finish, and exits 0 only when every applicable MUST
requirement passed. The child's exact command, seed included, goes into the report.
The child starts in the report directory, never where certify was started: pytest
loads the conftest.py files of the directory it starts in and of its test* folders,
and a project's own (say, one skipping its cluster tests) must not reach the suite.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import random
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INI = "[pytest]\naddopts = --strict-markers -p no:cacheprovider\nxfail_strict = true\n"


def plugin_installed() -> bool:
    """Whether the pytest11 entry point loads the plugin (then ``-p`` would register it twice)."""
    return any(ep.value.startswith("dra_conformance.plugin")
               for ep in importlib.metadata.entry_points(group="pytest11"))


@dataclass(frozen=True)
class Run:
    profile: Path
    report_dir: Path
    kubeconfig: Path | None = None
    registration_socket: Path | None = None
    node: str | None = None
    fakehw_root: Path | None = None
    tier: str = "all"  # socket, cluster or all
    hypothesis_profile: str = "ci"
    seed: int | None = None
    kubelet_restart_command: str | None = None
    companion_class: str | None = None
    kubelet_root: Path | None = None
    extra: tuple[str, ...] = ()

    def pytest_args(self, seed: int) -> list[str]:
        """The child's arguments, paths made absolute (it starts in the report directory)."""
        report_dir = self.report_dir.absolute()
        args = ["-c", str(report_dir / "pytest.ini"), "--rootdir", str(report_dir)]
        if not plugin_installed():
            args += ["-p", "dra_conformance.plugin"]
        args += ["--pyargs", "dra_conformance.suite", "--dra-profile",
                 str(self.profile.absolute()), "--dra-report-dir", str(report_dir),
                 "--dra-hypothesis-profile", self.hypothesis_profile,
                 f"--hypothesis-seed={seed}", "-q",
                 "--durations=15"]  # the 15 slowest tests, printed at the end
        if self.tier != "all":
            args += ["-m", self.tier]
        for flag, value in (("--dra-kubeconfig", self.kubeconfig),
                            ("--dra-registration-socket", self.registration_socket),
                            ("--dra-node", self.node), ("--dra-fakehw-root", self.fakehw_root),
                            ("--dra-kubelet-restart-command", self.kubelet_restart_command),
                            ("--dra-companion-class", self.companion_class),
                            ("--dra-kubelet-root", self.kubelet_root)):
            if value is not None:
                args += [flag, str(value.absolute() if isinstance(value, Path) else value)]
        return args + list(self.extra)


def reproduce(run: Run, seed: int) -> str:
    parts = [Path(sys.executable).name, "-m", "dra_conformance", "certify",
             "--driver-profile", str(run.profile), "--report-dir", str(run.report_dir),
             "--tier", run.tier, "--hypothesis-profile", run.hypothesis_profile,
             "--seed", str(seed)]
    for flag, value in (("--kubeconfig", run.kubeconfig),
                        ("--registration-socket", run.registration_socket),
                        ("--node", run.node), ("--fakehw-root", run.fakehw_root),
                        ("--kubelet-restart-command", run.kubelet_restart_command),
                        ("--companion-class", run.companion_class),
                        ("--kubelet-root", run.kubelet_root)):
        if value is not None:
            parts += [flag, str(value)]
    return shlex.join(parts)


def count_tests(run: Run, seed: int) -> int:
    """How many tests the run will have (for the progress bar); 0 if unknown."""
    done = subprocess.run([sys.executable, "-m", "pytest", *run.pytest_args(seed),
                           "--collect-only", "-q"], capture_output=True, text=True,
                          check=False, cwd=run.report_dir)
    return sum(_collected(line) for line in done.stdout.splitlines())


def _collected(line: str) -> int:
    """Tests a line of ``--collect-only`` output stands for: ``a.py::test`` (``-q``) is one,
    ``a.py: 3`` (``-qq``, as the run's own ``-q`` makes it) is three."""
    if "::" in line:
        return 1
    path, sep, count = line.rpartition(": ")
    return int(count) if sep and path.endswith(".py") and count.isdigit() else 0


def start(run: Run) -> tuple[subprocess.Popen[str], int, Path]:
    """Start the suite; returns the child, the seed and the path of its output log."""
    run.report_dir.mkdir(parents=True, exist_ok=True)
    (run.report_dir / "pytest.ini").write_text(INI)
    seed = run.seed if run.seed is not None else random.SystemRandom().randrange(2**32)
    env = dict(os.environ, DRA_REPRODUCE_COMMAND=reproduce(run, seed))
    output = run.report_dir / "pytest-output.txt"
    with output.open("w") as sink:
        child = subprocess.Popen([sys.executable, "-m", "pytest", *run.pytest_args(seed)],
                                 stdout=sink, stderr=subprocess.STDOUT, text=True, env=env,
                                 cwd=run.report_dir)
    return child, seed, output


def finished_tests(report_dir: Path) -> int:
    try:
        text = (report_dir / "e2e.log").read_text()
    except OSError:
        return 0
    return sum(line.startswith(("•", "S [")) for line in text.splitlines())


def wait(child: subprocess.Popen[str], on_progress: object = None) -> int:
    while child.poll() is None:
        if callable(on_progress):
            on_progress()
        time.sleep(0.5)
    return child.returncode


def load_report(report_dir: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    except (OSError, ValueError):
        return None
    return loaded
