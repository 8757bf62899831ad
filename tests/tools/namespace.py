"""Running a real tool against an emulated tree that it can only find at ``/sys`` and ``/dev``.

ndctl's ``cxl`` and ``daxctl`` hard-code those paths, so the tree is bind-mounted over them
in a private mount namespace that lives exactly as long as the command: nothing stays
mounted, whatever the command does, and the host's own ``/sys`` is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

MOUNT_AND_RUN = 'mount --bind "$0/sys" /sys && mount --bind "$0/dev" /dev && exec "$@"'


def require(*tools: str) -> None:
    """Fail (with the fix) where the tools or the rights to unshare are missing: these tests
    exist to run the real tools, so a machine without them is set up wrong."""
    missing = [tool for tool in ("unshare", *tools) if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; run make setup "
                    "(hack/install-system-deps.sh)")
    if os.geteuid() != 0:
        pytest.fail("bind-mounting a tree over /sys needs root; run the tools tier as root")


def run_in_tree(root: Path, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with ``root/sys`` and ``root/dev`` as ``/sys`` and ``/dev``."""
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", MOUNT_AND_RUN,
         str(root), *command],
        capture_output=True, text=True, timeout=timeout, check=False)


def json_in_tree(root: Path, *command: str) -> object:
    """The JSON a listing tool prints; an empty listing (the tools print nothing) is ``[]``."""
    result = run_in_tree(root, *command)
    assert result.returncode == 0, f"{' '.join(command)} failed: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else []


def objects(listing: object, key: str) -> dict[str, dict[str, object]]:
    """Every JSON object in ``listing``, however nested, that names itself by ``key``
    (``"memdev": "mem0"``), keyed by that name; cxl list nests by hierarchy and by options.
    Region mappings and decoder targets (they have a ``position``) only refer to objects."""
    found: dict[str, dict[str, object]] = {}
    if isinstance(listing, dict):
        name = listing.get(key)
        if isinstance(name, str) and "position" not in listing:
            found[name] = listing
        for value in listing.values():
            found.update(objects(value, key))
    elif isinstance(listing, list):
        for value in listing:
            found.update(objects(value, key))
    return found
