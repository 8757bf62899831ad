"""RTSP 1.0 messages (RFC 2326): parsing requests, writing responses, reading Transport.

Parsing is strict about what it must understand (request line, CSeq, header syntax) and
answers anything else with a status code instead of an exception escaping to the server:
``RtspStatus`` carries the code to send and never leaves this package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_HEAD = 8192  # bytes of request line + headers; more is a broken or hostile client
VERSION = "RTSP/1.0"
SERVER = "fakehw-camera/0.1"
REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 454: "Session Not Found", 455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed", 461: "Unsupported Transport",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}
_TOKEN = re.compile(r"^[A-Z_]{1,32}$")


class RtspStatus(Exception):  # a response to send, not a failure of the server
    """Answer the current request with ``status`` (and ``headers``) instead of going on."""

    def __init__(self, status: int, detail: str = "",
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(f"{status} {REASONS.get(status, '')}: {detail}")
        self.status = status
        self.headers = headers or []


@dataclass
class Request:
    method: str
    uri: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def cseq(self) -> str | None:
        return self.header("cseq")

    @property
    def session_id(self) -> str | None:
        """The id in ``Session: id[;timeout=..]``, or None when the header is absent."""
        value = self.header("session")
        return value.split(";", 1)[0].strip() if value is not None else None


def parse_head(head: bytes) -> Request:
    """A request from its head (through the blank line); raises RtspStatus(400/505)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise RtspStatus(400, "the request is not UTF-8 text") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1]:
        raise RtspStatus(400, f"malformed request line {lines[0][:80]!r}")
    method, uri, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or name != name.strip():
            raise RtspStatus(400, f"malformed header line {line[:80]!r}")
        headers[name.lower()] = value.strip()
    request = Request(method, uri, headers)
    cseq = request.cseq
    if cseq is None or not cseq.isdigit():
        raise RtspStatus(400, "missing or non-numeric CSeq")
    if version != VERSION:
        raise RtspStatus(505, f"{version!r} is not {VERSION}")
    return request


def content_length(request: Request) -> int:
    value = request.header("content-length") or "0"
    if not value.isdigit() or int(value) > MAX_HEAD:
        raise RtspStatus(400, f"bad Content-Length {value!r}")
    return int(value)


def format_response(status: int, cseq: str | None, headers: list[tuple[str, str]],
                    body: bytes = b"") -> bytes:
    lines = [f"{VERSION} {status} {REASONS.get(status, 'Unknown')}"]
    if cseq is not None:
        lines.append(f"CSeq: {cseq}")
    lines.append(f"Server: {SERVER}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Transport:
    """What a SETUP asked for: RTP over the RTSP connection (tcp) or to UDP ports."""

    protocol: str  # "tcp" or "udp"
    profile: str = "RTP/AVP/TCP"  # as the client wrote it, echoed in the reply
    channels: tuple[int, int] = (0, 1)  # interleaved channels, tcp only
    client_ports: tuple[int, int] = (0, 0)  # udp only


def _pair(text: str, low: int, high: int) -> tuple[int, int]:
    first, _, second = text.partition("-")
    if not first.isdigit() or (second and not second.isdigit()):
        raise RtspStatus(400, f"bad range {text!r} in Transport")
    a = int(first)
    b = int(second) if second else a + 1
    if not (low <= a <= high and low <= b <= high):
        raise RtspStatus(400, f"range {text!r} out of bounds in Transport")
    return a, b


def parse_transport(value: str | None) -> Transport:
    """The first transport of a SETUP's ``Transport`` header that this camera can serve."""
    if not value:
        raise RtspStatus(461, "SETUP needs a Transport header")
    for spec in value.split(","):
        params = [p.strip() for p in spec.split(";")]
        profile = params[0].upper()
        options = dict(p.partition("=")[::2] for p in params[1:])
        if "multicast" in options:
            continue
        if profile == "RTP/AVP/TCP":
            channels = _pair(options.get("interleaved", "0-1"), 0, 255)
            return Transport("tcp", profile, channels=channels)
        if profile in ("RTP/AVP", "RTP/AVP/UDP") and "client_port" in options:
            return Transport("udp", profile, client_ports=_pair(options["client_port"], 1, 65535))
    raise RtspStatus(461, f"none of {value!r} is RTP/AVP/TCP or unicast RTP/AVP with client_port")
