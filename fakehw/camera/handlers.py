"""What the camera answers to each RTSP method, in the order FFmpeg's client sends them.

OPTIONS -> DESCRIBE (401 first, then with credentials) -> SETUP -> PLAY -> GET_PARAMETER as
keepalive -> TEARDOWN. Everything but OPTIONS is authenticated, on every request, so a
credential revoked mid-stream fails the client's next keepalive as well as its next login.
A session belongs to the connection that set it up: only that connection may play, pause,
keep alive (GET_PARAMETER, OPTIONS with its Session header, or RTCP receiver reports, see
server.py) or tear it down.
Handlers raise ``RtspStatus`` for any refusal; ``respond`` turns it into a reply with the CSeq.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fakehw.camera import sdp
from fakehw.camera.auth import Identity
from fakehw.camera.rtsp import Request, RtspStatus, format_response, parse_transport
from fakehw.camera.sessions import InterleavedSink, Session, Sink, UdpSink

if TYPE_CHECKING:
    from fakehw.camera.server import CameraServer, Connection

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, GET_PARAMETER, TEARDOWN"
_NOT_ALLOWED = frozenset({"ANNOUNCE", "RECORD", "SET_PARAMETER", "REDIRECT"})
Reply = tuple[int, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class Target:
    """The stream a request names: its aggregate URL as the client spelled the host."""

    url: str
    track: bool


def respond(server: CameraServer, conn: Connection, request: Request) -> bytes:
    try:
        status, headers, body = _dispatch(server, conn, request)
    except RtspStatus as refusal:
        status, headers, body = refusal.status, refusal.headers, b""
    return format_response(status, request.cseq, headers, body)


def _dispatch(server: CameraServer, conn: Connection, request: Request) -> Reply:
    if request.method == "OPTIONS":  # also a keepalive, when it names the session
        if request.session_id is None:
            return 200, [("Public", PUBLIC)], b""
        return 200, [("Public", PUBLIC), _session_header(_owned(server, conn, request))], b""
    if request.method in _NOT_ALLOWED:
        raise RtspStatus(405, f"{request.method} is not supported", [("Allow", PUBLIC)])
    handler = _HANDLERS.get(request.method)
    if handler is None:
        raise RtspStatus(501, f"unknown method {request.method}", [("Public", PUBLIC)])
    target = _target(server, request)
    identity = _authenticate(server, request)
    return handler(server, conn, request, target, identity)


def _target(server: CameraServer, request: Request) -> Target:
    config = server.config
    default_base = f"rtsp://{config.url_host}:{server.port}"
    if request.uri == "*":
        return Target(default_base + config.path, track=False)
    parts = urlsplit(request.uri)
    if parts.scheme and parts.scheme.lower() != "rtsp":
        raise RtspStatus(400, f"{request.uri!r} is not an rtsp:// URL")
    host = parts.netloc.rpartition("@")[2]  # never echo credentials written into the URL
    base = f"rtsp://{host}" if host else default_base
    path = parts.path.rstrip("/")
    if path == config.path:
        return Target(base + config.path, track=False)
    if path == f"{config.path}/{sdp.TRACK}":
        return Target(base + config.path, track=True)
    raise RtspStatus(404, f"no stream at {parts.path!r}; this camera serves {config.path}")


def _authenticate(server: CameraServer, request: Request) -> Identity | None:
    if server.config.auth == "none":
        if server.refuse_logins:
            raise RtspStatus(403, "logins are refused (fault injected)")
        return None
    authenticator, answer = server.authenticator, request.header("authorization")
    identity = authenticator.check(request.method, request.uri, answer)
    if identity is None or server.refuse_logins:
        stale = identity is None and authenticator.stale(request.method, request.uri, answer)
        raise RtspStatus(401, "credentials missing, wrong or refused",
                         [("WWW-Authenticate", authenticator.challenge(stale=stale))])
    return identity


def _owned(server: CameraServer, conn: Connection, request: Request) -> Session:
    """The session the request names, if this connection set it up; others' sessions do not
    exist for it (so another connection, even with the same credentials, cannot end it)."""
    session_id = request.session_id
    if session_id is None:
        raise RtspStatus(455, f"{request.method} needs a Session header: SETUP first")
    session = server.sessions.get(session_id)
    if session is None or server.owners.get(session_id) is not conn:
        raise RtspStatus(454, f"no session {session_id!r}")
    session.touch()
    return session


def _session(server: CameraServer, conn: Connection, request: Request,
             identity: Identity | None) -> Session:
    session = _owned(server, conn, request)
    if session.identity != identity:
        raise RtspStatus(454, f"no session {request.session_id!r}")
    return session


def _streaming(server: CameraServer) -> None:
    if not server.streaming:
        raise RtspStatus(503, "the stream is stopped (fault injected)", [("Retry-After", "5")])


def _session_header(session: Session) -> tuple[str, str]:
    return "Session", f"{session.id};timeout={session.timeout}"


def _describe(server: CameraServer, conn: Connection, request: Request, target: Target,
              identity: Identity | None) -> Reply:
    _streaming(server)
    encoder, config = server.encoder, server.config
    body = sdp.describe(config.name, config.host, config.fps, encoder.sps, encoder.pps)
    return 200, [("Content-Type", "application/sdp"), ("Content-Base", target.url + "/")], \
        body.encode()


def _setup(server: CameraServer, conn: Connection, request: Request, target: Target,
           identity: Identity | None) -> Reply:
    _streaming(server)
    transport = parse_transport(request.header("transport"))
    sink: Sink
    if transport.protocol == "tcp":
        sink = InterleavedSink(conn.writer.transport, transport.channels[0])
    elif server.rtp is None or server.rtcp is None:
        raise RtspStatus(461, "UDP is not available on this camera; use RTP/AVP/TCP")
    else:  # RTP goes to the address the request came from, whatever the header says
        sink = UdpSink(server.rtp, (conn.peer, transport.client_ports[0]), server.rtcp)
    if request.session_id is not None:
        session = _session(server, conn, request, identity)
        if session.playing:
            raise RtspStatus(455, "cannot change the transport of a playing session")
        session.sink = sink
        server.add_session(session, conn)
    else:
        session = Session(Session.new_id(), server.config.session_timeout, sink, identity)
        server.add_session(session, conn)
    if transport.protocol == "tcp":
        a, b = transport.channels
        reply = f"{transport.profile};unicast;interleaved={a}-{b}"
    else:
        a, b = transport.client_ports
        reply = (f"{transport.profile};unicast;client_port={a}-{b};"
                 f"server_port={server.rtp_port}-{server.rtp_port + 1}")
    reply += f";ssrc={session.ssrc:08X}"
    return 200, [("Transport", reply), _session_header(session)], b""


def _play(server: CameraServer, conn: Connection, request: Request, target: Target,
          identity: Identity | None) -> Reply:
    _streaming(server)
    session = _session(server, conn, request, identity)
    info = session.rtp_info(f"{target.url}/{sdp.TRACK}")
    session.play()
    server.encoder.request_keyframe()
    server.update_demand()
    return 200, [_session_header(session), ("Range", "npt=0.000-"), ("RTP-Info", info)], b""


def _pause(server: CameraServer, conn: Connection, request: Request, target: Target,
           identity: Identity | None) -> Reply:
    session = _session(server, conn, request, identity)
    session.playing = False
    server.update_demand()
    return 200, [_session_header(session)], b""


def _get_parameter(server: CameraServer, conn: Connection, request: Request, target: Target,
                   identity: Identity | None) -> Reply:
    if request.session_id is None:
        return 200, [], b""
    return 200, [_session_header(_session(server, conn, request, identity))], b""


def _teardown(server: CameraServer, conn: Connection, request: Request, target: Target,
              identity: Identity | None) -> Reply:
    session = _session(server, conn, request, identity)
    server.teardown(session.id)
    return 200, [], b""


_HANDLERS: dict[str, Callable[[CameraServer, Connection, Request, Target, Identity | None],
                              Reply]] = {
    "DESCRIBE": _describe, "SETUP": _setup, "PLAY": _play, "PAUSE": _pause,
    "GET_PARAMETER": _get_parameter, "TEARDOWN": _teardown,
}
