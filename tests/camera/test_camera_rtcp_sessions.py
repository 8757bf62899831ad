"""RTCP both ways, keepalives, expiring nonces and session ownership, as real cameras do them
and as players rely on them (RFC 3550, RFC 2326, RFC 7616)."""

from __future__ import annotations

import re
import socket
import struct
import time
from collections.abc import Callable, Iterator

import pytest
from camera_testbed import PASSWORD, USER
from rtsp_client import Packet, RtspClient, digest_header
from test_camera_rtsp import connect, play_tcp

from fakehw.camera import Camera

pytestmark = pytest.mark.socket
NTP_OFFSET = 2208988800


def parse_compound(data: bytes) -> dict[int, bytes]:
    """RTCP packets of a compound packet by type (RFC 3550 6.1), each without its header."""
    found = {}
    while data:
        first, kind, words = struct.unpack("!BBH", data[:4])
        assert first >> 6 == 2, "RTCP version must be 2"
        found[kind] = data[4:4 + 4 * words]
        data = data[4 + 4 * words:]
    return found


def check_sender_report(data: bytes, ssrc: int, last_rtp: Packet) -> None:
    packets = parse_compound(data)
    assert next(iter(packets)) == 200, "a compound packet starts with the sender report"
    sender, seconds, fraction, rtp_time, count, octets = struct.unpack("!IIIIII", packets[200])
    assert sender == ssrc
    wall = seconds - NTP_OFFSET + fraction / 2**32
    assert abs(wall - time.time()) < 3, "the NTP time is the wall clock's"
    assert 0 <= (rtp_time - last_rtp.timestamp) % 2**32 < 5 * 90000, "the RTP time is now's"
    assert count > 0
    assert octets > 0
    sdes = packets[202]
    chunk_ssrc, item, length = struct.unpack("!IBB", sdes[:6])
    assert (chunk_ssrc, item) == (ssrc, 1)
    assert sdes[6:6 + length] == b"cam0@127.0.0.1"


def receiver_report(ssrc: int = 0x1234ABCD) -> bytes:
    return struct.pack("!BBHI", 0x80, 201, 1, ssrc)  # an RR with no report blocks


