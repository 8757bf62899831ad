"""Every error the conformance suite raises on purpose, under one root.

A failing driver is not an error of the suite: it shows up as a failed test and a verdict.
These are for the suite's own input and environment: a profile that cannot be used, a
cluster or socket that cannot be reached. Errors about bad input are also ``ValueError``.

    ConformanceError
    ├── ProfileError (ValueError)          a driver profile that cannot be used
    ├── SettingsError (ValueError)         options that contradict each other or are missing
    ├── ExpressionError (ValueError)       a CEL expression outside the model's subset
    ├── ClaimStoreError                    claims could not be created, allocated or deleted
    └── DriverControlError                 deploying or restarting the driver failed
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Root of the suite's own errors."""


class ProfileError(ConformanceError, ValueError):
    """A driver profile field is wrong; the message names the field and the fix."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}")


class SettingsError(ConformanceError, ValueError):
    """The suite's options cannot work together."""


class ExpressionError(ConformanceError, ValueError):
    """A CEL expression the allocator model cannot evaluate (outside its subset)."""


class ClaimStoreError(ConformanceError):
    """A ResourceClaim could not be written where the driver reads it."""


class DriverControlError(ConformanceError):
    """A command from the driver profile (deploy, restart) failed."""
