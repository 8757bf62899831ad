"""Every error the reference driver raises on purpose, under one root.

The kubelet retries a failed NodePrepareResources whatever the reason, so the split into
retryable and permanent errors is for people and for callers that decide whether waiting can
help (kopf's ``TemporaryError`` / ``PermanentError``): an API server that did not answer is
worth another try; a claim that was replaced is not. Errors about bad input are also
``ValueError`` so plain ``except ValueError`` keeps working (as hypothesis's errors do).

    DriverError
    ├── TemporaryError                       retrying later can succeed
    │   ├── ClaimFetchError                  the API server did not hand over the claim
    │   ├── ClaimNotAllocatedError           no allocation yet (the scheduler may be late)
    │   └── PreparerError                    the per-kind preparation failed
    └── PermanentError                       the same input fails the same way
        ├── InvalidRequestError (ValueError)      the kubelet sent a claim we cannot use
        ├── ClaimReplacedError                    same name, different UID
        ├── ClaimNotFoundError                    the claim no longer exists
        ├── ConfigurationError (ValueError)       settings that cannot work
        ├── InvalidCDISpecError (ValueError)      a CDI name or edit runtimes would refuse
        └── CheckpointCorruptError                the checkpoint file cannot be trusted
"""

from __future__ import annotations


class DriverError(Exception):
    """Root of the driver's errors; ``retryable`` says whether trying again can help."""

    retryable = False


class TemporaryError(DriverError):
    """A failure that may go away by itself; the kubelet's retry is the right answer."""

    retryable = True


class PermanentError(DriverError):
    """A failure that repeats until somebody changes the input or the node."""

    retryable = False


class ClaimFetchError(TemporaryError):
    """Reading the ResourceClaim from the API server failed (timeout, 5xx, throttling)."""


class ClaimNotAllocatedError(TemporaryError):
    """The claim exists but has no allocation; preparing it would guess at devices."""


class PreparerError(TemporaryError):
    """The per-kind Preparer raised; the claim was rolled back and can be retried."""


class InvalidRequestError(PermanentError, ValueError):
    """The kubelet's request is missing a field or carries one we cannot use safely."""


class ClaimReplacedError(PermanentError):
    """The claim of that name has another UID now: serving it would hand over the old one."""


class ClaimNotFoundError(PermanentError):
    """The API server says the claim does not exist."""


class ConfigurationError(PermanentError, ValueError):
    """Plugin settings that cannot work (a socket path too long, a bad driver name)."""


class InvalidCDISpecError(PermanentError, ValueError):
    """A CDI name or container edit that container runtimes would refuse to load."""


class CheckpointCorruptError(PermanentError):
    """The checkpoint file is unreadable or fails its checksum; it names the file."""
