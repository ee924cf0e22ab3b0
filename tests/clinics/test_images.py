"""The pixel limit on uploaded images, read from the header before anything is decoded."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from clinics.images import DEFAULT_MAX_PIXELS, TooManyPixels, check_pixels, max_pixels


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, format="PNG")
    return buffer.getvalue()


def test_pillow_refuses_what_vaidya_refuses():
    assert max_pixels() == DEFAULT_MAX_PIXELS == 40_000_000
    assert max_pixels() == Image.MAX_IMAGE_PIXELS


def test_a_huge_canvas_is_refused_from_its_header_and_the_file_is_left_at_its_start():
    stream = io.BytesIO(png((10_000, 10_000)))
    with pytest.raises(TooManyPixels, match="more than 40 megapixels"):
        check_pixels(stream, "photo")
    assert stream.tell() == 0


def test_the_limit_itself_and_files_pillow_cannot_read_pass(settings):
    settings.UPLOAD_MAX_PIXELS = 2_000_000
    check_pixels(png((2_000, 1_000)), "photo")
    check_pixels(b"%PDF-1.7 not an image", "photo")
    with pytest.raises(TooManyPixels, match=r"2001 x 1000 pixels \(2 megapixels\)"):
        check_pixels(png((2_001, 1_000)), "photo")
