"""The picture's marks survive H.264 and rescaling; the text font is legible and complete."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from fakehw.camera import MarksError, camera_id, font, read_frame_marks
from fakehw.camera.marks import decode_bits, encode_bits
from fakehw.camera.picture import FramePainter

pytestmark = pytest.mark.unit


def test_camera_id_is_a_stable_32_bit_hash() -> None:
    # Pinned: the conformance suite compares against ids computed elsewhere.
    assert camera_id("front-door") == 0x2939AD6C
    assert camera_id("cam0") == 0x63BA21B7


@pytest.mark.parametrize("size", [(64, 64), (320, 240), (640, 360), (1920, 1080)])
def test_marks_read_back_from_the_luma_plane(size: tuple[int, int]) -> None:
    width, height = size
    painter = FramePainter("front-door", width, height)
    luma = painter.paint(123456789)[:height]
    assert read_frame_marks(luma) == (camera_id("front-door"), 123456789)


def test_marks_survive_rescaling_and_rgb() -> None:
    luma = FramePainter("cam0", 640, 360).paint(42)[:360].copy()
    half = luma[::2, ::2]
    rgb = np.repeat(luma[:, :, None], 3, axis=2)
    assert read_frame_marks(half) == (camera_id("cam0"), 42)
    assert read_frame_marks(rgb) == (camera_id("cam0"), 42)


def test_marks_survive_noise() -> None:
    luma = FramePainter("cam0", 320, 240).paint(7)[:240].astype(np.int16)
    noisy = np.clip(luma + np.random.default_rng(1).normal(0, 30, luma.shape), 0, 255)
    assert read_frame_marks(noisy.astype(np.uint8)) == (camera_id("cam0"), 7)


def test_marks_survive_h264() -> None:
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"
    encoder.time_base = Fraction(1, 10)
    encoder.options = {"preset": "ultrafast", "tune": "zerolatency"}
    decoder = av.CodecContext.create("h264", "r")
    painter = FramePainter("cam0", 320, 240)
    read = []
    for number in range(0, 3000, 100):
        frame = av.VideoFrame.from_ndarray(painter.paint(number), format="yuv420p")
        frame.pts = number
        for packet in encoder.encode(frame):
            read += [read_frame_marks(p.to_ndarray(format="gray")) for p in decoder.decode(packet)]
    assert read == [(camera_id("cam0"), n) for n in range(0, 3000, 100)]


def test_a_flipped_cell_fails_the_checksum() -> None:
    bits = encode_bits(camera_id("cam0"), 5)
    assert decode_bits(bits) == (camera_id("cam0"), 5)
    bits[3, 4] = ~bits[3, 4]
    with pytest.raises(MarksError, match="checksum"):
        decode_bits(bits)


def test_pictures_without_marks_are_refused() -> None:
    with pytest.raises(MarksError, match="checksum"):
        read_frame_marks(np.zeros((240, 320), np.uint8))
    with pytest.raises(MarksError, match="too small"):
        read_frame_marks(np.zeros((8, 8), np.uint8))
    with pytest.raises(MarksError, match="shape"):
        read_frame_marks(np.zeros((4, 4, 4, 4), np.uint8))


def test_every_glyph_is_distinct() -> None:
    shapes = {bitmap.tobytes() for bitmap in font.GLYPHS.values()}
    assert len(shapes) == len(font.GLYPHS)


def test_text_renders_glyph_by_glyph() -> None:
    image = font.render("a1", scale=2)
    assert image.shape == (14, font.text_width(2, 2))
    assert (image[::2, :10:2] == font.glyph("A")).all()
    assert (image[::2, 12::2] == font.glyph("1")).all()
    assert (font.glyph("~") == font.glyph("?")).all()


def test_counter_text_changes_with_the_frame() -> None:
    painter = FramePainter("cam0", 320, 240)
    text_rows = slice(160, 240)
    first = painter.paint(1)[text_rows].copy()
    second = painter.paint(2)[text_rows].copy()
    assert (first != second).any()
    assert first.max() == 235  # white text on the dark background
