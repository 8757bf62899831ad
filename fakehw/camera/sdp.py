"""The session description a DESCRIBE returns (RFC 4566, with RFC 6184's H.264 parameters).

The SDP carries the SPS and PPS (``sprop-parameter-sets``) so a client can set up its decoder
before the first keyframe arrives, and names the single track ``trackID=0``, which clients
resolve against ``Content-Base`` to build the SETUP URL.
"""

from __future__ import annotations

from fakehw.camera import h264
from fakehw.camera.sessions import PAYLOAD_TYPE

TRACK = "trackID=0"


def describe(name: str, host: str, fps: int, sps: bytes, pps: bytes) -> str:
    """SDP for the camera ``name`` whose encoder produced ``sps`` and ``pps``."""
    family = "IP6" if ":" in host else "IP4"
    any_address = "::" if family == "IP6" else "0.0.0.0"  # noqa: S104 - SDP's "no address"
    fmtp = (f"packetization-mode=1;profile-level-id={h264.profile_level_id(sps)};"
            f"sprop-parameter-sets={h264.sprop_parameter_sets(sps, pps)}")
    lines = [
        "v=0",
        f"o=- 1 1 IN {family} {host}",
        f"s=fakehw camera {name}",
        f"c=IN {family} {any_address}",
        "t=0 0",
        "a=control:*",
        "a=range:npt=0-",
        f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
        f"a=rtpmap:{PAYLOAD_TYPE} H264/90000",
        f"a=fmtp:{PAYLOAD_TYPE} {fmtp}",
        f"a=framerate:{fps}",
        f"a=control:{TRACK}",
    ]
    return "\r\n".join(lines) + "\r\n"
