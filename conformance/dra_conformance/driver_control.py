"""Running the commands a driver profile gives: deploy, undeploy and restart the driver.

The suite never knows how a driver is packaged; the profile says. A failing command is
reported with its output, because "restart failed" alone leaves the vendor guessing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from dra_conformance.errors import DriverControlError


def run(command: Sequence[str], what: str, timeout: float) -> str:
    """Run ``command``; return its output or raise DriverControlError with it."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DriverControlError(f"{what}: {' '.join(command)}: {exc}") from exc
    if done.returncode != 0:
        raise DriverControlError(f"{what}: {' '.join(command)} exited {done.returncode}: "
                                 f"{(done.stderr or done.stdout).strip()[-2000:]}")
    return done.stdout
