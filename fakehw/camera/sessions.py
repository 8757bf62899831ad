"""One client's RTSP session: where its RTP goes and how its packets are numbered.

Payloads are cut once per camera; what differs between clients is only the 12-byte RTP
header. Each session draws its own random sequence number, timestamp base and SSRC (RFC 3550
5.1) so the ``RTP-Info`` of its PLAY reply is exact: the first packet it gets carries that
``seq`` and ``rtptime``. A session starts, and after falling behind restarts, at a keyframe:
a client that cannot keep up loses whole pictures, never half of one.
"""

from __future__ import annotations

import asyncio
import secrets
import struct
import time
from dataclasses import dataclass, field
from typing import Protocol

from fakehw.camera import rtcp
from fakehw.camera.auth import Identity
from fakehw.camera.h264 import AccessUnit

PAYLOAD_TYPE = 96
CLOCK_RATE = 90000  # H.264's RTP clock (RFC 6184)
BACKLOG_LIMIT = 512 * 1024  # bytes queued for one client before it skips to the next keyframe
_MASK32 = 0xFFFFFFFF


class Sink(Protocol):
    """Where a session's RTP packets go, and its RTCP reports."""

    def send(self, packets: list[tuple[bytes, bytes]]) -> None: ...

    def send_rtcp(self, packet: bytes) -> None: ...

    def backlog(self) -> int: ...


class InterleavedSink:
    """RTP inside the RTSP connection: ``$``, channel, 16-bit length, packet (RFC 2326 10.12)."""

    def __init__(self, transport: asyncio.WriteTransport, channel: int) -> None:
        self.transport = transport
        self.channel = channel

    def send(self, packets: list[tuple[bytes, bytes]]) -> None:
        frames = []
        for header, payload in packets:
            frames.append(struct.pack("!cBH", b"$", self.channel, len(header) + len(payload)))
            frames += (header, payload)
        self.transport.write(b"".join(frames))

    def send_rtcp(self, packet: bytes) -> None:
        """On the channel above RTP's, as SETUP's ``interleaved=a-b`` pairs them."""
        self.transport.write(struct.pack("!cBH", b"$", self.channel + 1, len(packet)) + packet)

    def owns_rtcp(self, channel: int) -> bool:
        return channel == self.channel + 1

    def backlog(self) -> int:
        return self.transport.get_write_buffer_size()


class UdpSink:
    """RTP datagrams from the camera's RTP port to the client's, at the client's own address."""

    def __init__(self, transport: asyncio.DatagramTransport, address: tuple[str, int],
                 rtcp: asyncio.DatagramTransport) -> None:
        self.transport = transport
        self.address = address
        self.rtcp = rtcp
        self.rtcp_address = (address[0], address[1] + 1)  # RFC 3550 11: RTP port + 1

    def send(self, packets: list[tuple[bytes, bytes]]) -> None:
        for header, payload in packets:
            self.transport.sendto(header + payload, self.address)

    def send_rtcp(self, packet: bytes) -> None:
        """From the camera's RTCP port to the client's."""
        self.rtcp.sendto(packet, self.rtcp_address)

    def backlog(self) -> int:
        # asyncio's datagram transports have this method; typeshed does not declare it
        size = getattr(self.transport, "get_write_buffer_size", None)
        return int(size()) if size is not None else 0


@dataclass
class Session:
    """State of one SETUP: its sink, the identity that opened it and its RTP numbering."""

    id: str
    timeout: int
    sink: Sink
    identity: Identity | None
    playing: bool = False
    last_seen: float = field(default_factory=time.monotonic)
    first_seq: int = field(default_factory=lambda: secrets.randbelow(0x10000))
    rtp_base: int = field(default_factory=lambda: secrets.randbelow(1 << 32))
    ssrc: int = field(default_factory=lambda: secrets.randbelow(1 << 32))
    frames_sent: int = 0
    frames_dropped: int = 0
    packets_sent: int = 0
    octets_sent: int = 0  # RTP payload octets, as the sender report counts them
    reports_sent: int = 0
    next_report: float = 0.0  # monotonic time of the next sender report
    _last_rtp: tuple[int, float] | None = None  # (RTP timestamp, monotonic time) sent last
    _seq: int | None = None
    _offset: int | None = None
    _need_keyframe: bool = True

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(8)

    def touch(self) -> None:
        """A request for this session arrived: it is alive for another ``timeout`` seconds."""
        self.last_seen = time.monotonic()

    def expired(self, now: float) -> bool:
        return now - self.last_seen > self.timeout

    def rtp_info(self, url: str) -> str:
        """PLAY's RTP-Info: exact for the first PLAY; after a PAUSE only the next seq is known."""
        if self._seq is None:
            return f"url={url};seq={self.first_seq};rtptime={self.rtp_base}"
        return f"url={url};seq={self._seq}"

    def play(self) -> None:
        """Start (or resume) sending, from the next keyframe on."""
        self.playing = True
        self._need_keyframe = True

    def send(self, unit: AccessUnit) -> None:
        """Send one picture, or skip it while waiting for a keyframe or while backlogged."""
        if not self.playing or (self._need_keyframe and not unit.keyframe):
            return
        if self.sink.backlog() > BACKLOG_LIMIT:
            self._need_keyframe = True
            self.frames_dropped += 1
            return
        self._need_keyframe = False
        if self._offset is None:
            self._offset = (self.rtp_base - unit.timestamp) & _MASK32
        seq = self.first_seq if self._seq is None else self._seq
        timestamp = (unit.timestamp + self._offset) & _MASK32
        packets = []
        last = len(unit.payloads) - 1
        for index, payload in enumerate(unit.payloads):
            marker = 0x80 if index == last else 0
            header = struct.pack("!BBHII", 0x80, marker | PAYLOAD_TYPE, seq, timestamp, self.ssrc)
            seq = (seq + 1) & 0xFFFF
            packets.append((header, payload))
        self._seq = seq
        self.sink.send(packets)
        self.frames_sent += 1
        self.packets_sent += len(packets)
        self.octets_sent += sum(len(payload) for _, payload in packets)
        self._last_rtp = (timestamp, time.monotonic())

    def report_due(self, now: float) -> bool:
        """A sender report is due: the session has sent RTP, and the last report is
        ``rtcp.INTERVAL`` old (the first goes as soon as the first picture has)."""
        return self.playing and self._last_rtp is not None and now >= self.next_report

    def send_report(self, now: float, cname: str) -> None:
        """A sender report pairing the wall clock with the RTP clock at this moment."""
        if self._last_rtp is None:
            return
        timestamp, sent = self._last_rtp
        rtp_now = timestamp + round((now - sent) * CLOCK_RATE)
        self.sink.send_rtcp(rtcp.sender_report(
            self.ssrc, unix_time=time.time(), rtp_time=rtp_now, packets=self.packets_sent,
            octets=self.octets_sent, cname=cname))
        self.reports_sent += 1
        self.next_report = now + rtcp.INTERVAL
