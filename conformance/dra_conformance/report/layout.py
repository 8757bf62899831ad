"""Where result files go: Hydrophone's flat directory, plus Sonobuoy's results tree.

Hydrophone writes ``e2e.log`` and ``junit_01.xml`` straight into its output directory;
Sonobuoy users find them under ``plugins/e2e/results/global/``. Both are written, so tools
built for either find them; the certification report sits beside them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dra_conformance.report import html, junit, markdown
from dra_conformance.report.model import Report

E2E_LOG = "e2e.log"
JUNIT = "junit_01.xml"
SONOBUOY = Path("plugins/e2e/results/global")


def write(report: Report, directory: Path) -> list[Path]:
    """Write every result file except e2e.log (written while running); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {JUNIT: junit.render(report), "report.json": report.dumps(),
             "report.md": markdown.render(report), "report.html": html.render(report)}
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    sonobuoy = directory / SONOBUOY
    sonobuoy.mkdir(parents=True, exist_ok=True)
    for name in (JUNIT, E2E_LOG):
        if (directory / name).exists():
            shutil.copyfile(directory / name, sonobuoy / name)
    return written
