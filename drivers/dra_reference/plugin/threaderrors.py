"""Exceptions raised in server threads, kept for whoever owns the server.

gRPC runs handlers on its own worker threads and turns a crash there into an INTERNAL status
the client sees and nobody else does; a test would pass or fail for the wrong reason. So
unexpected exceptions are recorded here and re-raised by the owner, as pytest-httpserver's
``check_handler_errors`` does.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class ThreadErrors:
    def __init__(self) -> None:
        self._errors: list[Exception] = []
        self._lock = threading.Lock()

    def record(self, where: str, exc: Exception) -> None:
        log.error("unexpected exception in %s", where, exc_info=exc)
        with self._lock:
            self._errors.append(exc)

    def pending(self) -> int:
        with self._lock:
            return len(self._errors)

    def raise_recorded(self) -> None:
        """Raise what was recorded since the last call: the exception, or a group of them."""
        with self._lock:
            errors, self._errors = self._errors, []
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ExceptionGroup(f"{len(errors)} exceptions in plugin server threads", errors)
