"""The plugin's Preparer: every allocated device to its kind, all or nothing per claim.

All parameters of a claim are validated and all its devices looked up before anything is
touched, so a typo in a config costs nothing to undo. Then devices are prepared in order;
each kind's notes are journaled as they come, and a failure undoes the devices already done
(newest first) before the error goes back to the kubelet, naming the request and device.
Kinds that change nothing on their devices (``changes_devices = False``: GPUs) cost no
journal write, and a claim of only such devices tells the plugin it needs no "preparing"
record either (``changes_devices``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from dra_reference.checkpoint import CheckpointEntry
from dra_reference.discovery.model import Device
from dra_reference.errors import DriverError, PreparerError
from dra_reference.params.decode import config_for
from dra_reference.plugin.model import JSON, AllocatedDevice, PreparedDevice, PrepareRequest
from dra_reference.preparers.base import DeviceJob, DeviceUnavailableError, KindPreparer
from dra_reference.preparers.journal import Journal

log = logging.getLogger(__name__)
Lookup = Callable[[str, str], Device | None]  # (pool, device) -> the device, if present


class KindDispatcher:
    """A ``plugin.seams.Preparer`` over per-kind preparers."""

    def __init__(self, kinds: Sequence[KindPreparer], lookup: Lookup, journal: Journal) -> None:
        self._kinds = {kind.kind: kind for kind in kinds}
        self._lookup = lookup
        self._journal = journal

    def prepare(self, request: PrepareRequest) -> Sequence[PreparedDevice]:
        jobs = self._jobs(request)
        uid = request.claim.uid
        try:
            return [self._prepare_one(uid, index, job) for index, job in enumerate(jobs)]
        except Exception:
            self._undo_quietly(uid)
            raise

    def _undo_quietly(self, uid: str) -> None:
        """Undo what the journal says was done; if undoing fails, the journal stays for the
        plugin's rollback to try again, and the error that started it all goes up."""
        try:
            self._undo_all(self._journal.notes(uid))
        except Exception:
            log.exception("undoing claim %s failed; retried on its rollback", uid)
            return
        self._journal.forget(uid)

    def changes_devices(self, request: PrepareRequest) -> bool:
        """Whether any device of the request is of a kind that changes its devices; a device
        that is not found (or not served) counts as changing, to be safe."""
        for allocated in request.devices:
            device = self._lookup(allocated.pool, allocated.device)
            kind = self._kinds.get(device.kind) if device is not None else None
            if kind is None or kind.changes_devices:
                return True
        return False

    def unprepare(self, entry: CheckpointEntry) -> None:
        self._undo_all([dict(record.prepared.undo) for record in entry.devices])
        self._journal.forget(entry.claim.uid)

    def rollback(self, entry: CheckpointEntry) -> None:
        self._undo_all(self._journal.notes(entry.claim.uid))
        self._journal.forget(entry.claim.uid)

    def _jobs(self, request: PrepareRequest) -> list[DeviceJob]:
        """Look up and validate everything first: no side effects before this succeeds."""
        found: list[tuple[AllocatedDevice, Device, Any]] = []
        for allocated in request.devices:
            device = self._lookup(allocated.pool, allocated.device)
            where = f"request {allocated.request!r}, device {allocated.pool}/{allocated.device}"
            if device is None:
                raise DeviceUnavailableError(f"{where}: not on this node now (unplugged, or "
                                             "its kernel driver let go); retried later")
            if device.kind not in self._kinds:
                raise DeviceUnavailableError(f"{where}: this plugin does not serve "
                                             f"{device.kind} devices (see --kinds)")
            try:
                config = config_for(device.kind, allocated.configs)
            except DriverError as exc:
                raise type(exc)(f"{where}: {exc}") from exc
            found.append((allocated, device, config))
        return [DeviceJob(request.claim, allocated, device, config, _peers(found, allocated,
                                                                       device))
                for allocated, device, config in found]

    def _prepare_one(self, uid: str, index: int, job: DeviceJob) -> PreparedDevice:
        """One device; its notes are journaled before and as its preparer makes changes (a
        kind that changes nothing needs no note unless it writes one after all)."""
        notes: dict[str, JSON] = {"kind": job.device.kind, "device": job.device.name}
        if self._kinds[job.device.kind].changes_devices:
            self._journal.record(uid, index, notes)

        def note(more: Mapping[str, JSON]) -> None:
            notes.update(more)
            self._journal.record(uid, index, notes)

        where = f"request {job.allocated.request!r}, device {job.allocated.pool}/{job.device.name}"
        try:
            edits = self._kinds[job.device.kind].prepare(job, note)
        except DriverError as exc:
            raise type(exc)(f"{where}: {exc}") from exc
        except Exception as exc:
            log.exception("%s: preparation failed", where)
            raise PreparerError(f"{where}: {type(exc).__name__}: {exc}") from exc
        named = replace(edits, env=(*edits.env, device_variable(job.device.name)))
        return PreparedDevice(job.allocated, named, dict(notes))

    def _undo_all(self, notes: list[dict[str, Any]]) -> None:
        """Undo newest first; keep going past failures and raise the first at the end."""
        failures: list[Exception] = []
        for entry in reversed(notes):
            kind = self._kinds.get(str(entry.get("kind")))
            if kind is None:
                log.warning("no preparer for undo notes %s; skipping", entry)
                continue
            try:
                kind.undo(entry)
            except Exception as exc:  # collected, and the first re-raised below
                log.warning("undoing %s failed: %s", entry, exc)
                failures.append(exc)
        if failures:
            raise failures[0]


def device_variable(device: str) -> str:
    """``FAKEHW_DEVICE_<NAME>=<name>``: every prepared device names itself in the container,
    whatever its kind, so a workload (and a conformance check) sees exactly which it got."""
    return f"FAKEHW_DEVICE_{re.sub('[^A-Z0-9]', '_', device.upper())}={device}"


def _peers(found: list[tuple[AllocatedDevice, Device, Any]], allocated: AllocatedDevice,
           device: Device) -> tuple[str, ...]:
    """The names of the same kind's devices in the same request (env lists them all)."""
    return tuple(d.name for a, d, _ in found
                 if a.request == allocated.request and d.kind == device.kind)
