"""The camera's picture: the marks grid on top, the name and frame counter as text below.

Frames are painted straight into a yuv420p buffer, the encoder's input format, so no colour
conversion runs per frame. Everything that does not change (chroma, background, the name) is
painted once; each frame only redraws the grid and the counter line.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fakehw.camera import font
from fakehw.camera.marks import WHITE, camera_id, grid_height, paint_marks

BACKGROUND = 48  # dark grey: the text area is told apart from black grid cells at a glance
_COUNTER_CHARS = len("#4294967295")


class FramePainter:
    """Paints frame ``n`` of the camera ``name`` as one planar yuv420p array."""

    def __init__(self, name: str, width: int, height: int) -> None:
        self.name = name
        self.width = width
        self.height = height
        self.camera_id = camera_id(name)
        self.buffer = np.full((height * 3 // 2, width), 128, np.uint8)
        self.luma: npt.NDArray[np.uint8] = self.buffer[:height]
        self._text_top = grid_height(height)
        self.luma[self._text_top:] = BACKGROUND
        self._scale, self._name_y, self._counter_y = self._layout()
        if self._name_y is not None:
            fit = max(0, (width - 2 * self._scale) // (font.ADVANCE * self._scale))
            font.draw(self.luma, name[:fit], self._scale, self._name_y, scale=self._scale,
                      value=WHITE)

    def _layout(self) -> tuple[int, int | None, int | None]:
        """Text scale and the rows of the name line and of the counter line (None = no room)."""
        room = self.height - self._text_top
        widest = font.text_width(_COUNTER_CHARS, 1) + 2
        two_lines = min(room // 17, self.width // widest)
        if two_lines >= 1:
            gap = (room - 14 * two_lines) // 3
            top = self._text_top + gap
            return two_lines, top, top + 7 * two_lines + gap
        one_line = min(room // 9, self.width // widest)
        if one_line >= 1:
            return one_line, None, self._text_top + (room - 7 * one_line) // 2
        return 1, None, None

    def paint(self, frame_number: int) -> npt.NDArray[np.uint8]:
        """The buffer holding frame ``frame_number`` (reused: copy it to keep it)."""
        paint_marks(self.luma, self.camera_id, frame_number)
        if self._counter_y is not None:
            scale = self._scale
            self.luma[self._counter_y:self._counter_y + 7 * scale] = BACKGROUND
            text = f"#{frame_number & 0xFFFFFFFF}"
            font.draw(self.luma, text, scale, self._counter_y, scale=scale, value=WHITE)
        return self.buffer
