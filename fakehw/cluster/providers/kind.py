"""The `kind` provider (placeholder until its commands are written)."""

from __future__ import annotations

import shutil


class KindProvider:
    """kind clusters."""

    name = "kind"

    def available(self) -> str | None:
        return None if shutil.which("kind") else "the kind CLI is not on PATH"
