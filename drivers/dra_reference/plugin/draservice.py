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
        for claim in request.claims:
            outcome = self._per_claim("prepare", claim, self._lifecycle.prepare)
            entry = response.claims[claim.uid]
            if isinstance(outcome, str):
                entry.error = outcome
            else:
                entry.devices.extend(self._device(record) for record in outcome)
        return response

    def NodeUnprepareResources(self, request: Any, context: Any) -> Any:
        response = self._pb.NodeUnprepareResourcesResponse()
        for claim in request.claims:
            outcome = self._per_claim("unprepare", claim, self._lifecycle.unprepare)
            response.claims[claim.uid].error = outcome if isinstance(outcome, str) else ""
        return response

    def _per_claim(self, verb: str, claim: Any, step: Callable[[ClaimRef], T]) -> T | str:
        """Run one claim's step; any failure becomes that claim's error text."""
        try:
            return step(claim_ref(claim))
        except DriverError as exc:
            kind = "retryable" if exc.retryable else "permanent"
            return f"{verb} claim {claim.namespace}/{claim.name} ({claim.uid}): {exc} [{kind}]"
        except Exception as exc:
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
