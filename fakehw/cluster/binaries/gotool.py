"""Running the Go tool for a build, with a log file and a useful error when it fails.

Every build uses `CGO_ENABLED=0` and `-trimpath`: the binaries are static (they run on any
Linux host and in any container) and the compiled packages are shared through Go's build
cache with any other build that uses the same flags, so a second build of the same release
only links.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakehw.cluster.errors import BuildError

TAIL_LINES = 40


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of a text file, or "" if it does not exist."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class GoTool:
    """A `go` binary plus the environment and log file every build command shares."""

    go: Path
    log_file: Path
    extra_env: Mapping[str, str] | None = None

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment for go: static, local toolchain only, modules resolved as needed."""
        env = dict(os.environ)
        env.update({"CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"})
        env.update(self.extra_env or {})
        env.update(overrides)
        return env

    def run(self, args: Sequence[str], cwd: Path, **env: str) -> None:
        """Run `go args...` in `cwd`, output appended to the log; BuildError on failure."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("a") as log:
            log.write(f"\n$ (cd {cwd} && go {' '.join(args)})\n")
            log.flush()
            done = subprocess.run(
                [str(self.go), *args], cwd=cwd, env=self.env(**env),
                stdout=log, stderr=subprocess.STDOUT, check=False,
            )
        if done.returncode != 0:
            raise BuildError(
                f"`go {' '.join(args[:3])} ...` failed in {cwd} with exit code "
                f"{done.returncode}; full log: {self.log_file}\n{tail(self.log_file)}"
            )

    def module_info(self, module: str, cwd: Path) -> dict[str, Any]:
        """`go mod download -json module@version`: where the module and its go.mod are."""
        done = subprocess.run(
            [str(self.go), "mod", "download", "-json", module], cwd=cwd, env=self.env(),
            capture_output=True, text=True, check=False,
        )
        try:
            info: dict[str, Any] = json.loads(done.stdout)
        except ValueError:
            info = {"Error": done.stderr.strip() or done.stdout.strip()}
        if done.returncode != 0 or "Error" in info:
            raise BuildError(
                f"cannot download {module} from the Go module proxy: {info.get('Error')}; "
                "check GOPROXY and the network"
            )
        return info
