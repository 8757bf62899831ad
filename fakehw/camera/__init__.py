"""Emulated RTSP IP cameras: a real RTSP 1.0 server streaming H.264 that names itself.

Each camera encodes one picture stream (``picture``, ``encoder``) and serves it to any number
of clients over RTP on TCP or UDP (``server``, ``handlers``), behind Basic or Digest auth whose
credentials change at run time (``auth``). Faults are injected through ``Camera``; several
cameras run in one process under ``daemon``, steered over a unix socket by ``CameraControl``.
Frames carry marks that ``read_frame_marks`` decodes: which camera, which frame.
"""

from fakehw.camera.camera import Camera, CameraStats
from fakehw.camera.config import CameraConfig
from fakehw.camera.marks import MarksError, camera_id, read_frame_marks

__all__ = ["Camera", "CameraConfig", "CameraStats", "MarksError", "camera_id",
           "read_frame_marks"]
