"""Debian's ffmpeg and ffprobe as RTSP clients, with the frames they decode read back.

``FfmpegViewer`` runs ffmpeg decoding a stream to raw gray pictures on stdout; a thread reads
each picture's marks (camera id, frame number), so a test asserts on what a real client saw.
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field

import numpy as np

from fakehw.camera import MarksError, read_frame_marks


def ffprobe(url: str, transport: str = "tcp",
            timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", transport,
         "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", url],
        capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)


@dataclass
class FfmpegViewer:
    """ffmpeg playing ``url`` and decoding every frame; ``marks`` fills as frames arrive."""

    url: str
    width: int
    height: int
    transport: str = "tcp"
    marks: list[tuple[int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stderr: bytes = b""

    def __post_init__(self) -> None:
        self.proc = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", self.transport,
             "-i", self.url, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray",
             "-"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._changed = threading.Condition()
        self._done = False
        self._threads = [threading.Thread(target=self._read_frames, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _read_frames(self) -> None:
        size = self.width * self.height
        assert self.proc.stdout is not None
        while True:
            data = self.proc.stdout.read(size)
            if len(data) < size:
                break
            picture = np.frombuffer(data, np.uint8).reshape(self.height, self.width)
            with self._changed:
                try:
                    self.marks.append(read_frame_marks(picture))
                except MarksError as exc:
                    self.errors.append(str(exc))
                self._changed.notify_all()
        with self._changed:
            self._done = True
            self._changed.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    def wait_frames(self, count: int, timeout: float) -> list[tuple[int, int]]:
        """The marks of the first ``count`` frames; AssertionError if they do not come."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.marks) >= count or self._done, timeout)
            got = list(self.marks)
        assert len(got) >= count, (f"ffmpeg decoded {len(got)} of {count} frames; "
                                   f"stderr: {self.stderr.decode(errors='replace')[-500:]}")
        return got

    def wait_exit(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        for thread in self._threads:
            thread.join(timeout)
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for thread in self._threads:
            thread.join(5)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
