"""Whether an RTSP device accepts a credential, asked by a real client: ffprobe (FFmpeg).

ffprobe sends DESCRIBE with the URL's user and password (Basic or Digest, as the device
challenges) and reads the stream's first bytes. A 401 is the device refusing the
credential; anything else that fails (no route, no ffprobe, a timeout) says nothing about the
credential and is an error, never a refusal.
"""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import urlsplit

from dra_conformance.errors import ConformanceError

TIMEOUT_SECONDS = 15.0


class RtspProbeError(ConformanceError):
    """The device could not be asked: the answer says nothing about the credential."""


def accepts(url: str) -> bool:
    """True when the device serves ``url``'s stream to its credentials, False on a 401."""
    if urlsplit(url).scheme not in ("rtsp", "rtsps"):
        raise RtspProbeError(f"{url!r} is no rtsp:// URL; the suite can check RTSP devices only")
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise RtspProbeError("ffprobe is not installed (Debian: apt-get install ffmpeg)")
    try:
        done = subprocess.run(
            [ffprobe, "-v", "error", "-rtsp_transport", "tcp", "-probesize", "32",
             "-analyzeduration", "0", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
             "-i", url], capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RtspProbeError(f"ffprobe got no answer within {TIMEOUT_SECONDS:.0f}s") from exc
    if done.returncode == 0:
        return True
    if "401 Unauthorized" in done.stderr:
        return False
    raise RtspProbeError(f"ffprobe failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
