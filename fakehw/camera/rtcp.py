"""RTCP as a camera speaks it (RFC 3550 6): sender reports out, receiver reports in.

Every few seconds each playing session gets a compound packet of a sender report (SR) and a
source description with the camera's CNAME: the SR pairs the wall clock (NTP) with the
stream's RTP clock, which players use to put a time on each picture and to keep streams in
step. What clients send back (receiver reports) counts as a sign of life: a session a client
keeps with RTCP alone does not expire.
"""

from __future__ import annotations

import struct

VERSION = 2
SR, RR, SDES, BYE, APP = 200, 201, 202, 203, 204
CNAME = 1
INTERVAL = 5.0  # seconds between reports of one session (RFC 3550 6.2's minimum)
NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)


def ntp_timestamp(unix_time: float) -> tuple[int, int]:
    """The 64-bit NTP timestamp of a Unix time: whole seconds since 1900 and the fraction."""
    seconds = int(unix_time) + NTP_EPOCH_OFFSET
    fraction = int((unix_time % 1) * (1 << 32)) & 0xFFFFFFFF
    return seconds & 0xFFFFFFFF, fraction


def sender_report(ssrc: int, *, unix_time: float, rtp_time: int, packets: int, octets: int,
                  cname: str) -> bytes:
    """An SR without report blocks (the camera receives no RTP), then SDES with the CNAME."""
    seconds, fraction = ntp_timestamp(unix_time)
    report = struct.pack("!BBHIIIIII", VERSION << 6, SR, 6, ssrc, seconds, fraction,
                         rtp_time & 0xFFFFFFFF, packets & 0xFFFFFFFF, octets & 0xFFFFFFFF)
    text = cname.encode()[:255]
    chunk = struct.pack("!IBB", ssrc, CNAME, len(text)) + text + b"\0"
    chunk += b"\0" * (-len(chunk) % 4)  # the item list ends on a 32-bit boundary
    sdes = struct.pack("!BBH", VERSION << 6 | 1, SDES, len(chunk) // 4) + chunk
    return report + sdes


def is_report(data: bytes) -> bool:
    """True for an RTCP compound packet as RFC 3550 6.1 allows one to start (SR or RR)."""
    return len(data) >= 8 and data[0] >> 6 == VERSION and data[1] in (SR, RR)
