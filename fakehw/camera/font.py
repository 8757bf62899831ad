"""A 5x7 bitmap font, so a person looking at a camera's picture can read its name and counter.

The machine-readable marks are the block grid in ``marks``; this text is for humans watching a
stream in VLC or an ffmpeg snapshot. Writing the few glyphs needed here avoids a dependency on
PIL and on system fonts that differ between machines.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

GLYPH_WIDTH = 5
GLYPH_HEIGHT = 7
ADVANCE = GLYPH_WIDTH + 1  # one blank column between characters

# Each glyph: seven rows of five bits, most significant bit leftmost, as 14 hex digits.
_GLYPHS = {
    "0": "0E11131519110E", "1": "040C040404040E", "2": "0E11010204081F", "3": "1F02040201110E",
    "4": "02060A121F0202", "5": "1F101E0101110E", "6": "0608101E11110E", "7": "1F010204080808",
    "8": "0E11110E11110E", "9": "0E11110F01020C", "A": "0E11111F111111", "B": "1E11111E11111E",
    "C": "0E11101010110E", "D": "1C12111111121C", "E": "1F10101E10101F", "F": "1F10101E101010",
    "G": "0E11101711110F", "H": "1111111F111111", "I": "0E04040404040E",
    "J": "0702020202120C", "K": "11121418141211", "L": "1010101010101F", "M": "111B1515111111",
    "N": "11111915131111", "O": "0E11111111110E", "P": "1E11111E101010", "Q": "0E11111115120D",
    "R": "1E11111E141211", "S": "0F10100E01011E", "T": "1F040404040404", "U": "1111111111110E",
    "V": "11111111110A04", "W": "1111111515150A", "X": "11110A040A1111",
    "Y": "1111110A040404", "Z": "1F01020408101F", " ": "00000000000000", "-": "0000001F000000",
    "_": "0000000000001F", ".": "00000000000C0C", ":": "000C0C000C0C00", "#": "0A0A1F0A1F0A0A",
    "/": "00010204081000", "=": "00001F001F0000", "?": "0E110102040004",
}


def _bitmap(code: str) -> npt.NDArray[np.bool_]:
    rows = [int(code[i:i + 2], 16) for i in range(0, 2 * GLYPH_HEIGHT, 2)]
    return np.array([[(row >> (4 - x)) & 1 for x in range(GLYPH_WIDTH)] for row in rows], bool)


GLYPHS: dict[str, npt.NDArray[np.bool_]] = {ch: _bitmap(code) for ch, code in _GLYPHS.items()}


def glyph(char: str) -> npt.NDArray[np.bool_]:
    """The bitmap of ``char``: lowercase reads as uppercase, anything unknown as ``?``."""
    return GLYPHS.get(char.upper(), GLYPHS["?"])


def render(text: str, scale: int = 1) -> npt.NDArray[np.bool_]:
    """``text`` as a boolean image, ``7*scale`` rows by ``(6*len - 1)*scale`` columns."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    if not text:
        return np.zeros((GLYPH_HEIGHT * scale, 0), bool)
    cells = [np.pad(glyph(ch), ((0, 0), (0, 1))) for ch in text]
    line = np.concatenate(cells, axis=1)[:, :-1]
    return np.kron(line, np.ones((scale, scale), bool)).astype(bool)


def text_width(length: int, scale: int) -> int:
    """Pixels taken by ``length`` characters at ``scale``."""
    return max(0, (ADVANCE * length - 1) * scale)


def draw(plane: npt.NDArray[np.uint8], text: str, x: int, y: int, *, scale: int,
         value: int) -> None:
    """Paint ``text`` into ``plane`` at (x, y), clipped to the plane, with pixel ``value``."""
    bitmap = render(text, scale)
    height = min(bitmap.shape[0], plane.shape[0] - y)
    width = min(bitmap.shape[1], plane.shape[1] - x)
    if height <= 0 or width <= 0:
        return
    region = plane[y:y + height, x:x + width]
    region[bitmap[:height, :width]] = value
