#!/usr/bin/env python3
"""The plain manifests of drivers/deploy/, rendered from the reference driver's chart.

    python hack/manifests.py          write them (`make manifests`)
    python hack/manifests.py --check  exit 1 if a committed file differs from the chart's

The chart (drivers/deploy/helm/dra-reference) is the source: `helm template` with the
release and namespace `dra-reference` and the namespace created, one file per template.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from fakehw.cluster.binaries import ensure_binaries

DEPLOY = Path(__file__).resolve().parents[1] / "drivers/deploy"
CHART = DEPLOY / "helm/dra-reference"
HEADER = ("# Rendered from helm/dra-reference by `make manifests`: change the chart, not this "
          "file.\n")
SOURCE = re.compile(r"^# Source: dra-reference/templates/(?P<file>[\w.-]+)$", re.MULTILINE)


def render(helm: Path) -> dict[str, str]:
    """File name -> its text: the documents `helm template` says came from that template."""
    text = subprocess.run(
        [str(helm), "template", "dra-reference", str(CHART), "--namespace", "dra-reference",
         "--set", "namespace.create=true"], capture_output=True, text=True, check=True).stdout
    files: dict[str, list[str]] = {}
    for document in text.split("\n---\n"):
        found = SOURCE.search(document)
        if found is None:
            continue
        body = SOURCE.sub("", document).strip("\n")
        files.setdefault(found["file"], []).append(body)
    return {name: HEADER + "\n---\n".join(bodies) + "\n" for name, bodies in files.items()}


def main() -> int:
    helm = ensure_binaries(components={"helm"})["helm"]
    rendered = render(helm)
    if "--check" in sys.argv[1:]:
        stale = [name for name, text in rendered.items()
                 if not (DEPLOY / name).is_file() or (DEPLOY / name).read_text() != text]
        if stale:
            print(f"drivers/deploy/{', '.join(stale)} differ from the chart; run `make "
                  "manifests`", file=sys.stderr)
            return 1
        print("drivers/deploy manifests match the chart")
        return 0
    for name, text in rendered.items():
        (DEPLOY / name).write_text(text)
        print(f"wrote drivers/deploy/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
