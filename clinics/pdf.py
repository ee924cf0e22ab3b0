"""PDF rendering with WeasyPrint, for every document Vaidya prints.

Templates under `templates/pdf/` extend `pdf/base.html` (letterhead, footer with page numbers,
verification QR code). Rendering never reaches the network or the disk on a template's behalf:
the URL fetcher accepts `data:` URLs only, so images (logo, signature, QR code) are embedded by
the caller with `image_data_uri` and `qr_data_uri`.

WeasyPrint is imported on first use: importing it costs about half a second, which web
processes that never render should not pay. Workers render warm after their first document.
That is why its imports sit inside the functions here.
"""

from __future__ import annotations

import base64
import io
import logging
import threading
from typing import Any

import qrcode
from django.db.models.fields.files import FieldFile
from django.template.loader import render_to_string
from qrcode.image.pil import PilImage

logger = logging.getLogger(__name__)

PDF_CONTENT_TYPE = "application/pdf"


def _fetcher():
    # Lazy on purpose (PLC0415): WeasyPrint costs half a second to import (see the docstring).
    from weasyprint.urls import URLFetcher  # noqa: PLC0415

    # data: URLs only, and any other URL stops the render instead of being skipped quietly.
    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


_local = threading.local()


def _font_config():
    """This thread's WeasyPrint font configuration, made once and kept.

    WeasyPrint otherwise makes a new one for every document, and with it a new Pango font map
    whose fonts (Noto Sans in several weights, Noto Sans Devanagari, ...) are opened and shaped
    from scratch: about a quarter of a warm prescription's render. Vaidya's templates declare no
    @font-face, so nothing document-specific is ever added to it. One per thread, because
    Pango's font maps are not meant to be shared between threads.
    """
    config = getattr(_local, "font_config", None)
    if config is None:
        # Lazy on purpose (PLC0415): WeasyPrint loads on the first render only.
        from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415

        config = _local.font_config = FontConfiguration()
    return config


def html_to_pdf(html: str) -> bytes:
    """Render an HTML string to PDF bytes."""
    # Lazy on purpose (PLC0415): WeasyPrint loads on the first render only.
    from weasyprint import HTML  # noqa: PLC0415

    document = HTML(string=html, url_fetcher=_fetcher(), base_url=None)
    return document.write_pdf(font_config=_font_config())


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render a template under templates/pdf/ to PDF bytes."""
    return html_to_pdf(render_to_string(template, context))


def _sniff_image(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return ""


def image_data_uri(field: FieldFile | None) -> str:
    """A stored PNG or JPEG (logo, signature) as a data: URL, or "" if none or unreadable.

    A missing or damaged image must not stop a prescription from printing: it is left out and
    the problem logged (without the key, which holds no personal data anyway).
    """
    if not field:
        return ""
    try:
        with field.open("rb") as fh:
            data = fh.read()
    except Exception:
        logger.warning("A stored image could not be read for a document; printing without it.")
        return ""
    content_type = _sniff_image(data)
    if not content_type:
        return ""
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def png_data_uri(data: bytes) -> str:
    return f"data:image/png;base64,{base64.b64encode(data).decode('ascii')}"


def qr_data_uri(text: str) -> str:
    """A QR code for `text` as a PNG data: URL (4 pixels a module, a few hundred bytes).

    A PNG rather than an SVG: WeasyPrint parses an SVG's one path per module on every render,
    which cost a prescription 35-70 ms.
    """
    qr = qrcode.QRCode(border=1, box_size=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(image_factory=PilImage).save(buffer)
    return png_data_uri(buffer.getvalue())
