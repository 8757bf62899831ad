"""A thin wrapper around the kubectl binary the cluster was built with.

fakehw talks to the API server only through kubectl (it must not import the `kubernetes`
client or grpc: an import-linter contract forbids it), which also keeps version skew out:
the kubectl used is the one built for the cluster.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakehw.cluster.errors import ClusterError


@dataclass(frozen=True)
class Kubectl:
    """kubectl bound to one kubeconfig (its discovery cache beside it, not in ~/.kube)."""

    binary: Path
    kubeconfig: Path

    def run(self, args: Sequence[str], *, stdin: str | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run kubectl; on failure (when `check`) raise ClusterError with its stderr."""
        done = subprocess.run(
            [str(self.binary), f"--kubeconfig={self.kubeconfig}",
             f"--cache-dir={self.kubeconfig.parent / '.kube-cache'}", *args],
            input=stdin, capture_output=True, text=True, check=False, timeout=timeout,
        )
        if check and done.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
        return done

    def json(self, args: Sequence[str]) -> Any:
        """Run kubectl with `-o json` and parse its output."""
        return json.loads(self.run([*args, "-o", "json"]).stdout)

    def apply(self, manifest: str) -> None:
        """`kubectl apply -f -` with the given YAML or JSON."""
        self.run(["apply", "-f", "-"], stdin=manifest)
