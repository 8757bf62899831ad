"""The camera's RTSP server over real sockets, driven by a raw client that sees every byte."""

from __future__ import annotations

import base64
import itertools
import socket
import time
from collections.abc import Callable

import av
import pytest
from camera_testbed import PASSWORD, USER
from rtsp_client import Packet, RtspClient, wait_until

from fakehw.camera import Camera, CameraConfig, camera_id, handlers, read_frame_marks
from fakehw.camera.h264 import MTU
from fakehw.errors import CameraError

pytestmark = pytest.mark.socket


def connect(camera: Camera, auth: str = "digest") -> RtspClient:
    client = RtspClient("127.0.0.1", camera.port)
    client.auth = (auth, USER, PASSWORD)
    return client


def play_tcp(client: RtspClient, camera: Camera) -> tuple[str, dict[str, str]]:
    """DESCRIBE, SETUP over TCP and PLAY; the session id and the RTP-Info fields."""
    assert client.request("DESCRIBE", camera.url).status == 200
    setup = client.request("SETUP", camera.url + "/trackID=0",
                           {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
    assert setup.status == 200, setup
    session = setup.header("session").split(";")[0]
    play = client.request("PLAY", camera.url + "/", {"Session": session, "Range": "npt=0.000-"})
    assert play.status == 200
    info = dict(p.split("=", 1) for p in play.header("rtp-info").split(";")[1:])
    return session, info


def receive_pictures(client: RtspClient, count: int) -> list[list[Packet]]:
    """The RTP packets of the next ``count`` pictures (split on the marker bit)."""
    pictures: list[list[Packet]] = [[]]
    deadline = time.monotonic() + 10 + count
    while len(pictures) <= count:
        assert time.monotonic() < deadline, f"{count} pictures did not come (marker bits?)"
        channel, data = client.read_packet(timeout=5)
        if channel != 0:
            continue
        pictures[-1].append(Packet(data))
        if pictures[-1][-1].marker:
            pictures.append([])
    return pictures[:count]


def drain(client: RtspClient, quiet: float, limit: float = 5.0) -> bytes | None:
    """Read packets until none comes for ``quiet`` seconds; the last one read, if any.

    AssertionError if packets keep coming for ``limit`` seconds: the stream did not stop.
    """
    last = None
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            last = client.read_rtp(timeout=quiet)[1]
        except TimeoutError:
            return last
    raise AssertionError(f"packets kept coming for {limit} s")


def nal_units(picture: list[Packet]) -> list[bytes]:
    """Reassemble RFC 6184 payloads (single NAL units and FU-A) into NAL units."""
    units: list[bytes] = []
    for packet in picture:
        payload = packet.payload
        if payload[0] & 0x1F == 28:
            if payload[1] & 0x80:
                units.append(bytes([(payload[0] & 0xE0) | (payload[1] & 0x1F)]))
            units[-1] += payload[2:]
        else:
            units.append(payload)
    return units


def test_options_needs_no_auth_and_lists_get_parameter(camera: Camera) -> None:
    with RtspClient("127.0.0.1", camera.port) as client:
        reply = client.request("OPTIONS", camera.url)
    assert reply.status == 200
    assert "GET_PARAMETER" in reply.header("public")


def test_describe_challenges_then_returns_sdp(camera: Camera) -> None:
    with RtspClient("127.0.0.1", camera.port) as client:
        challenge = client.request("DESCRIBE", camera.url)
        assert challenge.status == 401
        assert challenge.header("www-authenticate").startswith("Digest realm=")
        client.auth = ("digest", USER, PASSWORD)
        reply = client.request("DESCRIBE", camera.url, {"Accept": "application/sdp"})
    assert reply.status == 200
    assert reply.header("content-type") == "application/sdp"
    assert reply.header("content-base") == camera.url + "/"
    sdp = reply.body.decode()
    assert "m=video 0 RTP/AVP 96" in sdp
    assert "a=rtpmap:96 H264/90000" in sdp
    assert "a=control:trackID=0" in sdp
    fmtp = next(line for line in sdp.splitlines() if line.startswith("a=fmtp:96 "))
    params = dict(p.split("=", 1) for p in fmtp.split(" ", 1)[1].split(";"))
    assert params["packetization-mode"] == "1"
    sps, pps = (base64.b64decode(p) for p in params["sprop-parameter-sets"].split(","))
    assert (sps[0] & 0x1F, pps[0] & 0x1F) == (7, 8)
    assert params["profile-level-id"] == sps[1:4].hex().upper()


def test_basic_auth_camera(make_camera: Callable[..., Camera]) -> None:
    camera = make_camera(auth="basic")
    with RtspClient("127.0.0.1", camera.port) as client:
        assert client.request("DESCRIBE", camera.url).header("www-authenticate").startswith(
            "Basic ")
        client.auth = ("basic", USER, "wrong")
        assert client.request("DESCRIBE", camera.url).status == 401
        client.auth = ("basic", USER, PASSWORD)
        assert client.request("DESCRIBE", camera.url).status == 200


def test_tcp_stream_is_rfc6184_h264_with_exact_rtp_info(camera: Camera) -> None:
    decoder = av.CodecContext.create("h264", "r")
    with connect(camera) as client:
        _, info = play_tcp(client, camera)
        pictures = receive_pictures(client, 12)
    first = pictures[0][0]
    assert (first.seq, first.timestamp) == (int(info["seq"]), int(info["rtptime"]))
    packets = [p for picture in pictures for p in picture]
    assert all(len(p.raw) <= MTU and p.payload_type == 96 for p in packets)
    assert [p.seq for p in packets] == [(first.seq + i) & 0xFFFF for i in range(len(packets))]
    assert all(p.marker == (i == len(pic) - 1) for pic in pictures for i, p in enumerate(pic))
    assert [u[0] & 0x1F for u in nal_units(pictures[0])][:2] == [7, 8]  # SPS, PPS first
    assert 5 in [u[0] & 0x1F for u in nal_units(pictures[0])]  # then an IDR slice
    assert any(p.payload[0] & 0x1F == 28 for p in packets), "a 320x240 IDR needs FU-A"
    steps = [b[0].timestamp - a[0].timestamp for a, b in itertools.pairwise(pictures)]
    assert all(step > 0 and step % 9000 == 0 for step in steps)  # 90 kHz clock at 10 fps
    marks = []
    for picture in pictures:
        stream = b"".join(b"\x00\x00\x00\x01" + u for u in nal_units(picture))
        for packet in decoder.parse(stream):
            marks += [read_frame_marks(f.to_ndarray(format="gray")) for f in decoder.decode(packet)]
    assert len(marks) >= 11
    assert {m[0] for m in marks} == {camera_id("cam0")}
    numbers = [m[1] for m in marks]
    assert numbers == sorted(set(numbers))


def test_udp_stream_goes_to_the_client_port(camera: Camera) -> None:
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    rtp.settimeout(5)
    port = rtp.getsockname()[1]
    with rtp, connect(camera) as client:
        assert client.request("DESCRIBE", camera.url).status == 200
        setup = client.request("SETUP", camera.url + "/trackID=0",
                               {"Transport": f"RTP/AVP/UDP;unicast;client_port={port}-{port + 1}"})
        transport = setup.header("transport")
        assert f"client_port={port}-{port + 1}" in transport
        server_port = int(transport.split("server_port=")[1].split("-")[0])
        session = setup.header("session").split(";")[0]
        assert client.request("PLAY", camera.url, {"Session": session}).status == 200
        data, sender = rtp.recvfrom(2048)
    assert sender == ("127.0.0.1", server_port)
    assert Packet(data).payload[0] & 0x1F == 7  # starts with the SPS of a keyframe


@pytest.mark.parametrize(("method", "uri", "headers", "status"), [
    ("DESCRIBE", "rtsp://127.0.0.1:{port}/nothing", {}, 404),
    ("PLAY", "rtsp://127.0.0.1:{port}/stream", {"Session": "deadbeef"}, 454),
    ("PLAY", "rtsp://127.0.0.1:{port}/stream", {}, 455),
    ("SETUP", "rtsp://127.0.0.1:{port}/stream/trackID=0",
     {"Transport": "RTP/AVP;multicast"}, 461),
    ("RECORD", "rtsp://127.0.0.1:{port}/stream", {}, 405),
    ("FROBNICATE", "rtsp://127.0.0.1:{port}/stream", {}, 501),
    ("DESCRIBE", "http://127.0.0.1:{port}/stream", {}, 400),
])
def test_bad_requests_get_4xx(camera: Camera, method: str, uri: str, headers: dict[str, str],
                              status: int) -> None:
    with connect(camera) as client:
        assert client.request(method, uri.format(port=camera.port), headers).status == status
        assert client.request("OPTIONS", "*").status == 200  # and the connection goes on


@pytest.mark.parametrize("garbage", [
    b"HELLO\r\n\r\n",
    b"OPTIONS * RTSP/1.0\r\n\r\n",
    b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -5\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    b"OPTIONS * RTSP/1.0\r\nX: " + b"a" * 10000 + b"\r\n\r\n",
])
def test_malformed_requests_get_400_and_the_server_serves_on(camera: Camera,
                                                             garbage: bytes) -> None:
    with RtspClient("127.0.0.1", camera.port) as client:
        client.send_raw(garbage)
        assert client.read_reply().status == 400
        client.wait_closed(timeout=5)
    with RtspClient("127.0.0.1", camera.port) as client:
        assert client.request("OPTIONS", "*").status == 200


def test_505_echoes_cseq(camera: Camera) -> None:
    with RtspClient("127.0.0.1", camera.port) as client:
        client.send_raw(b"OPTIONS * RTSP/2.0\r\nCSeq: 7\r\n\r\n")
        reply = client.read_reply()
    assert (reply.status, reply.header("cseq")) == (505, "7")


def test_sessions_expire_without_keepalive(make_camera: Callable[..., Camera]) -> None:
    camera = make_camera(session_timeout=1)
    with connect(camera) as client:
        session, _ = play_tcp(client, camera)
        assert camera.stats().clients == 1
        client.wait_closed(timeout=5)  # the server hangs up once the session expires
    assert camera.stats().sessions == 0
    with connect(camera) as other:
        reply = other.request("GET_PARAMETER", camera.url, {"Session": session})
    assert reply.status == 454


def test_keepalives_keep_a_session(make_camera: Callable[..., Camera]) -> None:
    camera = make_camera(session_timeout=1)
    with connect(camera) as client:
        session, _ = play_tcp(client, camera)
        deadline = time.monotonic() + 3  # three timeouts
        while time.monotonic() < deadline:
            reply = client.request("GET_PARAMETER", camera.url, {"Session": session})
            assert reply.status == 200
            assert reply.header("session").startswith(f"{session};timeout=1")
            time.sleep(0.3)
        assert camera.stats().clients == 1
        client.read_rtp(timeout=5)


def test_revoking_a_credential_ends_its_sessions(camera: Camera) -> None:
    camera.add_credential("viewer", "pw1")
    with RtspClient("127.0.0.1", camera.port) as viewer, connect(camera) as admin:
        viewer.auth = ("digest", "viewer", "pw1")
        play_tcp(viewer, camera)
        play_tcp(admin, camera)
        viewer.read_rtp()
        assert camera.revoke_credential("viewer")
        viewer.wait_closed(timeout=5)
        assert camera.stats().clients == 1  # the admin still watches
        admin.read_rtp()
    assert not camera.revoke_credential("viewer")


def test_a_new_password_ends_sessions_opened_with_the_old(camera: Camera) -> None:
    with connect(camera) as client:
        play_tcp(client, camera)
        camera.add_credential(USER, "rotated")
        client.wait_closed(timeout=5)
    with connect(camera) as stale:
        assert stale.request("DESCRIBE", camera.url).status == 401
    with RtspClient("127.0.0.1", camera.port) as fresh:
        fresh.auth = ("digest", USER, "rotated")
        assert fresh.request("DESCRIBE", camera.url).status == 200


def test_refuse_logins_fault(make_camera: Callable[..., Camera]) -> None:
    camera = make_camera()
    open_camera = make_camera(name="cam1", auth="none")
    camera.set_refuse_logins(True)
    open_camera.set_refuse_logins(True)
    with connect(camera) as client, RtspClient("127.0.0.1", open_camera.port) as anonymous:
        assert client.request("OPTIONS", "*").status == 200
        assert client.request("DESCRIBE", camera.url).status == 401
        assert anonymous.request("DESCRIBE", open_camera.url).status == 403
        camera.set_refuse_logins(False)
        open_camera.set_refuse_logins(False)
        assert client.request("DESCRIBE", camera.url).status == 200
        assert anonymous.request("DESCRIBE", open_camera.url).status == 200


def test_stop_stream_fault(camera: Camera) -> None:
    with connect(camera) as client:
        play_tcp(client, camera)
        client.read_rtp()
        camera.set_streaming(False)
        drain(client, quiet=1.0)
        with connect(camera) as other:
            reply = other.request("DESCRIBE", camera.url)
            assert reply.status == 503
        assert camera.stats().streaming is False
        camera.set_streaming(True)
        first = Packet(client.read_rtp(timeout=5)[1])
        assert first.payload[0] & 0x1F == 7  # resumes with a keyframe's SPS


def test_encoding_stops_when_nobody_watches(camera: Camera) -> None:
    before = camera.stats().frames_encoded
    with connect(camera) as client:
        play_tcp(client, camera)
        receive_pictures(client, 5)
    assert camera.stats().frames_encoded >= before + 5
    wait_until(lambda: camera.stats().sessions == 0, timeout=5)
    idle = camera.stats().frames_encoded
    time.sleep(0.5)  # five frame times
    assert camera.stats().frames_encoded <= idle + 1


def test_port_in_use_is_a_camera_error_naming_the_address() -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    with holder:
        camera = Camera(CameraConfig(name="busy", port=port))
        with pytest.raises(CameraError, match=rf"127\.0\.0\.1:{port}.*port 0"):
            camera.start()
        camera.stop()


def test_server_errors_reach_the_owner(camera: Camera, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("handler bug")

    monkeypatch.setitem(handlers._HANDLERS, "DESCRIBE", broken)
    with connect(camera) as client:
        assert client.request("DESCRIBE", camera.url).status == 500
        client.wait_closed(timeout=5)
    with RtspClient("127.0.0.1", camera.port) as client:
        assert client.request("OPTIONS", "*").status == 200
    with pytest.raises(RuntimeError, match="handler bug"):
        camera.check_errors()


def test_a_camera_runs_once(camera: Camera) -> None:
    camera.stop()
    with pytest.raises(CameraError, match="new Camera"):
        camera.start()


def test_pause_then_play_continues_the_numbering(camera: Camera) -> None:
    with connect(camera) as client:
        session, _ = play_tcp(client, camera)
        last = receive_pictures(client, 2)[-1][-1]
        assert client.request("PAUSE", camera.url, {"Session": session}).status == 200
        in_flight = drain(client, quiet=0.5)
        if in_flight:
            last = Packet(in_flight)
        play = client.request("PLAY", camera.url, {"Session": session})
        info = dict(p.split("=", 1) for p in play.header("rtp-info").split(";")[1:])
        first = Packet(client.read_rtp()[1])
    assert first.seq == int(info["seq"])
    assert first.payload[0] & 0x1F == 7  # a keyframe first
    assert first.seq == (last.seq + 1) & 0xFFFF


def test_credentials_in_the_request_url_are_not_echoed(camera: Camera) -> None:
    url = camera.url.replace("rtsp://", f"rtsp://{USER}:{PASSWORD}@")
    with connect(camera) as client:
        reply = client.request("DESCRIBE", url)
    assert reply.status == 200
    assert reply.header("content-base") == camera.url + "/"
