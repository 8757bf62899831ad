"""A minimal inotify binding over libc, so the watcher needs no extra package.

Only what the watcher uses: watch folders for writes that were closed (``IN_CLOSE_WRITE``, the
moment ``echo path > firmware`` is complete) and read events with a timeout, so the caller can
check its stop flag between reads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_IGNORED = 0x00008000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of NUL-padded name


@dataclass(frozen=True)
class Event:
    wd: int
    mask: int
    name: str


class Inotify:
    """One inotify instance; close it (or use ``with``) to drop every watch."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._libc.inotify_init1.argtypes = [ctypes.c_int]
        self._libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self.fd = int(self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC))
        if self.fd < 0:
            raise _os_error("inotify_init1")

    def add_watch(self, path: Path, mask: int) -> int:
        wd = int(self._libc.inotify_add_watch(self.fd, os.fsencode(path), mask))
        if wd < 0:
            raise _os_error(f"inotify_add_watch {path}")
        return wd

    def read(self, timeout: float) -> list[Event]:
        """Events that arrive within ``timeout`` seconds (none if nothing happened)."""
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        if not poller.poll(timeout * 1000):
            return []
        try:
            data = os.read(self.fd, 64 * 1024)
        except BlockingIOError:
            return []
        return list(_decode(data))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Inotify:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _decode(data: bytes) -> list[Event]:
    events, offset = [], 0
    while offset + _EVENT.size <= len(data):
        wd, mask, _, length = _EVENT.unpack_from(data, offset)
        start = offset + _EVENT.size
        name = data[start:start + length].rstrip(b"\0").decode(errors="replace")
        events.append(Event(wd, mask, name))
        offset = start + length
    return events


def _os_error(what: str) -> OSError:
    number = ctypes.get_errno()
    return OSError(number, f"{what}: {os.strerror(number)}")
