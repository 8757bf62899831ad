"""How many frames a camera delivers to 1 and to 8 real clients, and what it costs in CPU.

    python -m fakehw.camera.bench [--width 640 --height 360 --fps 15 --seconds 10]

Each run starts a fresh camera in this process and N ffmpeg clients decoding its stream (to
the null muxer, frame-rate passthrough, so every decoded frame counts once). Over a fixed
window it counts the frames each client decoded (from ffmpeg's ``-progress`` output) and the
CPU seconds this process used, which is the camera's: encoder, RTSP server and fan-out.
"""

from __future__ import annotations

import argparse
import subprocess
import threading
import time
from dataclasses import dataclass

from fakehw.camera.camera import Camera
from fakehw.camera.config import CameraConfig


class Client:
    """One ffmpeg decoding the stream; ``frames`` follows its progress reports."""

    def __init__(self, url: str, transport: str) -> None:
        self.frames = 0
        self.proc = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", transport, "-i", url,
             "-fps_mode", "passthrough", "-f", "null", "-", "-progress", "pipe:1",
             "-stats_period", "0.25"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        for line in self.proc.stdout or ():
            if line.startswith("frame="):
                self.frames = int(line.split("=", 1)[1])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._thread.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@dataclass(frozen=True)
class Result:
    clients: int
    fps_min: float
    fps_mean: float
    fps_max: float
    encoded_fps: float
    cpu_seconds: float
    window: float


def measure(config: CameraConfig, clients: int, seconds: float, transport: str) -> Result:
    with Camera(config) as camera:
        url = camera.url_with_credentials(config.username, config.password)
        viewers = [Client(url, transport) for _ in range(clients)]
        try:
            deadline = time.monotonic() + 60
            while any(v.frames == 0 for v in viewers):  # warm-up: every client decoding
                if time.monotonic() > deadline:
                    raise RuntimeError("not every ffmpeg client started decoding within 60 s")
                time.sleep(0.1)
            time.sleep(1.0)  # let ffmpeg's start-up burst of buffered frames pass
            before = [v.frames for v in viewers]
            encoded, cpu, start = camera.stats().frames_encoded, time.process_time(), \
                time.monotonic()
            time.sleep(seconds)
            window = time.monotonic() - start
            cpu = time.process_time() - cpu
            encoded = camera.stats().frames_encoded - encoded
            rates = [(v.frames - b) / window for v, b in zip(viewers, before, strict=True)]
        finally:
            for viewer in viewers:
                viewer.stop()
    return Result(clients, min(rates), sum(rates) / len(rates), max(rates), encoded / window,
                  cpu, window)


def table(config: CameraConfig, transport: str, results: list[Result]) -> str:
    lines = [
        f"camera {config.width}x{config.height} @ {config.fps} fps, H.264 over RTP/{transport}",
        f"{'clients':>7} {'fps/client min':>14} {'mean':>6} {'max':>6} {'encoded fps':>11} "
        f"{'server CPU s':>12} {'CPU %':>6} {'window s':>8}",
    ]
    for r in results:
        lines.append(f"{r.clients:>7} {r.fps_min:>14.1f} {r.fps_mean:>6.1f} {r.fps_max:>6.1f} "
                     f"{r.encoded_fps:>11.1f} {r.cpu_seconds:>12.2f} "
                     f"{100 * r.cpu_seconds / r.window:>6.1f} {r.window:>8.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fakehw.camera.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window per run")
    parser.add_argument("--clients", default="1,8", help="comma-separated client counts")
    parser.add_argument("--transport", choices=["tcp", "udp"], default="tcp")
    args = parser.parse_args(argv)
    config = CameraConfig(name="bench", width=args.width, height=args.height, fps=args.fps,
                          port=0, username="bench", password="bench")  # noqa: S106
    counts = [int(n) for n in args.clients.split(",")]
    results = [measure(config, n, args.seconds, args.transport) for n in counts]
    print(table(config, args.transport, results))


if __name__ == "__main__":
    main()
