"""Prepare and unprepare one claim at a time, so that a crash anywhere can be recovered.

Every step that changes devices is recorded before it is taken: ``preparing`` goes to the
checkpoint before the Preparer runs, ``prepared`` (with the CDI IDs) only after the spec file
is written, ``unpreparing`` before anything is undone. A second prepare of a prepared claim is
answered from the checkpoint without the Preparer; a half-done entry found later (after a
crash, or a failed rollback) is rolled back or finished before anything else happens to that
claim.

What each write costs is a synchronous flush to disk (fsync of the file and its folder), and
on a busy node that, not the work, is most of a prepare. So only what recovery needs is made
durable, and only when it needs it:

- The ``preparing`` and ``unpreparing`` records exist so that a restart can call the
  Preparer's ``rollback`` or ``unprepare``. When the Preparer says (``seams.ChangeAware``)
  that the claim's devices are not changed at all (GPUs are handed over as they are), there
  is nothing for those calls to undo, and the records are skipped: such a prepare makes one
  checkpoint write, ``prepared``. A crash before it leaves no entry, and at most a spec file
  of an unprepared claim, which ``recover`` removes; the kubelet, which got no answer,
  prepares again. A crash in the middle of such an unprepare leaves the ``prepared`` entry,
  whose spec ``recover`` restores until the kubelet's retry unprepares it.
- The CDI spec is written atomically but without fsync. It is derived data: the ``prepared``
  entry holds every device's edits, so the spec can always be made again. After a process
  crash the file is complete (the page cache outlives the process); only a power cut or a
  kernel crash can lose or tear it, and those also end every container that used it. So
  ``recover``, which runs before the plugin serves, rewrites each prepared claim's spec that
  is missing or differs from what the checkpoint says, and removes those of claims that are
  not prepared.
- Checkpoint writes stay fully durable: the checkpoint is the only record of what was done,
  and a torn one stops the plugin.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from dra_reference.cdi import SpecDir
from dra_reference.checkpoint import Checkpoint, CheckpointEntry, ClaimStatus, PreparedRecord
from dra_reference.errors import DriverError, PreparerError, TemporaryError
from dra_reference.plugin.claims import allocated_devices
from dra_reference.plugin.model import ClaimRef, PreparedDevice, PrepareRequest
from dra_reference.plugin.seams import ChangeAware, ClaimSource, Preparer

log = logging.getLogger(__name__)
T = TypeVar("T")


class ClaimLifecycle:
    """The state machine behind NodePrepareResources and NodeUnprepareResources."""

    def __init__(self, driver: str, claims: ClaimSource, preparer: Preparer,
                 checkpoint: Checkpoint, specs: SpecDir) -> None:
        self.driver = driver
        self._claims = claims
        self._preparer = preparer
        self._checkpoint = checkpoint
        self._specs = specs
        # One claim at a time: Preparers then need no locking of their own, and a kubelet
        # retry racing the original call finds the finished entry instead of a second run.
        self._lock = threading.Lock()

    def prepare(self, ref: ClaimRef) -> tuple[PreparedRecord, ...]:
        """Prepare a claim, or return what an earlier prepare of it returned."""
        with self._lock:
            done = self._prepared(ref.uid)
        if done is not None:
            return done
        # The API server may be slow; other claims keep moving meanwhile.
        allocated = allocated_devices(self._claims.get(ref.namespace, ref.name), ref,
                                      self.driver)
        with self._lock:
            done = self._prepared(ref.uid)
            if done is not None:
                return done
            if (stale := self._checkpoint.get(ref.uid)) is not None:
                self._settle(stale)
            return self._prepare_fresh(CheckpointEntry(ref, ClaimStatus.PREPARING, allocated))

    def unprepare(self, ref: ClaimRef) -> None:
        """Undo a claim's preparation; a claim never prepared here is already undone."""
        with self._lock:
            entry = self._checkpoint.get(ref.uid)
            if entry is None:
                self._specs.remove_claim(ref.uid)  # a leftover from outside the checkpoint
                return
            self._settle(entry)

    def recover(self) -> None:
        """At start: finish or roll back half-done claims, restore missing spec files and
        remove spec files no prepared claim owns."""
        with self._lock:
            for entry in self._checkpoint.entries():
                if entry.status is ClaimStatus.PREPARED:
                    self._ensure_spec(entry, compare=True)
                    continue
                try:
                    self._settle(entry)
                except DriverError:
                    log.exception("recovering claim %s (%s) failed; retried on its next "
                                  "request", entry.claim, entry.status.value)
            prepared = {entry.claim.uid for entry in self._checkpoint.entries()
                        if entry.status is ClaimStatus.PREPARED}
            for uid in self._specs.claim_uids() - prepared:
                log.info("removing CDI spec of claim %s, which is not prepared", uid)
                self._specs.remove_claim(uid)

    def _prepared(self, uid: str) -> tuple[PreparedRecord, ...] | None:
        entry = self._checkpoint.get(uid)
        if entry is None or entry.status is not ClaimStatus.PREPARED:
            return None
        self._ensure_spec(entry)
        return entry.devices

    def _prepare_fresh(self, entry: CheckpointEntry) -> tuple[PreparedRecord, ...]:
        if self._changes_devices(entry):
            self._checkpoint.put(entry)
        try:
            prepared = _call("prepare", entry.claim, self._preparer.prepare,
                             PrepareRequest(entry.claim, entry.allocated))
            records = self._write_spec(entry.claim.uid, prepared)
        except Exception:  # DriverErrors, and bugs too: never leave work half done
            try:
                self._roll_back(entry)
            except DriverError:  # the entry stays "preparing"; retried later
                log.exception("rolling back claim %s failed", entry.claim)
            raise
        self._checkpoint.put(replace(entry, status=ClaimStatus.PREPARED, devices=records))
        return records

    def _settle(self, entry: CheckpointEntry) -> None:
        """Take a claim in any state to "not prepared": roll back or finish unpreparing."""
        if entry.status is ClaimStatus.PREPARING:
            self._roll_back(entry)
            return
        unpreparing = entry.with_status(ClaimStatus.UNPREPARING)
        if entry.status is not ClaimStatus.UNPREPARING and self._changes_devices(entry):
            self._checkpoint.put(unpreparing)
        self._specs.remove_claim(entry.claim.uid)  # no new container gets the devices
        _call("unprepare", entry.claim, self._preparer.unprepare, unpreparing)
        self._checkpoint.remove(entry.claim.uid)

    def _changes_devices(self, entry: CheckpointEntry) -> bool:
        """Whether the Preparer may change (or has changed) the claim's devices; if it
        cannot say, or fails to, it may."""
        if not isinstance(self._preparer, ChangeAware):
            return True
        request = PrepareRequest(entry.claim, entry.allocated)
        try:
            return self._preparer.changes_devices(request)
        except Exception:  # a bug there must not fail the claim: record, to be safe
            log.exception("Preparer.changes_devices failed for claim %s", entry.claim)
            return True

    def _roll_back(self, entry: CheckpointEntry) -> None:
        self._specs.remove_claim(entry.claim.uid)
        _call("rollback", entry.claim, self._preparer.rollback, entry)
        self._checkpoint.remove(entry.claim.uid)
        log.info("rolled back claim %s", entry.claim)

    def _write_spec(self, uid: str,
                    prepared: Sequence[PreparedDevice]) -> tuple[PreparedRecord, ...]:
        try:
            ids = self._specs.write_claim(  # not durable: ``recover`` rewrites it if need be
                uid, [(device.allocated.device, device.edits) for device in prepared],
                durable=False)
        except OSError as exc:
            raise TemporaryError(f"writing the CDI spec of claim {uid}: {exc}") from exc
        return tuple(PreparedRecord(device, () if cdi_id is None else (cdi_id,))
                     for device, cdi_id in zip(prepared, ids, strict=True))

    def _ensure_spec(self, entry: CheckpointEntry, *, compare: bool = False) -> None:
        """Rewrite a prepared claim's spec if it vanished (``/var/run`` is cleared on boot)
        or, with ``compare``, if it is not what the checkpoint says (a power cut)."""
        if not any(record.cdi_ids for record in entry.devices):
            return
        devices = [(record.prepared.allocated.device, record.prepared.edits)
                   for record in entry.devices]
        if not self._specs.spec_path(entry.claim.uid).exists():
            log.warning("CDI spec of prepared claim %s is missing; rewriting it", entry.claim)
        elif compare and not self._specs.matches(entry.claim.uid, devices):
            log.warning("CDI spec of prepared claim %s is not what the checkpoint says; "
                        "rewriting it", entry.claim)
        else:
            return
        self._write_spec(entry.claim.uid, [record.prepared for record in entry.devices])


def _call(step: str, claim: ClaimRef, function: Callable[..., T], *args: object) -> T:
    """Run a Preparer method; its unexpected exceptions become retryable PreparerErrors."""
    try:
        return function(*args)
    except DriverError:
        raise
    except Exception as exc:
        log.exception("Preparer.%s failed for claim %s", step, claim)
        raise PreparerError(f"{step} failed: {type(exc).__name__}: {exc}") from exc
