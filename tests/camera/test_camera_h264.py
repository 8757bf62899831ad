"""RFC 6184 packetization: NAL units out of Annex B, FU-A fragments that reassemble exactly."""

from __future__ import annotations

import pytest

from fakehw.camera import h264

pytestmark = pytest.mark.unit

SPS = bytes([0x67, 0x42, 0xC0, 0x1E, 0xDA])
PPS = bytes([0x68, 0xCE, 0x0F, 0xC8])


def test_split_annexb_handles_both_start_code_lengths() -> None:
    stream = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS + b"\x00\x00\x00\x01\x65\x88\x84"
    assert h264.split_annexb(stream) == [SPS, PPS, b"\x65\x88\x84"]
    assert h264.split_annexb(b"no start code") == []


def test_small_units_go_whole() -> None:
    assert h264.fragment(b"\x41" + b"x" * 100) == [b"\x41" + b"x" * 100]


def test_large_units_become_fu_a_fragments_that_reassemble() -> None:
    unit = bytes([0x65]) + bytes(range(256)) * 20  # an IDR slice of 5121 bytes
    fragments = h264.fragment(unit, max_payload=1000)
    assert len(fragments) == 6
    assert all(len(f) <= 1000 for f in fragments)
    assert all(f[0] == (0x65 & 0xE0) | 28 for f in fragments)  # NRI kept, type FU-A
    assert [f[1] & 0xC0 for f in fragments] == [0x80, 0, 0, 0, 0, 0x40]  # S ... E
    assert all(f[1] & 0x1F == 5 for f in fragments)
    assert bytes([0x65]) + b"".join(f[2:] for f in fragments) == unit


def test_idr_without_parameter_sets_gets_them() -> None:
    idr = b"\x65" + b"\x00" * 10
    payloads = h264.access_unit_payloads([idr], SPS, PPS)
    assert payloads == [SPS, PPS, idr]
    assert h264.access_unit_payloads([SPS, PPS, idr], SPS, PPS) == [SPS, PPS, idr]
    assert h264.access_unit_payloads([b"\x09\xf0", b"\x41\x9a"], SPS, PPS) == [b"\x41\x9a"]


def test_sdp_parameters_come_from_the_sps() -> None:
    assert h264.profile_level_id(SPS) == "42C01E"
    assert h264.sprop_parameter_sets(SPS, PPS) == "Z0LAHto=,aM4PyA=="
