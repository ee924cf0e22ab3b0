"""PDF rendering: one font configuration per worker thread, reused without leaking between
documents."""

from __future__ import annotations

import io
import threading

from pypdf import PdfReader

from clinics import pdf


def _render(text: str) -> tuple[str, set[str]]:
    html = (
        "<html><body style=\"font-family: 'Noto Sans', 'Noto Sans Devanagari', "
        f"'Noto Sans Kannada', sans-serif\"><p>{text}</p></body></html>"
    )
    reader = PdfReader(io.BytesIO(pdf.html_to_pdf(html)))
    page = reader.pages[0]
    fonts = {
        str(font.get_object()["/BaseFont"]).split("+")[-1]
        for font in page["/Resources"]["/Font"].values()
    }
    return page.extract_text(), fonts


def test_documents_rendered_one_after_another_each_carry_only_their_own_fonts():
    first_text, first_fonts = _render("कविता रेड्डी")
    second_text, second_fonts = _render("Ravi Kumar")
    _text, third_fonts = _render("ಕವಿತಾ ರೆಡ್ಡಿ")

    assert "कविता रेड्डी" in first_text
    assert any("Devanagari" in f for f in first_fonts), first_fonts
    assert "Ravi Kumar" in second_text
    # The worker's shared font configuration does not drag the earlier Devanagari font along.
    assert not any("Devanagari" in f for f in second_fonts), second_fonts
    assert any("Kannada" in f for f in third_fonts), third_fonts
    assert not any("Devanagari" in f for f in third_fonts), third_fonts


def test_the_font_configuration_is_kept_per_thread():
    mine = pdf._font_config()
    assert pdf._font_config() is mine
    theirs = []
    worker = threading.Thread(target=lambda: theirs.append(pdf._font_config()))
    worker.start()
    worker.join()
    assert theirs and theirs[0] is not mine
