"""Is a camera there? An RTSP ``OPTIONS`` request, the one request cameras answer without auth.

Every RTSP client starts with OPTIONS, and cameras answer it without credentials, so a
``200`` means the camera's server is up and speaking RTSP, without holding a session or
touching the stream. Anything else (refused, timed out, garbage, an error status) is reported
with what happened, which becomes the device's health message and the taint's reason.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

DEFAULT_PORT = 554
MAX_REPLY = 8192


def probe(url: str, timeout: float = 2.0) -> str:
    """``""`` if the camera at ``url`` answers OPTIONS with 200, else why not."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or DEFAULT_PORT
    request = (f"OPTIONS {_without_credentials(url)} RTSP/1.0\r\nCSeq: 1\r\n"
               "User-Agent: dra-reference-health\r\n\r\n").encode()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(request)
            reply = _read_head(sock)
    except OSError as exc:
        return f"RTSP OPTIONS to {host}:{port} failed: {exc.strerror or exc}"
    status_line = reply.split(b"\r\n", 1)[0].decode(errors="replace")
    code = status_line.split(" ")[1] if status_line.startswith("RTSP/1.0 ") else ""
    if code != "200":
        return f"RTSP OPTIONS to {host}:{port} answered {status_line[:80]!r}"
    return ""


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_REPLY:
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl()
