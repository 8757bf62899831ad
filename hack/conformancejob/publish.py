"""A run's report as an example to commit, with no path of this machine in it."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FILES = ("report.md", "report.html", "junit_01.xml")


def publish(results: Path, target: Path) -> None:
    """Copy the report files from ``results`` to ``target``, the checkout's path shortened to
    ``.`` and the home folder's to ``~``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        text = (results / name).read_text()
        for path, short in ((str(REPO), "."), (str(Path.home()), "~")):
            text = text.replace(path + "/", short + "/")
        (target / name).write_text(text)
