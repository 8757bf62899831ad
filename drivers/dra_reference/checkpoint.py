"""The driver's memory of prepared claims, kept on disk across restarts.

The kubelet may ask again to prepare a claim that is already prepared (it retries after a
timeout, and it re-sends everything after its own restart); the answer must be the same and
must not touch the hardware twice. After a crash, the driver must know which claims it was in
the middle of preparing or unpreparing so it can roll them back or finish them. Hence an entry
per claim with a status, written before and after every step that changes a device (which
steps, see ``plugin.lifecycle``), atomically, durably (fsynced) and with a checksum: a torn
or edited file is refused loudly, never half-trusted. During a rolling update two
instances share the file, so changes are made under an flock and on top of whatever the other
instance wrote last.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import hashlib
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dra_reference.cdi import ContainerEdits, write_atomically
from dra_reference.errors import CheckpointCorruptError
from dra_reference.plugin.model import AllocatedDevice, ClaimRef, OpaqueConfig, PreparedDevice

FORMAT = "dra-reference.fakehw.dev/checkpoint/v1"


class ClaimStatus(enum.StrEnum):
    PREPARING = "preparing"  # the Preparer may have done part of its work
    PREPARED = "prepared"
    UNPREPARING = "unpreparing"  # the Preparer may have undone part of its work


@dataclass(frozen=True)
class PreparedRecord:
    """A prepared device and the CDI IDs the kubelet was given for it."""

    prepared: PreparedDevice
    cdi_ids: tuple[str, ...]


@dataclass(frozen=True)
class CheckpointEntry:
    """One claim; ``allocated`` is known from the start, ``devices`` once prepared."""

    claim: ClaimRef
    status: ClaimStatus
    allocated: tuple[AllocatedDevice, ...] = ()
    devices: tuple[PreparedRecord, ...] = ()

    def with_status(self, status: ClaimStatus) -> CheckpointEntry:
        return replace(self, status=status)


class Checkpoint:
    """Entries by claim UID; every change is on disk before the method returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, CheckpointEntry] = {}
        self._seen: tuple[int, int, int] | None = None  # (inode, mtime, size) last read
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        """Read ``path``; a missing file is an empty checkpoint, a damaged one an error."""
        checkpoint = cls(path)
        with checkpoint._lock:
            checkpoint._refresh()
        return checkpoint

    def get(self, uid: str) -> CheckpointEntry | None:
        with self._lock:
            self._refresh()
            return self._entries.get(uid)

    def entries(self) -> list[CheckpointEntry]:
        with self._lock:
            self._refresh()
            return list(self._entries.values())

    def put(self, entry: CheckpointEntry) -> None:
        self.update(put=(entry,))

    def remove(self, uid: str) -> None:
        self.update(remove=(uid,))

    def update(self, *, put: Iterable[CheckpointEntry] = (), remove: Iterable[str] = ()) -> None:
        """Several claims' changes in one durable write (none if nothing changes): a batch
        of claims costs what one claim costs."""
        with self._lock, self._file_lock():
            self._refresh()
            changed = False
            for entry in put:
                self._entries[entry.claim.uid] = entry
                changed = True
            for uid in remove:
                changed = self._entries.pop(uid, None) is not None or changed
            if changed:
                self._save()

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    def _refresh(self) -> None:
        """Re-read the file if someone replaced it since we last read or wrote it."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._entries, self._seen = {}, None
            return
        seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        if seen != self._seen:
            self._entries = _decode(self.path, self.path.read_text(encoding="utf-8"))
            self._seen = seen

    def _save(self) -> None:
        claims = {uid: _entry_to_json(entry) for uid, entry in sorted(self._entries.items())}
        write_atomically(self.path, _render(claims))
        info = self.path.stat()
        self._seen = (info.st_ino, info.st_mtime_ns, info.st_size)


def _render(claims: dict[str, Any]) -> str:
    """The file's text: a JSON document with one claim per line.

    Readable and diffable claim by claim, and made by the json module's C encoder, which
    ``indent`` would turn off (the pure-Python one took most of a prepare's CPU time).
    """
    head = (f'{{"format": {json.dumps(FORMAT)}, "checksum": {json.dumps(_checksum(claims))}, '
            '"claims": {')
    lines = [f"{json.dumps(uid)}: {json.dumps(entry, sort_keys=True)}"
             for uid, entry in claims.items()]
    return head + "\n" + ",\n".join(lines) + ("\n" if lines else "") + "}}\n"


def _checksum(claims: dict[str, Any]) -> str:
    canonical = json.dumps(claims, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _decode(path: Path, text: str) -> dict[str, CheckpointEntry]:
    hint = "move it aside to start empty (prepared claims are then prepared again)"
    try:
        document = json.loads(text)
        if document.get("format") != FORMAT:
            raise CheckpointCorruptError(
                f"checkpoint {path}: format {document.get('format')!r} is not {FORMAT!r}; {hint}")
        if document.get("checksum") != _checksum(document["claims"]):
            raise CheckpointCorruptError(f"checkpoint {path}: checksum mismatch; {hint}")
        return {uid: _entry_from_json(raw) for uid, raw in document["claims"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointCorruptError(f"checkpoint {path} is unreadable ({exc!r}); {hint}") from exc


def _entry_to_json(entry: CheckpointEntry) -> dict[str, Any]:
    return {
        "claim": {"namespace": entry.claim.namespace, "name": entry.claim.name,
                  "uid": entry.claim.uid},
        "status": entry.status.value,
        "allocated": [_allocated_to_json(device) for device in entry.allocated],
        "devices": [{"allocated": _allocated_to_json(record.prepared.allocated),
                     "edits": record.prepared.edits.to_json(),
                     "undo": dict(record.prepared.undo),
                     "cdiIDs": list(record.cdi_ids)} for record in entry.devices],
    }


def _entry_from_json(raw: dict[str, Any]) -> CheckpointEntry:
    devices = tuple(
        PreparedRecord(PreparedDevice(_allocated_from_json(item["allocated"]),
                                      ContainerEdits.from_json(item["edits"]), item["undo"]),
                       tuple(item["cdiIDs"]))
        for item in raw["devices"])
    return CheckpointEntry(ClaimRef(**raw["claim"]), ClaimStatus(raw["status"]),
                           tuple(_allocated_from_json(item) for item in raw["allocated"]),
                           devices)


def _allocated_to_json(device: AllocatedDevice) -> dict[str, Any]:
    return {"request": device.request, "subrequest": device.subrequest, "pool": device.pool,
            "device": device.device, "shareID": device.share_id,
            "adminAccess": device.admin_access, "parameters": dict(device.parameters),
            "consumedCapacity": dict(device.consumed_capacity),
            "configs": [{"source": config.source, "requests": list(config.requests),
                         "parameters": config.parameters} for config in device.configs]}


def _allocated_from_json(raw: dict[str, Any]) -> AllocatedDevice:
    configs = tuple(OpaqueConfig(item["source"], tuple(item["requests"]), item["parameters"])
                    for item in raw["configs"])
    return AllocatedDevice(raw["request"], raw["pool"], raw["device"], raw["subrequest"],
                           raw["shareID"], raw["adminAccess"], configs, raw["parameters"],
                           raw.get("consumedCapacity", {}))  # absent in older checkpoints
