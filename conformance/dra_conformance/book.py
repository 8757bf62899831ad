"""The session's ledger: which test proves what, how it ended, and the report at the end.

Kept apart from the hooks so the rules (what counts as not run, what the evidence says) can be
read in one place and the report can be built outside pytest (``certify`` reads report.json).
"""

from __future__ import annotations

import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dra_conformance.settings import SuiteSettings
from dra_conformance.verdicts import TestRecord, judge

if TYPE_CHECKING:
    from dra_conformance.profiles.model import DriverProfile
    from dra_conformance.report.e2elog import E2ELog
    from dra_conformance.report.model import Report

REASON_LIMIT = 1200


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Book:
    settings: SuiteSettings
    profile: DriverProfile | None
    seed: str
    command: str
    records: dict[str, TestRecord] = field(default_factory=dict)
    started: str = field(default_factory=_now)
    kubernetes_version: str = "unknown (no --dra-kubeconfig)"
    log: E2ELog | None = None
    # Set when the driver's registration socket was not found in time: later tests do not
    # wait the whole ready timeout again for a driver that is not there.
    driver_missing: bool = False

    def record(self, nodeid: str, requirements: tuple[str, ...]) -> TestRecord:
        self.records[nodeid] = TestRecord(nodeid, requirements)
        return self.records[nodeid]

    def set_outcome(self, nodeid: str, outcome: str, reason: str = "") -> None:
        record = self.records.get(nodeid)
        if record is None:
            return
        # the worst phase wins: a teardown error after a pass is a failure
        if record.outcome == "failed" or (record.outcome == "skipped" and outcome == "passed"):
            return
        record.outcome = outcome
        if reason:
            record.reason = reason[:REASON_LIMIT]

    def report(self) -> Report:
        from dra_conformance import __version__  # noqa: PLC0415
        from dra_conformance.report.model import Report, RunInfo  # noqa: PLC0415

        profile = self.profile
        features = frozenset(profile.features) if profile else frozenset()
        simulated = bool(profile and profile.simulated_devices)
        run = RunInfo(driver=(profile.driver if profile else self.settings.driver) or "unknown",
                      driver_version=profile.version if profile else "unknown",
                      kubernetes_version=self.kubernetes_version, hypothesis_seed=self.seed,
                      command=self.command, started=self.started, finished=_now(),
                      profile=profile.source if profile else "none",
                      suite_version=__version__,
                      features=tuple(sorted(f.value for f in features)),
                      devices="simulated" if simulated else "hardware")
        records = tuple(self.records.values())
        return Report(run, tuple(judge(records, features, simulated=simulated)), records)


def reproduce_command(args: list[str], seed: str) -> str:
    """The command line that repeats this run, with the hypothesis seed pinned."""
    pinned = [a for a in args if not a.startswith("--hypothesis-seed")]
    if seed.isdigit():
        pinned.append(f"--hypothesis-seed={seed}")
    return shlex.join([Path(sys.executable).name, "-m", "pytest", *pinned])
