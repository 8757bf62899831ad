"""e2e.log: one line per finished test while the run goes, then a Ginkgo-style summary.

People who certify with Sonobuoy or Hydrophone tail this file and grep its last lines
("Ran N of M Specs", "SUCCESS!"/"FAIL!"), so it keeps those shapes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from dra_conformance.verdicts import TestRecord


class E2ELog:
    """Appends to ``path``; line-buffered so a crashed run keeps what it wrote."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("w", buffering=1)
        self._started = time.monotonic()

    def line(self, text: str) -> None:
        stamp = time.strftime("%b %d %H:%M:%S.000", time.gmtime())
        self._file.write(f"{stamp}: INFO: {text}\n")

    def test(self, record: TestRecord) -> None:
        tags = "".join(f"[{rid}]" for rid in record.requirements)
        mark = {"passed": "•", "failed": "• [FAILED]"}.get(record.outcome, "S [SKIPPED]")
        reason = f" -- {record.reason.splitlines()[0]}" if record.reason else ""
        self._file.write(f"{mark} [{record.duration:.3f} seconds] {tags} {record.nodeid}"
                         f"{reason}\n")

    def summary(self, records: list[TestRecord], total: int, certified: bool) -> None:
        ran = [r for r in records if r.outcome in ("passed", "failed")]
        passed = sum(r.outcome == "passed" for r in records)
        failed = len(ran) - passed
        elapsed = time.monotonic() - self._started
        self._file.write(f"\nRan {len(ran)} of {total} Specs in {elapsed:.3f} seconds\n")
        self._file.write(f"{'SUCCESS!' if failed == 0 else 'FAIL!'} -- {passed} Passed | "
                         f"{failed} Failed | 0 Pending | {total - len(ran)} Skipped\n")
        self._file.write(f"Certification: {'PASSED' if certified else 'NOT PASSED'}\n")

    def close(self) -> None:
        self._file.close()
