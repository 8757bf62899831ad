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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import TypeAlias, TypeVar

from dra_reference.cdi import SpecDir
from dra_reference.checkpoint import Checkpoint, CheckpointEntry, ClaimStatus, PreparedRecord
from dra_reference.errors import DriverError, PreparerError, TemporaryError
from dra_reference.plugin.claims import allocated_devices
from dra_reference.plugin.model import AllocatedDevice, ClaimRef, PreparedDevice, PrepareRequest
from dra_reference.plugin.seams import ChangeAware, ClaimSource, Preparer

log = logging.getLogger(__name__)
T = TypeVar("T")
Outcome: TypeAlias = T | Exception  # a claim's result, or why it has none
Records: TypeAlias = tuple[PreparedRecord, ...]
Allocated: TypeAlias = tuple[AllocatedDevice, ...]


class ClaimLifecycle:
    """The state machine behind NodePrepareResources and NodeUnprepareResources.

    The kubelet sends all claims of a pod in one call. They are read from the API server
    concurrently, and each checkpoint write holds every claim of the call that has reached
    that step, so a call of eight claims makes as many durable writes as a call of one. Each
    claim still gets its own outcome: a failed one is rolled back on its own, and the others
    are answered.
    """

    def __init__(self, driver: str, claims: ClaimSource, preparer: Preparer,
                 checkpoint: Checkpoint, specs: SpecDir, *, fetchers: int = 8) -> None:
        self.driver = driver
        self._claims = claims
        self._preparer = preparer
        self._checkpoint = checkpoint
        self._specs = specs
        # One call at a time in the Preparer: Preparers then need no locking of their own,
        # and a kubelet retry racing the original call finds the finished entry instead of a
        # second run. Reading claims from the API server, the slow part, is outside it.
        self._lock = threading.Lock()
        self._fetch_pool = ThreadPoolExecutor(max_workers=fetchers,
                                              thread_name_prefix="claim-fetch")

    def close(self) -> None:
        self._fetch_pool.shutdown(wait=False, cancel_futures=True)

    def prepare_all(self, refs: Sequence[ClaimRef]) -> dict[str, Outcome[Records]]:
        """Prepare claims (or repeat what an earlier prepare answered); an outcome per UID."""
        outcomes: dict[str, Outcome[Records]] = {}
        unique = _unique(refs)
        with self._lock:
            for ref in unique:
                if (done := self._answered(ref.uid)) is not None:
                    outcomes[ref.uid] = done
        todo = [ref for ref in unique if ref.uid not in outcomes]
        fetched = self._fetch(todo)
        with self._lock:
            fresh = []
            for ref in todo:
                allocated = fetched[ref.uid]
                if isinstance(allocated, BaseException):
                    outcomes[ref.uid] = allocated
                elif (done := self._answered(ref.uid)) is not None:  # prepared meanwhile
                    outcomes[ref.uid] = done
                elif (stale := self._checkpoint.get(ref.uid)) is not None and (
                        failed := self._settle_all([stale])[ref.uid]) is not None:
                    outcomes[ref.uid] = failed
                else:
                    fresh.append(CheckpointEntry(ref, ClaimStatus.PREPARING, allocated))
            outcomes.update(self._prepare_fresh(fresh))
        return outcomes

    def unprepare_all(self, refs: Sequence[ClaimRef]) -> dict[str, Outcome[None]]:
        """Unprepare claims; an outcome per UID (None: done)."""
        with self._lock:
            outcomes: dict[str, Outcome[None]] = {}
            entries = []
            for ref in _unique(refs):
                entry = self._checkpoint.get(ref.uid)
                if entry is None:
                    self._specs.remove_claim(ref.uid)  # a leftover from outside the checkpoint
                    outcomes[ref.uid] = None
                else:
                    entries.append(entry)
            outcomes.update(self._settle_all(entries))
            return outcomes

    def recover(self) -> None:
        """At start: finish or roll back half-done claims, restore missing spec files and
        remove spec files no prepared claim owns."""
        with self._lock:
            entries = self._checkpoint.entries()
            for entry in entries:
                if entry.status is ClaimStatus.PREPARED:
                    self._ensure_spec(entry, compare=True)
            half_done = [e for e in entries if e.status is not ClaimStatus.PREPARED]
            for uid, failure in self._settle_all(half_done).items():
                if failure is not None:
                    log.error("recovering claim %s failed; retried on its next request: %s",
                              uid, failure)
            prepared = {entry.claim.uid for entry in self._checkpoint.entries()
                        if entry.status is ClaimStatus.PREPARED}
            for uid in self._specs.claim_uids() - prepared:
                log.info("removing CDI spec of claim %s, which is not prepared", uid)
                self._specs.remove_claim(uid)

    def _fetch(self, refs: Sequence[ClaimRef]) -> dict[str, Outcome[Allocated]]:
        """Each claim's devices of this driver, read from the API server concurrently."""
        def one(ref: ClaimRef) -> Allocated:
            return allocated_devices(self._claims.get(ref.namespace, ref.name), ref,
                                     self.driver)

        if len(refs) == 1:  # no thread hop for the common case
            futures = {refs[0].uid: _now(one, refs[0])}
        else:
            futures = {ref.uid: self._fetch_pool.submit(one, ref) for ref in refs}
        fetched: dict[str, Outcome[Allocated]] = {}
        for uid, future in futures.items():
            try:
                fetched[uid] = future.result()
            except Exception as exc:
                fetched[uid] = exc
        return fetched

    def _answered(self, uid: str) -> Outcome[Records] | None:
        """What an earlier prepare answered (its spec restored if need be), or None."""
        try:
            return self._prepared(uid)
        except Exception as exc:  # restoring the spec failed: this claim only
            return exc

    def _prepared(self, uid: str) -> tuple[PreparedRecord, ...] | None:
        entry = self._checkpoint.get(uid)
        if entry is None or entry.status is not ClaimStatus.PREPARED:
            return None
        self._ensure_spec(entry)
        return entry.devices

    def _prepare_fresh(self, entries: list[CheckpointEntry]) -> dict[str, Outcome[Records]]:
        outcomes: dict[str, Outcome[Records]] = {}
        recorded = [entry for entry in entries if self._changes_devices(entry)]
        try:
            self._checkpoint.update(put=recorded)
        except Exception as exc:  # nothing was done to those claims yet
            outcomes.update((entry.claim.uid, exc) for entry in recorded)
            entries = [entry for entry in entries if entry not in recorded]
        prepared = []
        for entry in entries:
            try:
                done = _call("prepare", entry.claim, self._preparer.prepare,
                             PrepareRequest(entry.claim, entry.allocated))
                records = self._write_spec(entry.claim.uid, done)
            except Exception as exc:  # DriverErrors, and bugs too: never leave work half done
                outcomes[entry.claim.uid] = exc
                self._roll_back_quietly(entry)
                continue
            prepared.append(replace(entry, status=ClaimStatus.PREPARED, devices=records))
        try:
            self._checkpoint.update(put=prepared)
        except Exception as exc:
            for entry in prepared:
                outcomes[entry.claim.uid] = exc
                self._roll_back_quietly(entry)
            return outcomes
        outcomes.update((entry.claim.uid, entry.devices) for entry in prepared)
        return outcomes

    def _settle_all(self, entries: list[CheckpointEntry]) -> dict[str, Outcome[None]]:
        """Take claims in any state to "not prepared": roll back or finish unpreparing."""
        outcomes: dict[str, Outcome[None]] = {}
        undo = []
        for entry in entries:
            if entry.status is ClaimStatus.PREPARING:
                try:
                    self._roll_back(entry)
                    outcomes[entry.claim.uid] = None
                except Exception as exc:
                    outcomes[entry.claim.uid] = exc
            else:
                undo.append(entry.with_status(ClaimStatus.UNPREPARING))
        marked = [entry.with_status(ClaimStatus.UNPREPARING) for entry in entries
                  if entry.status is ClaimStatus.PREPARED and self._changes_devices(entry)]
        try:
            self._checkpoint.update(put=marked)
        except Exception as exc:  # nothing was undone yet: they stay prepared
            marked_uids = {entry.claim.uid for entry in marked}
            outcomes.update((uid, exc) for uid in marked_uids)
            undo = [entry for entry in undo if entry.claim.uid not in marked_uids]
        undone = []
        for entry in undo:
            self._specs.remove_claim(entry.claim.uid)  # no new container gets the devices
            try:
                _call("unprepare", entry.claim, self._preparer.unprepare, entry)
            except Exception as exc:  # the entry stays; the next unprepare tries again
                outcomes[entry.claim.uid] = exc
                continue
            undone.append(entry.claim.uid)
        try:
            self._checkpoint.update(remove=undone)
        except Exception as exc:  # undone, but still recorded: undone again next time
            outcomes.update((uid, exc) for uid in undone)
            return outcomes
        outcomes.update((uid, None) for uid in undone)
        return outcomes

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

    def _roll_back_quietly(self, entry: CheckpointEntry) -> None:
        try:
            self._roll_back(entry)
        except DriverError:  # the entry stays "preparing"; retried later
            log.exception("rolling back claim %s failed", entry.claim)

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


def _unique(refs: Sequence[ClaimRef]) -> list[ClaimRef]:
    """The claims of a call, each UID once (the answer has one entry per UID)."""
    return list({ref.uid: ref for ref in refs}.values())


def _now(function: Callable[[ClaimRef], T], ref: ClaimRef) -> Future[T]:
    """``function(ref)`` run here, as a finished future."""
    future: Future[T] = Future()
    try:
        future.set_result(function(ref))
    except Exception as exc:
        future.set_exception(exc)
    return future


def _call(step: str, claim: ClaimRef, function: Callable[..., T], *args: object) -> T:
    """Run a Preparer method; its unexpected exceptions become retryable PreparerErrors."""
    try:
        return function(*args)
    except DriverError:
        raise
    except Exception as exc:
        log.exception("Preparer.%s failed for claim %s", step, claim)
        raise PreparerError(f"{step} failed: {type(exc).__name__}: {exc}") from exc
