"""One H.264 encoder per camera, on its own thread, paced by the wall clock.

Encoding is the only costly thing a camera does, and the machines running the test bed have
two cores, so a camera encodes once and every client gets copies of the same packets. It also
encodes only while someone is watching: the frame counter keeps following the clock (frame n
is due at start + n/fps, as a sensor would capture it) but idle cameras cost no CPU. Missed
deadlines skip frames rather than fall behind, so the counter always means "time since start".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av

from fakehw.camera import h264
from fakehw.camera.picture import FramePainter

KEYFRAME_INTERVAL = 1.0  # seconds: a late joiner waits at most this long for a picture


class Encoder:
    """Paints and encodes frames while ``active``, handing each ``AccessUnit`` to ``deliver``."""

    def __init__(self, name: str, width: int, height: int, fps: int, *,
                 deliver: Callable[[h264.AccessUnit], None],
                 on_error: Callable[[BaseException], None]) -> None:
        self.fps = fps
        self._painter = FramePainter(name, width, height)
        self._deliver = deliver
        self._on_error = on_error
        self._codec: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._active = False
        self._want_keyframe = True
        self._last_keyframe = 0.0
        self._start = 0.0
        self.frames_encoded = 0
        self.sps = b""
        self.pps = b""

    def start(self) -> None:
        """Open the codec and encode frame 0 now, so SPS and PPS exist before any DESCRIBE."""
        codec = av.CodecContext.create("libx264", "w")
        codec.width = self._painter.width
        codec.height = self._painter.height
        codec.pix_fmt = "yuv420p"
        codec.time_base = Fraction(1, self.fps)
        codec.framerate = Fraction(self.fps, 1)
        codec.max_b_frames = 0
        codec.options = {
            "preset": "ultrafast", "tune": "zerolatency", "forced-idr": "1",
            # One thread per camera: several cameras share two cores better than one camera
            # spreading slices over both. repeat-headers puts SPS/PPS before every IDR.
            "x264-params": f"keyint={self.fps}:min-keyint={self.fps}:scenecut=0"
                           ":repeat-headers=1:threads=1",
        }
        self._codec = codec
        self._start = time.monotonic()
        self._encode(0)
        if not (self.sps and self.pps):
            raise RuntimeError("libx264 produced no SPS/PPS for the first frame")
        self._thread = threading.Thread(target=self._run, name="camera-encoder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def set_active(self, active: bool) -> None:
        """Encode (True) or only keep counting frames (False); resuming starts with an IDR."""
        if active and not self._active:
            self._want_keyframe = True
        self._active = active

    def request_keyframe(self) -> None:
        """Make the next frame an IDR, so a client that just pressed play sees a picture now."""
        self._want_keyframe = True

    @property
    def frame_number(self) -> int:
        """The frame due now, whether or not it is being encoded."""
        return int((time.monotonic() - self._start) * self.fps)

    def _run(self) -> None:
        try:
            due = self._start + 1 / self.fps
            while not self._stop.wait(max(0.0, due - time.monotonic())):
                tick = self.frame_number
                due = self._start + (tick + 1) / self.fps
                if self._active:
                    self._encode(tick)
        except BaseException as exc:  # reported to the Camera's owner, who re-raises it
            self._on_error(exc)

    def _encode(self, tick: int) -> None:
        frame = av.VideoFrame.from_ndarray(self._painter.paint(tick), format="yuv420p")
        frame.pts = tick
        now = time.monotonic()
        if self._want_keyframe or now - self._last_keyframe >= KEYFRAME_INTERVAL:
            frame.pict_type = av.video.frame.PictureType.I
            self._want_keyframe = False
        for packet in self._codec.encode(frame):
            self._emit(packet, now)

    def _emit(self, packet: Any, now: float) -> None:
        units = h264.split_annexb(bytes(packet))
        for unit in units:
            if h264.nal_type(unit) == h264.NAL_SPS:
                self.sps = unit
            elif h264.nal_type(unit) == h264.NAL_PPS:
                self.pps = unit
        if packet.is_keyframe:
            self._last_keyframe = now
        self.frames_encoded += 1
        payloads = h264.access_unit_payloads(units, self.sps, self.pps)
        timestamp = (packet.pts * 90000 // self.fps) & 0xFFFFFFFF
        self._deliver(h264.AccessUnit(packet.pts, timestamp, bool(packet.is_keyframe),
                                      tuple(payloads)))
