"""A raw RTSP client for tests: exact requests, exact replies, RTP packets as bytes.

Written from the RFCs independently of the server's code, so the two do not share a bug.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers[name.lower()]


@dataclass
class Packet:
    """One RTP packet, parsed (RFC 3550 5.1)."""

    raw: bytes
    marker: bool = field(init=False)
    payload_type: int = field(init=False)
    seq: int = field(init=False)
    timestamp: int = field(init=False)
    ssrc: int = field(init=False)
    payload: bytes = field(init=False)

    def __post_init__(self) -> None:
        first, second, self.seq, self.timestamp, self.ssrc = struct.unpack("!BBHII", self.raw[:12])
        assert first >> 6 == 2, "RTP version must be 2"
        self.marker = bool(second & 0x80)
        self.payload_type = second & 0x7F
        self.payload = self.raw[12:]


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Digest auth is MD5


def digest_header(challenge: str, user: str, password: str, method: str, uri: str, *,
                  qop: bool = True) -> str:
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    realm, nonce = params["realm"], params["nonce"]
    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    if qop:
        nc, cnonce = "00000001", "0a4f113b"
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
    else:
        response = md5(f"{ha1}:{nonce}:{ha2}")
        extra = ""
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{response}"{extra}')


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class RtspClient:
    """One RTSP connection. Interleaved packets that arrive between replies are kept."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        self.cseq = 0
        self.packets: list[tuple[int, bytes]] = []
        self.rtcp: list[tuple[int, bytes]] = []
        self.auth: tuple[str, str, str] | None = None  # scheme, user, password
        self.challenge = ""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RtspClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buffer += chunk

    def _take_interleaved(self) -> bool:
        """Move one complete $-frame from the buffer to ``packets``; False if none is whole."""
        if len(self.buffer) < 4:
            return False
        channel, length = self.buffer[1], int.from_bytes(self.buffer[2:4], "big")
        if len(self.buffer) < 4 + length:
            return False
        self.packets.append((channel, self.buffer[4:4 + length]))
        self.buffer = self.buffer[4 + length:]
        return True

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_reply(self) -> Reply:
        while True:
            if self.buffer.startswith(b"$"):
                if not self._take_interleaved():
                    self._fill()
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end == -1:
                self._fill()
                continue
            head = self.buffer[:end].decode()
            lines = head.split("\r\n")
            status = int(lines[0].split(" ")[1])
            assert lines[0].startswith("RTSP/1.0 "), lines[0]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            while len(self.buffer) < end + 4 + length:
                self._fill()
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            return Reply(status, headers, body)

    def request(self, method: str, uri: str, headers: dict[str, str] | None = None) -> Reply:
        """Send a request; with ``auth`` set, answer one 401 challenge the way ffmpeg does."""
        reply = self._send(method, uri, headers or {})
        if reply.status == 401 and self.auth is not None:
            self.challenge = reply.header("www-authenticate")
            reply = self._send(method, uri, headers or {})
        return reply

    def _send(self, method: str, uri: str, headers: dict[str, str]) -> Reply:
        self.cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self.cseq}"]
        if self.auth is not None and self.challenge:
            scheme, user, password = self.auth
            value = (basic_header(user, password) if scheme == "basic"
                     else digest_header(self.challenge, user, password, method, uri))
            lines.append(f"Authorization: {value}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        reply = self.read_reply()
        assert reply.headers.get("cseq") == str(self.cseq), "every reply echoes CSeq"
        return reply

    def read_packet(self, timeout: float = 5.0) -> tuple[int, bytes]:
        """The next interleaved frame (channel, data); TimeoutError if none comes in time."""
        deadline = time.monotonic() + timeout
        try:
            while not self.packets:
                if self.buffer.startswith(b"$") and self._take_interleaved():
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no RTP packet in time")
                self.sock.settimeout(remaining)
                try:
                    self._fill()
                except TimeoutError:
                    raise TimeoutError("no RTP packet in time") from None
        finally:
            self.sock.settimeout(self.timeout)
        return self.packets.pop(0)

    def read_rtp(self, timeout: float = 5.0) -> tuple[int, bytes]:
        """The next interleaved frame on an even (RTP) channel; RTCP frames met on the way
        (odd channels) are kept in ``rtcp``."""
        deadline = time.monotonic() + timeout
        while True:
            channel, data = self.read_packet(max(0.0, deadline - time.monotonic()))
            if channel % 2 == 0:
                return channel, data
            self.rtcp.append((channel, data))

    def wait_closed(self, timeout: float) -> None:
        """Read (and drop) until the server hangs up; TimeoutError if it does not."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the server kept the connection open")
            self.sock.settimeout(remaining)
            try:
                if not self.sock.recv(65536):
                    return
            except ConnectionResetError:
                return


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> None:
    """Poll ``condition`` until it holds; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition still false after {timeout} s")
        time.sleep(interval)
