"""What staff may upload (lab reports, scans, photos, referral letters), checked by content.

The file's name and the browser's content type are ignored: the first bytes decide what a file
is, images must have at most `UPLOAD_MAX_PIXELS` pixels (read from the header, before anything
is decoded: `clinics/images.py`) and must also decode, and anything else is refused with a
message that says what the file looks like and what is accepted. Pure functions, no database.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from clinics.images import TooManyPixels, check_pixels, too_many_pixels

ACCEPTED_TEXT = "PDF, JPEG, PNG or WebP"


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    label: str
    is_image: bool


PDF = FileType("application/pdf", "pdf", "PDF", False)
JPEG = FileType("image/jpeg", "jpg", "JPEG image", True)
PNG = FileType("image/png", "png", "PNG image", True)
WEBP = FileType("image/webp", "webp", "WebP image", True)

# Known kinds that are refused, to tell the uploader what their file really is.
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xca\xfe\xba\xbe", "a program"),
    (b"\xcf\xfa\xed\xfe", "a Mac program"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"GIF8", "a GIF image"),
    (b"<", "a web page or XML file"),
)


class UploadRefused(Exception):
    """The message says why, in words for the person uploading."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def max_bytes() -> int:
    return settings.UPLOAD_MAX_MB * 1024 * 1024


def sniff(head: bytes) -> FileType | None:
    """The accepted type these first bytes belong to, or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def describe(head: bytes) -> str:
    """What a refused file looks like, for the error message."""
    stripped = head.lstrip()
    for signature, what in _REFUSED_SIGNATURES:
        if stripped.startswith(signature):
            return what
    return "a type Vaidya cannot check"


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def check_size(size: int) -> None:
    """UploadRefused if a file of this many bytes is empty or over the limit."""
    if size == 0:
        raise UploadRefused("The file is empty. Choose the file again, or scan the page again.")
    limit = max_bytes()
    if size > limit:
        raise UploadRefused(
            f"The file is {_size_text(size)}; the limit is {settings.UPLOAD_MAX_MB} MB. "
            "Scan at a lower resolution or split the report."
        )


def check_upload(data: bytes) -> FileType:
    """The file's type if Vaidya accepts it; UploadRefused with a clear message if not."""
    check_size(len(data))
    kind = sniff(data[:64])
    if kind is None:
        raise UploadRefused(
            f"This file is {describe(data[:64])}, not a {ACCEPTED_TEXT} file. "
            f"Vaidya accepts {ACCEPTED_TEXT} files only, whatever the file's name says."
        )
    if kind.is_image:
        _check_image_decodes(data, kind)
    elif b"%%EOF" not in data[-2048:]:
        raise UploadRefused("This PDF is incomplete or damaged (it has no end). Save it again.")
    return kind


def _check_image_decodes(data: bytes, kind: FileType) -> None:
    try:
        check_pixels(data, kind.label)
    except TooManyPixels as exc:
        raise UploadRefused(exc.message) from None
    try:
        with warnings.catch_warnings():
            # Pillow's own limit is Vaidya's (clinics.images.limit_pillow): over it is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused(too_many_pixels(kind.label)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRefused(
            f"This {kind.label} is damaged and cannot be opened. Take the photo or scan again."
        ) from exc
