"""Undo notes of claims being prepared, on disk, so a crash mid-prepare can still be undone.

The plugin's checkpoint learns a claim's undo data only once ``prepare`` returns; a driver
killed after minting a credential but before returning would otherwise leak it. Each note is
written here before the change it describes is made, a file per claim, and the file goes
once the claim is unprepared or rolled back. Notes are kept per device index, in order.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dra_reference.cdi import write_atomically
from dra_reference.plugin.model import JSON

log = logging.getLogger(__name__)
_SAFE = re.compile(r"[A-Za-z0-9._-]+")


class Journal:
    """``<directory>/<claim UID>.json``: ``{"<index>": {notes}}``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def record(self, uid: str, index: int, notes: Mapping[str, JSON]) -> None:
        entries = self._read(uid)
        entries[str(index)] = dict(notes)
        write_atomically(self._path(uid), json.dumps(entries, sort_keys=True) + "\n")

    def notes(self, uid: str) -> list[dict[str, Any]]:
        """The claim's notes in device order (empty if none were written)."""
        entries = self._read(uid)
        return [entries[key] for key in sorted(entries, key=int)]

    def forget(self, uid: str) -> None:
        self._path(uid).unlink(missing_ok=True)

    def _path(self, uid: str) -> Path:
        if not _SAFE.fullmatch(uid):  # the kubelet layer already refuses such UIDs
            raise ValueError(f"claim UID {uid!r} cannot name a file")
        return self.directory / f"{uid}.json"

    def _read(self, uid: str) -> dict[str, Any]:
        try:
            loaded = json.loads(self._path(uid).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:  # files are replaced atomically, so only a hand edit does this
            log.warning("undo journal %s is not JSON; ignoring it", self._path(uid))
            return {}
        return loaded if isinstance(loaded, dict) else {}
