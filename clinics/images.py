"""How many pixels an uploaded image may have (scanned reports and photos, the clinic's logo, a
doctor's signature), checked from the image's header before a single pixel is decoded.

A PNG of 10,000 x 10,000 pixels can be 12 KB on disk and take hundreds of MB once decoded, so
the file size limit does not bound it. `UPLOAD_MAX_PIXELS` does (40 megapixels unless the
settings say otherwise: a 12-megapixel phone photo or an A4 page scanned at 600 dpi, about 35
megapixels, passes). Pillow's own limit is set to the same number when Vaidya starts
(`limit_pillow`, from `ClinicsConfig.ready()`), so nothing in the process, PDF rendering
included, decodes a larger image; its DecompressionBombWarning and DecompressionBombError are
turned into the same clear refusal here.
"""

from __future__ import annotations

import io
import warnings
from typing import IO

from django.conf import settings
from PIL import Image, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 40_000_000
LOWER_RESOLUTION = "Save or scan it at a lower resolution."


class TooManyPixels(Exception):
    """The message says why, in words for the person uploading, and names the limit."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def max_pixels() -> int:
    """The most pixels (width x height) an uploaded image may have."""
    return int(getattr(settings, "UPLOAD_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def limit_pillow() -> None:
    """Make Pillow refuse, everywhere in the process, images over Vaidya's limit: it warns
    above `Image.MAX_IMAGE_PIXELS` and raises DecompressionBombError above twice that."""
    Image.MAX_IMAGE_PIXELS = max_pixels()


def _megapixels(pixels: int) -> str:
    """48_000_000 -> "48", 1_200_000 -> "1.2"."""
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")


def too_many_pixels(what: str, size: tuple[int, int] | None = None) -> str:
    """The refusal for an image (`what`: "PNG image", "logo") of `size`, when it is known."""
    limit = _megapixels(max_pixels())
    if size is None:
        return (
            f"The {what} has more than {limit} megapixels, the most Vaidya accepts. "
            f"{LOWER_RESOLUTION}"
        )
    width, height = size
    return (
        f"The {what} is {width} x {height} pixels ({_megapixels(width * height)} megapixels); "
        f"the limit is {limit} megapixels. {LOWER_RESOLUTION}"
    )


def check_pixels(source: bytes | IO[bytes], what: str) -> None:
    """TooManyPixels if the image in `source` (its bytes, or a binary file, read from its
    start and left there) has more pixels than `max_pixels()`.

    Only the header is read (Pillow's `Image.open` is lazy; nothing here calls `load()`). A
    file Pillow cannot identify passes: the caller's own checks say what is wrong with it.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            # Over Pillow's limit but under twice it: the size below decides, with the numbers.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                size = image.size
    except Image.DecompressionBombError:
        raise TooManyPixels(too_many_pixels(what)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return
    finally:
        stream.seek(0)
    if size[0] * size[1] > max_pixels():
        raise TooManyPixels(too_many_pixels(what, size))
