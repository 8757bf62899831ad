"""``python -m fakehw.camera``: the camera commands without the main ``fakehw`` CLI.

Tests and the benchmark start the daemon this way, so they depend on this package alone.
"""

from fakehw.camera.cli import camera

camera(prog_name="python -m fakehw.camera")
