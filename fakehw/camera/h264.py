"""H.264 as RTP wants it (RFC 6184): NAL units out of Annex B, cut into packet payloads.

The encoder hands out Annex B byte streams (start codes between NAL units); RTP carries bare
NAL units, whole when they fit the MTU (single NAL unit packets) and in FU-A fragments when
they do not. Cutting happens once per access unit and every client gets the same payloads.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
FU_A = 28
RTP_HEADER_SIZE = 12
MTU = 1400  # RTP packet size limit, header included: fits any Ethernet path with room for VPNs
MAX_PAYLOAD = MTU - RTP_HEADER_SIZE


@dataclass(frozen=True)
class AccessUnit:
    """One encoded picture, ready to send: RTP payloads in order, the marker goes on the last."""

    frame_number: int
    timestamp: int  # 90 kHz camera clock, before any per-client offset
    keyframe: bool
    payloads: tuple[bytes, ...]


def split_annexb(stream: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream, without start codes or trailing zero bytes."""
    units: list[bytes] = []
    start = stream.find(b"\x00\x00\x01")
    while start != -1:
        begin = start + 3
        end = stream.find(b"\x00\x00\x01", begin)
        unit = stream[begin:] if end == -1 else stream[begin:end]
        unit = unit.rstrip(b"\x00")  # the leading zero of a 4-byte start code, or padding
        if unit:
            units.append(unit)
        start = end
    return units


def nal_type(unit: bytes) -> int:
    return unit[0] & 0x1F


def fragment(unit: bytes, max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """RTP payloads for one NAL unit: itself if it fits, else FU-A fragments (RFC 6184 5.8)."""
    if len(unit) <= max_payload:
        return [unit]
    indicator = bytes([(unit[0] & 0xE0) | FU_A])
    kind = unit[0] & 0x1F
    body = unit[1:]
    step = max_payload - 2
    pieces = [body[i:i + step] for i in range(0, len(body), step)]
    payloads = []
    for index, piece in enumerate(pieces):
        header = kind
        if index == 0:
            header |= 0x80  # S: first fragment
        if index == len(pieces) - 1:
            header |= 0x40  # E: last fragment
        payloads.append(indicator + bytes([header]) + piece)
    return payloads


def access_unit_payloads(units: list[bytes], sps: bytes, pps: bytes) -> list[bytes]:
    """Payloads for one picture, with SPS and PPS put before an IDR that lacks them.

    Access unit delimiters are dropped: RTP's marker bit already delimits pictures.
    """
    kinds = {nal_type(u) for u in units}
    units = [u for u in units if nal_type(u) != NAL_AUD]
    if NAL_IDR in kinds and not {NAL_SPS, NAL_PPS} <= kinds:
        units = [sps, pps, *[u for u in units if nal_type(u) not in (NAL_SPS, NAL_PPS)]]
    payloads: list[bytes] = []
    for unit in units:
        payloads.extend(fragment(unit))
    return payloads


def profile_level_id(sps: bytes) -> str:
    """SDP's profile-level-id: profile_idc, constraint flags and level_idc from the SPS."""
    return sps[1:4].hex().upper()


def sprop_parameter_sets(sps: bytes, pps: bytes) -> str:
    """SDP's sprop-parameter-sets: base64 SPS and PPS, so decoders can start before an IDR."""
    return f"{base64.b64encode(sps).decode()},{base64.b64encode(pps).decode()}"
