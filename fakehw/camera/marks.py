"""Machine-readable marks in every frame: which camera sent it and which frame it is.

A test (or the conformance suite) that decodes a stream must tell whether it is watching the
right camera and whether the picture is live. Text would need OCR, so the top 5/8 of the frame
is a 10x8 grid of large black or white cells carrying 80 bits: the camera id (a stable 32-bit
hash of its name), the frame number and a CRC-16 over both. Cells are big enough to survive
H.264 compression and any rescaling, because the grid is laid out in fractions of the frame:
the reader only needs the decoded picture, not the camera's resolution.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from fakehw.errors import CameraError

COLUMNS = 10
ROWS = 8
BLACK = 16  # video-range luma, what decoders expect from a camera
WHITE = 235


class MarksError(CameraError, ValueError):
    """A picture does not carry readable marks (wrong shape, or the checksum does not match)."""


def camera_id(name: str) -> int:
    """The 32-bit id a camera named ``name`` paints: stable across runs and machines."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


def grid_height(frame_height: int) -> int:
    """Rows of pixels the grid takes at the top of a frame ``frame_height`` tall."""
    return frame_height * 5 // 8


def cell_edges(width: int, height: int) -> tuple[list[int], list[int]]:
    """Column and row boundaries of the grid in a ``width`` x ``height`` frame."""
    grid = grid_height(height)
    xs = [i * width // COLUMNS for i in range(COLUMNS + 1)]
    ys = [j * grid // ROWS for j in range(ROWS + 1)]
    return xs, ys


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: detects a misread cell, and an all-black frame is never valid."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def encode_bits(cam_id: int, frame_number: int) -> npt.NDArray[np.bool_]:
    """The ROWS x COLUMNS cell pattern for a camera id and a frame number (mod 2**32)."""
    payload = (cam_id & 0xFFFFFFFF).to_bytes(4, "big")
    payload += (frame_number & 0xFFFFFFFF).to_bytes(4, "big")
    payload += crc16(payload).to_bytes(2, "big")
    bits = np.unpackbits(np.frombuffer(payload, np.uint8))
    return bits.reshape(ROWS, COLUMNS).astype(bool)


def decode_bits(bits: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """Inverse of ``encode_bits``; raises ``MarksError`` when the checksum does not match."""
    payload = np.packbits(bits.reshape(-1).astype(np.uint8)).tobytes()
    if crc16(payload[:8]) != int.from_bytes(payload[8:10], "big"):
        raise MarksError("the picture's marks fail their checksum: not a fakehw camera frame, "
                         "or too damaged by compression or cropping to read")
    return int.from_bytes(payload[:4], "big"), int.from_bytes(payload[4:8], "big")


def paint_marks(plane: npt.NDArray[np.uint8], cam_id: int, frame_number: int) -> None:
    """Draw the grid into the top of a luma ``plane`` (rows x columns, modified in place)."""
    height, width = plane.shape
    xs, ys = cell_edges(width, height)
    bits = encode_bits(cam_id, frame_number)
    for row in range(ROWS):
        for col in range(COLUMNS):
            value = WHITE if bits[row, col] else BLACK
            plane[ys[row]:ys[row + 1], xs[col]:xs[col + 1]] = value


def _luma(frame: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
    array = np.asarray(frame)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        return np.asarray(array[:, :, :3].mean(axis=2), dtype=np.float64)
    if array.ndim == 2:
        return array.astype(np.float64)
    raise MarksError(f"expected a gray (H, W) or RGB (H, W, 3) picture, got shape {array.shape}")


def read_frame_marks(frame: npt.NDArray[np.generic]) -> tuple[int, int]:
    """``(camera_id, frame_number)`` painted in a decoded picture (gray or RGB, 8 bit).

    Each cell is judged by the mean of its inner half, away from the edges that compression
    blurs, against the midpoint of the 8-bit range.
    """
    luma = _luma(frame)
    height, width = luma.shape
    if width < 2 * COLUMNS or grid_height(height) < 2 * ROWS:
        raise MarksError(f"a {width}x{height} picture is too small to carry marks")
    xs, ys = cell_edges(width, height)
    bits = np.zeros((ROWS, COLUMNS), bool)
    for row in range(ROWS):
        top, bottom = ys[row], ys[row + 1]
        dy = (bottom - top) // 4
        for col in range(COLUMNS):
            left, right = xs[col], xs[col + 1]
            dx = (right - left) // 4
            inner = luma[top + dy:bottom - dy, left + dx:right - dx]
            bits[row, col] = inner.mean() > 127.5
    return decode_bits(bits)
