"""The RTSP server of one camera: connections, the sessions they own, and fanning pictures out.

Everything here runs on one asyncio event loop, which ``Camera`` runs on its own thread, so
sessions need no locks: the encoder thread hands pictures over with ``call_soon_threadsafe``
and the owner's calls arrive the same way. A session lives as long as its connection and no
longer than its timeout without a sign of life (a request naming it, or an RTCP receiver
report); when it ends, its connection is closed, so a client whose credential was revoked or
who stopped sending keepalives notices at once. Each playing session also gets an RTCP
sender report every few seconds (rtcp.py).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fakehw.camera import handlers, rtcp, rtsp
from fakehw.camera.auth import Authenticator
from fakehw.camera.config import CameraConfig
from fakehw.camera.encoder import Encoder
from fakehw.camera.h264 import AccessUnit
from fakehw.camera.sessions import InterleavedSink, Session, UdpSink
from fakehw.errors import CameraError

REAP_INTERVAL = 0.25  # seconds between checks for expired sessions
HEAD_TIMEOUT = 10.0  # seconds to finish a request once its first byte came (slow clients)
_CSEQ = re.compile(rb"(?im)^cseq:[ \t]*(\d{1,10})[ \t]*\r?$")


@dataclass(eq=False)
class Connection:
    """One client's RTSP connection and the sessions it set up."""

    writer: asyncio.StreamWriter
    peer: str
    sessions: set[str] = field(default_factory=set)

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    def close(self) -> None:
        self.writer.close()


class _Discard(asyncio.DatagramProtocol):
    """The UDP RTP port: clients' NAT probes are read and dropped."""


