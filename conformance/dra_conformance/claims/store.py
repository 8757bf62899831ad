"""The seam between socket tests and wherever the driver reads ResourceClaims from."""

from __future__ import annotations

from typing import Protocol

from dra_conformance.claims.model import ClaimRef, ClaimSpec


class ClaimStore(Protocol):
    """Creates allocated claims the driver under test can read.

    Implementations: ``ApiServerClaimStore`` (a real API server); test harnesses provide their
    own (the suite's own tests feed the reference driver's in-memory claim source).
    """

    def create(self, spec: ClaimSpec) -> ClaimRef:
        """Create the claim, allocated as ``spec`` says, and return its reference."""
        ...

    def replace(self, ref: ClaimRef, spec: ClaimSpec) -> ClaimRef:
        """Delete ``ref`` and create ``spec`` under the same name: a new UID."""
        ...

    def delete(self, ref: ClaimRef) -> None:
        """Delete the claim at once (like a force delete); a missing claim is fine."""
        ...

    def close(self) -> None:
        """Delete everything this store created."""
        ...
