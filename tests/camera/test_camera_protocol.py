"""RTSP parsing, Basic and Digest checking and RTP numbering, without sockets."""

from __future__ import annotations

import struct

import pytest
from rtsp_client import basic_header, digest_header

from fakehw.camera.auth import REALM, Authenticator, Credentials, Identity
from fakehw.camera.h264 import AccessUnit
from fakehw.camera.rtsp import RtspStatus, Transport, parse_head, parse_transport
from fakehw.camera.sessions import Session

pytestmark = pytest.mark.unit
URI = "rtsp://127.0.0.1:8554/stream"


def test_requests_parse() -> None:
    request = parse_head(b"DESCRIBE rtsp://h/stream RTSP/1.0\r\nCSeq: 2\r\n"
                         b"Session: ab12;timeout=60\r\nAccept: application/sdp\r\n\r\n")
    assert (request.method, request.uri, request.cseq) == ("DESCRIBE", "rtsp://h/stream", "2")
    assert request.session_id == "ab12"
    assert request.header("ACCEPT") == "application/sdp"


@pytest.mark.parametrize(("head", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"OPTIONS * RTSP/1.0\r\n\r\n", 400),  # no CSeq
    (b"OPTIONS * RTSP/1.0\r\nCSeq: x\r\n\r\n", 400),
    (b"OPTIONS * RTSP/1.0\r\nno colon here\r\nCSeq: 1\r\n\r\n", 400),
    (b"OPTIONS * HTTP/1.1\r\nCSeq: 1\r\n\r\n", 505),
    (b"\xff\xfe * RTSP/1.0\r\n\r\n", 400),
])
def test_malformed_requests_get_a_status(head: bytes, status: int) -> None:
    with pytest.raises(RtspStatus) as info:
        parse_head(head)
    assert info.value.status == status


@pytest.mark.parametrize(("value", "expected"), [
    ("RTP/AVP/TCP;unicast;interleaved=0-1", Transport("tcp", "RTP/AVP/TCP", channels=(0, 1))),
    ("RTP/AVP/TCP;unicast;interleaved=4-5", Transport("tcp", "RTP/AVP/TCP", channels=(4, 5))),
    ("RTP/AVP/UDP;unicast;client_port=5000-5001",
     Transport("udp", "RTP/AVP/UDP", client_ports=(5000, 5001))),
    ("RTP/AVP;multicast,RTP/AVP;unicast;client_port=6000",
     Transport("udp", "RTP/AVP", client_ports=(6000, 6001))),
])
def test_transports_parse(value: str, expected: Transport) -> None:
    assert parse_transport(value) == expected


@pytest.mark.parametrize(("value", "status"), [
    (None, 461), ("RTP/AVP;multicast", 461), ("RAW/RAW/UDP;unicast", 461),
    ("RTP/AVP/UDP;unicast;client_port=x-y", 400), ("RTP/AVP/TCP;interleaved=0-999", 400),
])
def test_unusable_transports_are_refused(value: str | None, status: int) -> None:
    with pytest.raises(RtspStatus) as info:
        parse_transport(value)
    assert info.value.status == status


@pytest.fixture
def credentials() -> Credentials:
    creds = Credentials()
    creds.add("alice", "wonder")
    return creds


def test_basic_auth(credentials: Credentials) -> None:
    auth = Authenticator("basic", credentials)
    assert auth.challenge() == f'Basic realm="{REALM}"'
    assert auth.check("DESCRIBE", URI, basic_header("alice", "wonder")) == Identity("alice",
                                                                                     "wonder")
    assert auth.check("DESCRIBE", URI, basic_header("alice", "land")) is None
    assert auth.check("DESCRIBE", URI, "Basic !!!") is None
    assert auth.check("DESCRIBE", URI, None) is None


@pytest.mark.parametrize("qop", [True, False])
def test_digest_auth(credentials: Credentials, qop: bool) -> None:
    auth = Authenticator("digest", credentials)
    challenge = auth.challenge()
    assert challenge.startswith(f'Digest realm="{REALM}", nonce="')
    good = digest_header(challenge, "alice", "wonder", "DESCRIBE", URI, qop=qop)
    assert auth.check("DESCRIBE", URI, good) == Identity("alice", "wonder")
    assert auth.check("SETUP", URI, good) is None  # answer for another method
    assert auth.check("DESCRIBE", URI + "2", good) is None  # for another resource
    bad = digest_header(challenge, "alice", "land", "DESCRIBE", URI, qop=qop)
    assert auth.check("DESCRIBE", URI, bad) is None
    credentials.revoke("alice")
    assert auth.check("DESCRIBE", URI, good) is None


def test_digest_refuses_forged_nonces_and_basic(credentials: Credentials) -> None:
    auth = Authenticator("digest", credentials)
    forged = 'Digest realm="fakehw-camera", nonce="1-0000"'
    assert auth.check("DESCRIBE", URI, digest_header(forged, "alice", "wonder", "DESCRIBE",
                                                     URI)) is None
    assert auth.check("DESCRIBE", URI, basic_header("alice", "wonder")) is None


def test_credentials_change() -> None:
    creds = Credentials()
    creds.add("a", "1")
    creds.add("b", "2")
    creds.add("a", "3")
    assert creds.users() == ["a", "b"]
    assert creds.valid("a", "3")
    assert not creds.valid("a", "1")
    assert creds.revoke("a")
    assert not creds.revoke("a")
    assert creds.users() == ["b"]


class ListSink:
    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.queued = 0

    def send(self, packets: list[tuple[bytes, bytes]]) -> None:
        self.packets += [header + payload for header, payload in packets]

    def backlog(self) -> int:
        return self.queued


def unit(number: int, keyframe: bool, payloads: int = 2) -> AccessUnit:
    return AccessUnit(number, number * 9000, keyframe, tuple(b"\x41" * (i + 1)
                                                             for i in range(payloads)))


def test_sessions_start_at_a_keyframe_with_their_own_numbering() -> None:
    sink = ListSink()
    session = Session("s", 60, sink, None)
    session.send(unit(1, keyframe=True))
    assert sink.packets == []  # not playing yet
    session.play()
    session.send(unit(2, keyframe=False))
    assert sink.packets == []  # waits for a keyframe
    session.send(unit(3, keyframe=True))
    session.send(unit(4, keyframe=False, payloads=1))
    headers = [struct.unpack("!BBHII", p[:12]) for p in sink.packets]
    assert [h[2] for h in headers] == [(session.first_seq + i) & 0xFFFF for i in range(3)]
    assert [h[1] >> 7 for h in headers] == [0, 1, 1]  # marker on each picture's last packet
    assert [h[1] & 0x7F for h in headers] == [96, 96, 96]
    assert headers[0][3] == session.rtp_base
    assert headers[2][3] == (session.rtp_base + 9000) & 0xFFFFFFFF
    assert {h[4] for h in headers} == {session.ssrc}


def test_a_backlogged_session_skips_to_the_next_keyframe() -> None:
    sink = ListSink()
    session = Session("s", 60, sink, None)
    session.play()
    session.send(unit(1, keyframe=True))
    sink.queued = 10**9
    session.send(unit(2, keyframe=False))
    sink.queued = 0
    session.send(unit(3, keyframe=False))
    assert len(sink.packets) == 2
    session.send(unit(4, keyframe=True))
    assert len(sink.packets) == 4
    assert session.frames_dropped == 1
