"""NodePrepareResources and NodeUnprepareResources, for both API versions.

The kubelet expects an answer for every claim it asked about and reads failures from each
claim's ``error`` field; a failed RPC would fail every claim of the pod at once. So each claim
is handled on its own: a bad one gets its error and the others go on. Garbage from the wire is
refused here, before any name reaches a file path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from dra_reference.checkpoint import PreparedRecord
from dra_reference.errors import DriverError, InvalidRequestError
from dra_reference.plugin.lifecycle import ClaimLifecycle
from dra_reference.plugin.model import ClaimRef
from dra_reference.plugin.threaderrors import ThreadErrors

# UIDs end up in CDI device names and spec file names, so only CDI-safe characters pass.
_UID = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?")
T = TypeVar("T")


def claim_ref(claim: Any) -> ClaimRef:
    """The kubelet's Claim message as a ClaimRef, or a clear InvalidRequestError."""
    missing = [name for name in ("namespace", "uid", "name") if not getattr(claim, name)]
    described = f"claim namespace={claim.namespace!r} name={claim.name!r} uid={claim.uid!r}"
    if missing:
        raise InvalidRequestError(f"{described}: missing {', '.join(missing)}; the kubelet "
                                  "always sends namespace, name and uid")
    if not _UID.fullmatch(claim.uid):
        raise InvalidRequestError(f"{described}: the uid has characters a Kubernetes UID "
                                  "never has")
    return ClaimRef(namespace=claim.namespace, name=claim.name, uid=claim.uid)


class DRAServicer:
    """DRAPlugin for one API version; ``pb`` is that version's generated module."""

    def __init__(self, pb: ModuleType, lifecycle: ClaimLifecycle, errors: ThreadErrors,
                 *, share_ids: bool) -> None:
        self._pb = pb
        self._lifecycle = lifecycle
        self._errors = errors
        self._share_ids = share_ids  # v1 has Device.share_id, v1beta1 does not

    def NodePrepareResources(self, request: Any, context: Any) -> Any:
        response = self._pb.NodePrepareResourcesResponse()
        refs, invalid = self._refs("prepare", request.claims)
        outcomes = self._guarded("prepare", refs, self._lifecycle.prepare_all)
        for claim in request.claims:
            entry = response.claims[claim.uid]
            outcome = invalid.get(claim.uid) or outcomes[claim.uid]
            if isinstance(outcome, str):
                entry.error = outcome
            else:
                entry.devices.extend(self._device(record) for record in outcome)
        return response

    def NodeUnprepareResources(self, request: Any, context: Any) -> Any:
        response = self._pb.NodeUnprepareResourcesResponse()
        refs, invalid = self._refs("unprepare", request.claims)
        outcomes = self._guarded("unprepare", refs, self._lifecycle.unprepare_all)
        for claim in request.claims:
            outcome = invalid.get(claim.uid) or outcomes[claim.uid]
            response.claims[claim.uid].error = outcome if isinstance(outcome, str) else ""
        return response

    def _refs(self, verb: str, claims: Any) -> tuple[list[ClaimRef], dict[str, str]]:
        """The well-formed claims, and an error text for each of the others."""
        refs: list[ClaimRef] = []
        invalid: dict[str, str] = {}
        for claim in claims:
            try:
                refs.append(claim_ref(claim))
            except InvalidRequestError as exc:
                invalid[claim.uid] = self._describe(verb, claim, exc)
        return refs, invalid

    def _guarded(self, verb: str, refs: list[ClaimRef],
                 step: Callable[[list[ClaimRef]], dict[str, T | Exception]]) -> dict[str, T | str]:
        """Run a step over claims; every failure becomes its claim's error text."""
        try:
            outcomes = step(refs)
        except Exception as exc:  # a bug outside any one claim: every claim fails with it
            outcomes = {ref.uid: exc for ref in refs}
        described: dict[str, T | str] = {}
        for ref in refs:
            outcome = outcomes[ref.uid]
            described[ref.uid] = (self._describe(verb, ref, outcome)
                                  if isinstance(outcome, Exception) else outcome)
        return described

    def _describe(self, verb: str, claim: Any, exc: Exception) -> str:
        if isinstance(exc, DriverError):
            kind = "retryable" if exc.retryable else "permanent"
            return f"{verb} claim {claim.namespace}/{claim.name} ({claim.uid}): {exc} [{kind}]"
        self._errors.record(f"{verb} of claim {claim.uid}", exc)
        return (f"{verb} claim {claim.namespace}/{claim.name} ({claim.uid}): internal "
                f"error in the driver: {type(exc).__name__}: {exc} [retryable]")

    def _device(self, record: PreparedRecord) -> Any:
        allocated = record.prepared.allocated
        device = self._pb.Device(request_names=[allocated.request], pool_name=allocated.pool,
                                 device_name=allocated.device,
                                 cdi_device_ids=list(record.cdi_ids))
        if self._share_ids and allocated.share_id is not None:
            device.share_id = allocated.share_id
        return device