class _RtcpPort(asyncio.DatagramProtocol):
    """The UDP RTCP port: clients' receiver reports keep their sessions alive."""

    def __init__(self, server: CameraServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if rtcp.is_report(data):
            self.server.rtcp_from(lambda s: isinstance(s.sink, UdpSink)
                                  and s.sink.rtcp_address == (addr[0], addr[1]))


def _interleaved_from(conn: Connection, channel: int, session: Session) -> bool:
    """Whether RTCP on ``channel`` of ``conn`` is ``session``'s."""
    return (session.id in conn.sessions and isinstance(session.sink, InterleavedSink)
            and session.sink.owns_rtcp(channel))


class CameraServer:
    """Serves one camera's stream to any number of clients; all methods run on the loop."""

    def __init__(self, config: CameraConfig, authenticator: Authenticator, encoder: Encoder,
                 on_error: Callable[[BaseException], None]) -> None:
        self.config = config
        self.authenticator = authenticator
        self.encoder = encoder
        self.on_error = on_error
        self.streaming = True
        self.refuse_logins = False
        self.sessions: dict[str, Session] = {}
        self.owners: dict[str, Connection] = {}
        self.connections: set[Connection] = set()
        self.port = 0
        self.rtp_port = 0
        self.rtp: asyncio.DatagramTransport | None = None
        self.rtcp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._udp: list[asyncio.BaseTransport] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        host, port = self.config.host, self.config.port
        try:
            self._server = await asyncio.start_server(self._accept, host, port,
                                                      limit=rtsp.MAX_HEAD)
        except OSError as exc:
            raise CameraError(
                f"camera {self.config.name!r} cannot listen on {self.config.url_host}:{port}: "
                f"{exc.strerror}; free the port (see `ss -ltnp 'sport = :{port}'`), pick "
                "another port, or use port 0 for any free one") from exc
        self.port = self._server.sockets[0].getsockname()[1]
        await self._bind_udp()
        self._spawn(self._reap())

    async def _bind_udp(self) -> None:
        """An even RTP port and the odd RTCP port above it, as RFC 3550 pairs them."""
        loop = asyncio.get_running_loop()
        for _ in range(50):
            rtp, _ = await loop.create_datagram_endpoint(_Discard, (self.config.host, 0))
            port = rtp.get_extra_info("sockname")[1]
            if port % 2 == 0:
                try:
                    control, _ = await loop.create_datagram_endpoint(
                        lambda: _RtcpPort(self), (self.config.host, port + 1))
                except OSError:
                    pass
                else:
                    self.rtp, self.rtcp, self.rtp_port = rtp, control, port
                    self._udp = [rtp, control]
                    return
            rtp.close()
        raise CameraError(f"camera {self.config.name!r} found no free pair of UDP ports on "
                          f"{self.config.host}; close other RTP servers and retry")

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        for transport in self._udp:
            transport.close()
        if self._server is not None:
            await self._server.wait_closed()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)  # so close() waits for it
        conn = Connection(writer, str(writer.get_extra_info("peername")[0]))
        self.connections.add(conn)
        try:
            await self._converse(reader, conn)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass  # the client left, or sat idle without a session
        except asyncio.CancelledError:
            pass  # the camera is stopping
        except Exception as exc:  # a bug: answer 500, keep serving others, tell the owner
            self.on_error(exc)
            conn.write(rtsp.format_response(500, None, []))
        finally:
            self.drop_connection(conn)
            if task is not None:
                self._tasks.discard(task)

    async def _converse(self, reader: asyncio.StreamReader, conn: Connection) -> None:
        while not conn.writer.is_closing():
            idle = None if conn.sessions else self.config.session_timeout
            first = await asyncio.wait_for(reader.readexactly(1), idle)
            if first == b"$":  # interleaved data from the client: its RTCP reports
                header = await reader.readexactly(3)
                data = await reader.readexactly(int.from_bytes(header[1:3], "big"))
                if rtcp.is_report(data):
                    self.rtcp_from(partial(_interleaved_from, conn, header[0]))
                continue
            if first in (b"\r", b"\n"):
                continue  # stray line ends between requests
            try:
                head = first + await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"),
                                                      HEAD_TIMEOUT)
            except (asyncio.LimitOverrunError, asyncio.IncompleteReadError, TimeoutError):
                conn.write(rtsp.format_response(400, None, []))
                return
            try:
                request = rtsp.parse_head(head)
                request.body = await asyncio.wait_for(
                    reader.readexactly(rtsp.content_length(request)), HEAD_TIMEOUT)
            except rtsp.RtspStatus as status:  # the stream can no longer be trusted: close
                match = _CSEQ.search(head)
                cseq = match.group(1).decode() if match else None
                conn.write(rtsp.format_response(status.status, cseq, status.headers))
                return
            try:
                reply = handlers.respond(self, conn, request)
            except Exception as exc:  # a bug: answer 500, hang up, keep serving others
                self.on_error(exc)
                conn.write(rtsp.format_response(500, request.cseq, []))
                return
            conn.write(reply)

    def add_session(self, session: Session, conn: Connection) -> None:
        """Register ``session`` as owned by ``conn`` (moving it, on a SETUP from another)."""
        previous = self.owners.get(session.id)
        if previous is not None:
            previous.sessions.discard(session.id)
        self.sessions[session.id] = session
        self.owners[session.id] = conn
        conn.sessions.add(session.id)

    def teardown(self, session_id: str, close: bool = False) -> None:
        """End a session; with ``close``, also hang up its connection so the client notices."""
        self.sessions.pop(session_id, None)
        conn = self.owners.pop(session_id, None)
        if conn is not None:
            conn.sessions.discard(session_id)
            if close:
                conn.close()
        self.update_demand()

    def drop_connection(self, conn: Connection) -> None:
        for session_id in list(conn.sessions):
            self.teardown(session_id)
        self.connections.discard(conn)
        conn.close()

    def rtcp_from(self, sender: Callable[[Session], bool]) -> None:
        """A receiver report arrived: the sessions it comes from are alive."""
        for session in self.sessions.values():
            if sender(session):
                session.touch()

    async def _reap(self) -> None:
        """End expired sessions; send the sender reports that are due."""
        try:
            while True:
                await asyncio.sleep(REAP_INTERVAL)
                now = time.monotonic()
                for session_id, session in list(self.sessions.items()):
                    if session.expired(now):
                        self.teardown(session_id, close=True)
                    elif self.streaming and session.report_due(now):
                        session.send_report(now, self.cname)
        except Exception as exc:  # a bug: sessions would never expire again
            self.on_error(exc)

    @property
    def cname(self) -> str:
        """The camera's RTCP CNAME (RFC 3550 6.5.1): user@host, stable for the camera."""
        return f"{self.config.name}@{self.config.url_host}"

    def revalidate(self) -> None:
        """End every session whose credential is no longer accepted (revoked or changed)."""
        for session_id, session in list(self.sessions.items()):
            who = session.identity
            if who is not None and not self.authenticator.credentials.valid(who.username,
                                                                            who.password):
                self.teardown(session_id, close=True)

    def set_streaming(self, streaming: bool) -> None:
        self.streaming = streaming
        if streaming:
            for session in self.sessions.values():
                if session.playing:
                    session.play()  # restart each client at the next keyframe
        self.update_demand()

    def update_demand(self) -> None:
        """Encode only while the stream is on and someone is playing it."""
        watching = any(s.playing for s in self.sessions.values())
        self.encoder.set_active(self.streaming and watching)

    def broadcast(self, unit: AccessUnit) -> None:
        if not self.streaming:
            return
        for session in list(self.sessions.values()):
            session.send(unit)