def test_sender_reports_come_on_the_interleaved_rtcp_channel(camera: Camera) -> None:
    with connect(camera) as client:
        assert client.request("DESCRIBE", camera.url).status == 200
        setup = client.request("SETUP", camera.url + "/trackID=0",
                               {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        ssrc = int(re.search(r"ssrc=([0-9A-F]{8})", setup.header("transport")).group(1), 16)
        session = setup.header("session").split(";")[0]
        assert client.request("PLAY", camera.url, {"Session": session}).status == 200
        channel, data = client.read_packet()
        last = Packet(data)
        while channel == 0:  # the newest RTP packet before the report, for its RTP time
            last = Packet(data)
            channel, data = client.read_packet()
    assert channel == 1
    check_sender_report(data, ssrc, last)


@pytest.fixture
def udp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A client's RTP socket on an even port and its RTCP socket on the next."""
    for _ in range(50):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        port = rtp.getsockname()[1]
        rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            rtcp.bind(("127.0.0.1", port + 1))
        except OSError:
            rtp.close()
            rtcp.close()
            continue
        if port % 2 == 0:
            rtp.settimeout(5)
            rtcp.settimeout(8)
            yield rtp, rtcp
            rtp.close()
            rtcp.close()
            return
        rtp.close()
        rtcp.close()
    pytest.fail("no free pair of UDP ports")


def _play_udp(client: RtspClient, camera: Camera, rtp_port: int) -> tuple[str, int, int]:
    assert client.request("DESCRIBE", camera.url).status == 200
    setup = client.request("SETUP", camera.url + "/trackID=0", {
        "Transport": f"RTP/AVP;unicast;client_port={rtp_port}-{rtp_port + 1}"})
    transport = setup.header("transport")
    server_rtcp = int(re.search(r"server_port=\d+-(\d+)", transport).group(1))
    ssrc = int(re.search(r"ssrc=([0-9A-F]{8})", transport).group(1), 16)
    session = setup.header("session").split(";")[0]
    assert client.request("PLAY", camera.url, {"Session": session}).status == 200
    return session, server_rtcp, ssrc


def test_sender_reports_come_from_the_rtcp_port_over_udp(
        camera: Camera, udp_pair: tuple[socket.socket, socket.socket]) -> None:
    rtp, rtcp = udp_pair
    with connect(camera) as client:
        _, server_rtcp, ssrc = _play_udp(client, camera, rtp.getsockname()[1])
        first = Packet(rtp.recv(65536))  # sent before the first report
        data, sender = rtcp.recvfrom(65536)
    assert sender == ("127.0.0.1", server_rtcp)
    check_sender_report(data, ssrc, first)


def test_receiver_reports_keep_an_interleaved_session(
        make_camera: Callable[..., Camera]) -> None:
    camera = make_camera(session_timeout=1)
    with connect(camera) as client:
        play_tcp(client, camera)
        deadline = time.monotonic() + 3  # three timeouts, with no request at all
        while time.monotonic() < deadline:
            report = receiver_report()
            client.send_raw(struct.pack("!cBH", b"$", 1, len(report)) + report)
            client.read_rtp(timeout=5)
            time.sleep(0.3)
        assert camera.stats().clients == 1


def test_receiver_reports_keep_a_udp_session(
        make_camera: Callable[..., Camera], udp_pair: tuple[socket.socket, socket.socket],
) -> None:
    camera = make_camera(session_timeout=1)
    rtp, rtcp = udp_pair
    with connect(camera) as client:
        _, server_rtcp, _ = _play_udp(client, camera, rtp.getsockname()[1])
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            rtcp.sendto(receiver_report(), ("127.0.0.1", server_rtcp))
            time.sleep(0.3)
        assert camera.stats().clients == 1
        rtp.settimeout(5)
        rtp.recv(65536)


def test_options_with_the_session_keeps_it_and_others_sessions_are_unknown(
        make_camera: Callable[..., Camera]) -> None:
    camera = make_camera(session_timeout=1)
    with connect(camera) as client:
        session, _ = play_tcp(client, camera)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            reply = client.request("OPTIONS", camera.url, {"Session": session})
            assert reply.status == 200
            assert reply.header("session").startswith(f"{session};timeout=1")
            time.sleep(0.3)
        assert camera.stats().clients == 1
        with connect(camera) as other:
            assert other.request("OPTIONS", camera.url, {"Session": session}).status == 454


def test_only_the_owning_connection_tears_a_session_down(camera: Camera) -> None:
    with connect(camera) as owner, connect(camera) as intruder:
        session, _ = play_tcp(owner, camera)
        assert intruder.request("DESCRIBE", camera.url).status == 200  # same credentials
        for method in ("TEARDOWN", "PAUSE", "GET_PARAMETER"):
            reply = intruder.request(method, camera.url, {"Session": session})
            assert reply.status == 454, method
        assert camera.stats().sessions == 1
        owner.read_rtp(timeout=5)  # still streaming to its owner
        assert owner.request("TEARDOWN", camera.url, {"Session": session}).status == 200
    assert camera.stats().sessions == 0


def test_expired_nonces_are_answered_stale(make_camera: Callable[..., Camera]) -> None:
    camera = make_camera(nonce_lifetime=1)
    with RtspClient("127.0.0.1", camera.port) as client:
        challenge = client.request("DESCRIBE", camera.url).header("www-authenticate")
        assert "stale" not in challenge

        def describe(password: str) -> tuple[int, str]:
            header = digest_header(challenge, USER, password, "DESCRIBE", camera.url)
            client.cseq += 1
            client.send_raw((f"DESCRIBE {camera.url} RTSP/1.0\r\nCSeq: {client.cseq}\r\n"
                             f"Authorization: {header}\r\n\r\n").encode())
            reply = client.read_reply()
            return reply.status, reply.headers.get("www-authenticate", "")

        assert describe(PASSWORD)[0] == 200
        time.sleep(2.1)
        status, fresh = describe(PASSWORD)
        assert status == 401
        assert fresh.endswith(", stale=true")
        assert "stale" not in describe("wrong")[1], "a wrong answer is not merely stale"
        challenge = fresh
        assert describe(PASSWORD)[0] == 200

